"""A past moderation of every demo school, imported as a district would bring its spreadsheet.

A step of `flask seed-demo` (SEED_STEPS), after the rounds. Each demo round spans one grade
band's three schools: too few for the equity analysis (it needs five schools with figures) and
for a district administrator to see school standards side by side. So the demo also holds a
moderation of a common opinion-writing task across all nine schools, from last spring, brought
in through the product's own import (`scoring.imports.import_round`, as `flask ratings import`
does) and analysed like any closed round.

Its scores come from the synthetic district model (seed_data/synthetic.py): three teachers of
each school (the first three of demo_district.json, by email) scored blind, half the samples
carry their class teacher's own score, and no relation to school context is planted. Each school
brought 20 samples, the last two schools 14, so a district that raises its suppression rule
above 14 cross-marked samples sees those two counted, not shown.
"""

import csv
import tempfile
from datetime import timedelta
from pathlib import Path

from moderation.accounts.models import District
from moderation.analysis import services as analysis_services
from moderation.core.db import utcnow
from moderation.scoring import imports
from moderation.scoring import queries as scoring_queries
from rubrics import queries as rubric_queries

NAME = "Past moderation: opinion writing, all schools"
RUBRIC = "Opinion Writing"
RATERS_PER_SCHOOL = 3
SAMPLES_PER_SCHOOL, SAMPLES_OF_THE_LAST_TWO = 20, 14
DAYS_AGO, LENGTH_DAYS = 250, 60
SEED = 12


def seed_demo_past_moderation(spec: dict, district: District) -> None:
    """Import the past moderation unless it exists, and ask for its analysis."""
    if NAME in {r.name for r in scoring_queries.rounds_for_district(district.id)}:
        return
    versions = [v for v in rubric_queries.versions_for_district(district.id, ready_only=True)
                if v.rubric.title == RUBRIC]
    if not versions:
        return
    version = versions[-1]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "past-moderation.csv"
        _write_ratings(path, spec, [criterion.name for criterion in version.criteria])
        result = imports.import_round(district, version, path, NAME)
    analysis_services.request_round_run(result.round, None)


def _write_ratings(path: Path, spec: dict, criteria: list[str]) -> None:
    """The model's ratings in the engine's file format, with the demo's schools, criteria and
    teachers (by email) for the model's codes."""
    from seed_data.synthetic import DistrictParams, generate_district  # pandas, only seeding

    schools = spec["schools"]
    start = utcnow() - timedelta(days=DAYS_AGO)
    ratings, _ = generate_district(DistrictParams(
        n_schools=len(schools), raters_per_school=RATERS_PER_SCHOOL,
        samples=SAMPLES_PER_SCHOOL * len(schools), criteria=len(criteria), anchors=0,
        local_fraction=0.5, term_start=start.strftime("%Y-%m-%d"),
        term_days=float(LENGTH_DAYS)), seed=SEED)
    ratings = ratings[~ratings["sample"].isin(_left_at_home(ratings, len(schools)))]
    names = {f"S{n}": school["name"] for n, school in enumerate(schools, 1)}
    names |= {f"C{n}": name for n, name in enumerate(criteria, 1)}
    raters = _teachers_for_raters(ratings, schools)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ratings.columns)
        for row in ratings.itertuples(index=False):
            writer.writerow([raters.get(row.rater, ""), row.sample, names[row.criterion],
                             row.score, row.scored_at.isoformat(), names[row.rater_school],
                             names[row.sample_school], row.kind])


def _left_at_home(ratings, n_schools: int) -> list[str]:
    """The samples of the last two schools beyond SAMPLES_OF_THE_LAST_TWO."""
    last_two = {f"S{n_schools - 1}", f"S{n_schools}"}
    return [sample for school, samples in
            ratings.groupby("sample_school")["sample"].unique().items() if school in last_two
            for sample in samples[SAMPLES_OF_THE_LAST_TWO:]]


def _teachers_for_raters(ratings, schools: list[dict]) -> dict[str, str]:
    """The model's rater code -> the email of a teacher of the same school, in order."""
    emails: dict[str, str] = {}
    by_school = ratings.dropna(subset=["rater_school"]).groupby("rater_school")["rater"]
    for school, raters in by_school.unique().items():
        teachers = schools[int(school.removeprefix("S")) - 1]["teachers"]
        emails |= {rater: teacher["email"]
                   for rater, teacher in zip(sorted(raters), teachers, strict=False)}
    return emails
