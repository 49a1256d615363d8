"""Time of `flask ratings import` on PostgreSQL: a district's past moderation of a million ratings.

Generates the synthetic district of the statistics benchmark (seed_data.synthetic: 300 schools,
3,000 raters known by codes, 60,000 samples of 5 criteria with 3 blind ratings each, local
scores of a fifth of them, 5 anchors scored by every rater: about 1.04 million rows), writes it
as a CSV, and imports it into a fresh database next to the one DATABASE_URL names (created,
migrated and dropped here) whose district has the 300 schools and the rubric already. Prints
the wall time of each step of the import (read and validate, people and schools, samples and
anchors, ratings insert, commit) and the ratings per second of the whole.

The generator leaves the anchors without a school; a file must give every sample one, so they
are put at the first school here.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/ratings_import.py
    ... benchmarks/ratings_import.py --schools 60 --samples 12000     # smaller
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("APP_ENV", "testing")

from app import create_app  # noqa: E402
from benchmarks.postgres import fresh_database  # noqa: E402
from moderation.accounts.models import District, School  # noqa: E402
from moderation.core.extensions import db  # noqa: E402
from moderation.scoring.imports import ImportResult, import_round  # noqa: E402
from rubrics import services as rubric_services  # noqa: E402
from rubrics.models import RubricVersion  # noqa: E402
from seed_data.synthetic import DistrictParams, generate_district  # noqa: E402


def district_file(params: DistrictParams, folder: Path) -> tuple[Path, list[str], list[str]]:
    """The synthetic ratings as a CSV; its school names and criterion names."""
    ratings, _ = generate_district(params, seed=0)
    schools = sorted(ratings["sample_school"].dropna().unique())
    ratings["sample_school"] = ratings["sample_school"].fillna(schools[0])
    path = folder / "past_moderation.csv"
    ratings.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    return path, schools, sorted(ratings["criterion"].unique())


def prepare(criteria: list[str], schools: list[str], levels: int) -> tuple[int, int]:
    """The district with its schools and a rubric of the file's criteria; their ids."""
    district = District(name="Bench District")
    db.session.add(district)
    db.session.flush()
    db.session.add_all(School(district_id=district.id, name=name) for name in schools)
    version = rubric_services.create_rubric(
        district.id, title="Bench Rubric", subject="English Language Arts", grade_band="9-10",
        description="The benchmark's rubric.", actor=None)
    for name in criteria:
        criterion = rubric_services.add_criterion(
            version, name=name, description=name, student_friendly=name, standard_codes="")
        for score in range(1, levels + 1):
            rubric_services.add_level(criterion, score=score, label=f"Level {score}",
                                      descriptor=f"Level {score}", student_friendly="",
                                      is_proficient=score == 3)
    db.session.commit()
    return district.id, version.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schools", type=int, default=DistrictParams.n_schools)
    parser.add_argument("--samples", type=int, default=DistrictParams.samples)
    args = parser.parse_args()
    with fresh_database("moderation_bench_import") as url:
        run(DistrictParams(n_schools=args.schools, samples=args.samples), url)


def run(params: DistrictParams, url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        path, schools, criteria = district_file(params, Path(folder))
        print(f"Generated {path.stat().st_size / 2**20:.0f} MB of CSV in "
              f"{time.perf_counter() - started:.1f} s")
        with app.app_context():
            migrate()
            district_id, version_id = prepare(criteria, schools, params.levels)
            result, seconds, total = import_file(district_id, version_id, path)
    print(f"Imported {result.ratings:,} ratings ({result.local_ratings:,} local) by "
          f"{result.raters:,} raters ({result.new_raters:,} new), {result.samples:,} samples, "
          f"{result.anchors} anchors; PostgreSQL, load average "
          f"{os.getloadavg()[0]:.1f}")
    for step, step_seconds in seconds.items():
        print(f"  {step:<32}{step_seconds:>8.2f} s")
    print(f"  {'total':<32}{total:>8.2f} s   {result.ratings / total:,.0f} ratings/s")


def migrate() -> None:
    """The fresh database at the latest migration (in the app's context)."""
    from flask_migrate import upgrade

    upgrade(directory=str(Path(__file__).resolve().parents[1] / "migrations"))


def import_file(district_id: int, version_id: int, path: Path
                ) -> tuple[ImportResult, dict[str, float], float]:
    """`flask ratings import`'s service on the file, committed (in the app's context): what it
    made, the seconds of each of its steps and the commit, and the wall time of the whole."""
    started = time.perf_counter()
    result = import_round(db.session.get(District, district_id),
                          db.session.get(RubricVersion, version_id), path, "Past moderation")
    committing = time.perf_counter()
    db.session.commit()
    done = time.perf_counter()
    return result, {**result.seconds, "commit": done - committing}, done - started


if __name__ == "__main__":
    main()
