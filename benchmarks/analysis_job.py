"""The analysis of a district end to end on PostgreSQL: import, analysis job, report pages.

1. Generates the synthetic district of benchmarks/ratings_import.py (about a million ratings),
   gives its schools their low-income share (the generator's school context) so the equity
   analysis runs, and imports it with `flask ratings import`'s service.
2. Runs the analysis as `flask analysis run` does (analysis.services.request_round_run, then
   run_job) and prints the job's time by the steps its run records.
3. Reads the report from the finished run as a district-wide coach, a district administrator
   and a school-scoped coach: the round report, the schools page and the JSON and XLSX
   exports, each page a first view (its first request in this process) and then N requests,
   timed in-process with Flask's test client (server time: no network, no browser).

Prints the figures against the targets (job under 20 s, each page's p95 under 200 ms) and the
machine's load average at the start and the end, since the machine may be shared. The database
is created beside DATABASE_URL's (default: the local PostgreSQL), migrated and dropped.

    .venv/bin/python benchmarks/analysis_job.py               # ~1M ratings
    ... benchmarks/analysis_job.py --requests 5 --export-requests 2   # while the coach's round
        # report renders its charts per request (about 45 s each at a million ratings)
    .venv/bin/python benchmarks/analysis_job.py --small       # 50,000 ratings, a quick check
    ... benchmarks/analysis_job.py --ratings 200000 --requests 10 --keep
"""

import argparse
import math
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("APP_ENV", "testing")
os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

from app import create_app  # noqa: E402
from benchmarks.postgres import fresh_database  # noqa: E402
from benchmarks.ratings_import import district_file, import_file, migrate, prepare  # noqa: E402
from moderation.accounts import schools as school_services  # noqa: E402
from moderation.accounts import services as account_services  # noqa: E402
from moderation.accounts.models import District, MeasureUnit, Role, School  # noqa: E402
from moderation.analysis import services as analysis_services  # noqa: E402
from moderation.analysis.models import AnalysisRun  # noqa: E402
from moderation.core.extensions import db  # noqa: E402
from moderation.scoring.models import ScoringRound  # noqa: E402
from seed_data.synthetic import DistrictParams  # noqa: E402

JOB_TARGET_SECONDS = 20.0
PAGE_TARGET_MS = 200.0
SMALL_RATINGS = 50_000
# The ratings_import district (300 schools, 60,000 samples) is 1.03M rows; --ratings scales
# its schools and samples by N / this, keeping its shape (raters per school, design).
FULL_RATINGS = 1_000_000
PASSWORD = "bench-analysis-2026"
CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Reader:
    """Someone who reads the report, and the pages they are meant to reach."""

    label: str
    email: str
    role: Role
    at_first_school: bool = False
    reaches_schools_page: bool = True


READERS = (
    Reader("district-wide coach", "coach@bench.example", Role.COACH),
    Reader("district administrator", "admin@bench.example", Role.DISTRICT_ADMIN),
    Reader("school-scoped coach", "school.coach@bench.example", Role.COACH,
           at_first_school=True, reaches_schools_page=False),
)
PAGES = {"round report": "/reports/rounds/{id}", "schools page": "/reports/rounds/{id}/schools",
         "report.json": "/reports/rounds/{id}/report.json",
         "report.xlsx": "/reports/rounds/{id}/report.xlsx"}
EXPORTS = ("report.json", "report.xlsx")


def district_params(ratings: int) -> DistrictParams:
    """The ratings_import district, its schools and samples scaled to about `ratings`."""
    full = DistrictParams()
    scale = ratings / FULL_RATINGS
    return replace(full, n_schools=max(4, round(full.n_schools * scale)),
                   samples=max(200, round(full.samples * scale)))


def add_school_context(district_id: int) -> None:
    """A low-income share for each school, through the schools' services. Drawn here: the
    generator plants no relation to it in this district, and then gives every school 0.5,
    which the equity analysis cannot relate anything to."""
    district = db.session.get(District, district_id)
    measure = school_services.add_measure(district, None, "Low-income share", MeasureUnit.SHARE,
                                          key="low_income_share")
    shares = np.random.default_rng(0).uniform(0.05, 0.95, len(district.schools))
    for school, share in zip(district.schools, shares, strict=True):
        figure = school_services.Figure(round(float(share), 3), 2025,
                                        "Synthetic district (benchmark)")
        school_services.edit_school(school, None, school.name, school.grade_band,
                                    {measure.id: figure})
    db.session.commit()


def add_readers(district_id: int) -> None:
    """The READERS' accounts, with the PASSWORD they log in with."""
    district = db.session.get(District, district_id)
    first_school = db.session.execute(db.select(School).where(
        School.district_id == district_id).order_by(School.name).limit(1)).scalar_one()
    for reader in READERS:
        user = account_services.create_user(reader.email, reader.label.title(), PASSWORD)
        account_services.grant_role(user, reader.role, district,
                                    first_school if reader.at_first_school else None)
    db.session.commit()


def run_analysis(round_id: int) -> tuple[AnalysisRun, float, float]:
    """`flask analysis run`: the run asked for, then computed here. The run, the seconds of the
    request (it reads the ratings to hash them) and the wall seconds of the job."""
    started = time.perf_counter()
    run = analysis_services.request_round_run(db.session.get(ScoringRound, round_id), None,
                                              enqueue=False)
    db.session.commit()
    requested = time.perf_counter()
    analysis_services.run_job(run.id)
    done = time.perf_counter()
    db.session.expire_all()
    return db.session.get(AnalysisRun, run.id), requested - started, done - requested


def logged_in_client(app, email: str):
    client = app.test_client()
    token = CSRF_PATTERN.search(client.get("/login").text).group(1)
    answer = client.post("/login", data={"email": email, "password": PASSWORD,
                                         "csrf_token": token})
    if answer.status_code != 302:
        sys.exit(f"Could not log in as {email} (status {answer.status_code}).")
    return client


def timed_get(client, path: str) -> tuple[float, int, int]:
    """Milliseconds of one request, its status and its body's size."""
    started = time.perf_counter()
    answer = client.get(path)
    body = answer.get_data()
    return (time.perf_counter() - started) * 1000, answer.status_code, len(body)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 30 values is the 29th)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]


def measure_pages(app, round_id: int, requests: int, export_requests: int) -> None:
    """Each reader's pages, a line each as it is measured (a district's take a while)."""
    print(f"\nReport pages, server time in ms (first view, then p50 / p95 / max of n; "
          f"target p95 < {PAGE_TARGET_MS:.0f} ms)")
    print(f"  {'reader':<24}{'page':<14}{'first':>8}{'n':>4}{'p50':>8}{'p95':>8}{'max':>8}"
          f"{'size':>10}")
    for reader in READERS:
        client = logged_in_client(app, reader.email)
        for page, template in PAGES.items():
            path = template.format(id=round_id)
            first, status, size = timed_get(client, path)
            if page == "schools page" and not reader.reaches_schools_page:
                print(f"  {reader.label:<24}{page:<14}  refused ({status}), as designed")
                continue
            if status != 200:
                sys.exit(f"{reader.label}: {path} answered {status}.")
            times = [timed_get(client, path)[0]
                     for _ in range(export_requests if page in EXPORTS else requests)]
            print_page(reader.label, page, first, times, size)


def print_page(reader: str, page: str, first: float, times: list[float], size: int) -> None:
    p95 = percentile(times, 0.95)
    verdict = "" if page in EXPORTS else ("  ok" if p95 < PAGE_TARGET_MS else "  MISSED")
    print(f"  {reader:<24}{page:<14}{first:>8.0f}{len(times):>4}"
          f"{statistics.median(times):>8.1f}{p95:>8.1f}{max(times):>8.1f}"
          f"{size / 1024:>8.0f}kB{verdict}", flush=True)


def print_job(run: AnalysisRun, request_seconds: float, job_seconds: float) -> None:
    print(f"\nAnalysis run {run.id}: {run.status.value}, {run.n_ratings:,} ratings"
          + (f" ({run.error})" if run.error else ""))
    print(f"  {'request (queues the run, reads no ratings)':<48}{request_seconds:>8.2f} s")
    for step in run.step_timings:
        print(f"  {step['name']:<48}{step['seconds']:>8.2f} s")
    # A step's time is recorded when the next one begins, so the last step's is not: it is
    # what the job took beyond the recorded steps.
    recorded = sum(step["seconds"] for step in run.step_timings)
    print(f"  {'the last step (not in step_timings)':<48}{job_seconds - recorded:>8.2f} s")
    verdict = "ok" if job_seconds < JOB_TARGET_SECONDS else "MISSED"
    print(f"  {'job total (run_job, claim to stored result)':<48}{job_seconds:>8.2f} s   "
          f"target < {JOB_TARGET_SECONDS:.0f} s: {verdict}", flush=True)


def run(params: DistrictParams, url: str, requests: int, export_requests: int) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        path, schools, criteria = district_file(params, Path(folder))
        print(f"Generated {params.n_schools} schools, {params.samples:,} samples: "
              f"{path.stat().st_size / 2**20:.0f} MB of CSV in "
              f"{time.perf_counter() - started:.1f} s")
        with app.app_context():
            migrate()
            district_id, version_id = prepare(criteria, schools, params.levels)
            add_school_context(district_id)
            add_readers(district_id)
            result, seconds, total = import_file(district_id, version_id, path)
            print(f"\nImport (flask ratings import): {result.ratings:,} ratings by "
                  f"{result.raters:,} raters, {result.samples:,} samples")
            for step, step_seconds in seconds.items():
                print(f"  {step:<48}{step_seconds:>8.2f} s")
            print(f"  {'import total':<48}{total:>8.2f} s   "
                  f"{result.ratings / total:,.0f} ratings/s")
            round_id = result.round.id
            print_job(*run_analysis(round_id))
        # Outside the app context: each request has its own, and its own session, as served.
        measure_pages(app, round_id, requests, export_requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ratings", type=int, default=FULL_RATINGS,
                        help="about this many ratings (default: the ratings_import district, "
                             "1.03M rows)")
    parser.add_argument("--small", action="store_true",
                        help=f"a quick check: --ratings {SMALL_RATINGS:,}")
    parser.add_argument("--requests", type=int, default=30,
                        help="timed requests of each page after its first view (default 30)")
    parser.add_argument("--export-requests", type=int, default=5,
                        help="timed requests of each export (default 5)")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    if args.requests < 1 or args.export_requests < 1:
        parser.error("--requests and --export-requests must be at least 1")
    params = district_params(SMALL_RATINGS if args.small else args.ratings)
    print(f"Load average at start: {os.getloadavg()[0]:.2f} (1 min), "
          f"{os.getloadavg()[1]:.2f} (5 min), {os.cpu_count()} processors")
    with fresh_database("moderation_bench_analysis", keep=args.keep) as url:
        run(params, url, args.requests, args.export_requests)
    print(f"Load average at end: {os.getloadavg()[0]:.2f} (1 min), "
          f"{os.getloadavg()[1]:.2f} (5 min)")


if __name__ == "__main__":
    main()
