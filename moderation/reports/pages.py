"""The report pages as a finished run makes them, for the views and the analysis job alike.

Charts. Rendering the charts of a district's report takes seconds (vl-convert's engine starts
in about 1.5 s in a new process, then each chart takes tens to hundreds of milliseconds), too
long for a page. So the job, once the engine is done, builds the pages a district-wide coach
reads (the round report and the schools page) and stores every chart they draw as a part of the
run (analysis.models.chart_part_name), keyed by round_report.chart_key. A page then builds
itself with StoredCharts: a chart already in the process's cache is used as it is, else the
stored one is read (one small query), and only a chart nobody stored is rendered on the spot.
Those are the views that differ from the district-wide coach's in their data: a school-scoped
coach's raters, or a district whose coaches see names.

Pages. A finished run never changes, so a built page is kept in the process (PAGE_CACHE) by
its run and everything its reader's view depends on (the audience, the district's thresholds,
the round's rating period): reading a district's raters part (megabytes of JSON) and
relabelling it for the reader took most of a page's time. A change of settings or of who may
see what makes another key, and so another page.

The job and the views build the pages with the same arguments (round_page_args), so the stored
chart keys are the ones the pages ask for.
"""

from __future__ import annotations

from collections.abc import Callable

from moderation.analysis import queries as analysis_queries
from moderation.analysis.models import SCOPE_ROUND, AnalysisRun, chart_part_name
from moderation.analysis.services import split_report
from moderation.core.extensions import db
from moderation.reports import permissions, queries, round_report
from moderation.reports.audience import Audience
from moderation.reports.charts import Chart
from moderation.reports.round_report import CHART_CACHE, ChartCache, LruCache, chart_key
from moderation.scoring.models import ScoringRound
from moderation.settings.queries import Settings, settings_for

# Pages kept per process: a few readers' views of a few recent runs.
PAGE_CACHE_SIZE = 32
PAGE_CACHE: LruCache = LruCache(PAGE_CACHE_SIZE)


def round_page_args(scoring_round: ScoringRound, audience: Audience,
                    settings: Settings) -> dict:
    """round_report.build's arguments besides the fields and the charts."""
    return {"thresholds": (settings.alpha_discard, settings.alpha_rely),
            "period": queries.rating_period(scoring_round.id) if audience.shows_raters
            else None}


def round_page(scoring_round: ScoringRound, run: AnalysisRun, audience: Audience,
               settings: Settings) -> round_report.RoundReport:
    """The round report's sections from the finished run's PAGE_PARTS, as `audience` reads
    them."""
    args = round_page_args(scoring_round, audience, settings)
    return PAGE_CACHE.get_by_key(
        _page_key("round", run, audience, args),
        lambda: round_report.build(queries.parts(run.id, *round_report.PAGE_PARTS), audience,
                                   **args, cache=StoredCharts(run.id)))


def schools_page(scoring_round: ScoringRound, run: AnalysisRun,
                 audience: Audience) -> round_report.SchoolsReport:
    """The schools page's sections from the finished run's SCHOOL_PARTS, as `audience` reads
    them."""
    context = queries.context_values(scoring_round.district_id)
    return PAGE_CACHE.get_by_key(
        _page_key("schools", run, audience, context),
        lambda: round_report.build_schools(queries.parts(run.id, *round_report.SCHOOL_PARTS),
                                           audience, context, cache=StoredCharts(run.id)))


def _page_key(page: str, run: AnalysisRun, audience: Audience, args) -> str:
    """The page's identity: the run (its id, input and when it finished: ids start again in
    a new database) and the reader's view."""
    view = {"raters": dict(audience.raters), "shows_raters": audience.shows_raters,
            "schools": dict(audience.schools), "criteria": dict(audience.criteria),
            "school_scope": None if audience.school_scope is None
            else sorted(audience.school_scope)}
    return f"{page}:{run.id}:" + chart_key(page, [run.input_hash, run.finished_at, view, args])


class StoredCharts:
    """The charts stored with one run, behind the process's cache."""

    def __init__(self, run_id: int, cache: ChartCache = CHART_CACHE):
        self.run_id, self.cache = run_id, cache

    def get(self, name: str, data, build: Callable[[], Chart]) -> Chart:
        key = chart_key(name, data)
        return self.cache.get_by_key(key, lambda: self._stored(key) or build())

    def _stored(self, key: str) -> Chart | None:
        data = analysis_queries.run_part(self.run_id, chart_part_name(key))
        return None if data is None else Chart.from_data(data)


class ChartRecorder:
    """Renders (or takes from the process's cache) every chart asked for, and keeps them."""

    def __init__(self, cache: ChartCache = CHART_CACHE):
        self.cache = cache
        self.charts: dict[str, Chart] = {}

    def get(self, name: str, data, build: Callable[[], Chart]) -> Chart:
        key = chart_key(name, data)
        chart = self.charts[key] = self.cache.get_by_key(key, build)
        return chart


def draw(run: AnalysisRun, report: dict) -> dict[str, dict]:
    """Registered with the analysis job: the charts of a finished round run's pages as a
    district-wide coach reads them (a district administrator's are among them: the same
    criteria and schools, without raters), as stored parts by name."""
    if run.scope_type != SCOPE_ROUND:
        return {}
    scoring_round = db.session.get(ScoringRound, run.scope_id)
    settings = settings_for(scoring_round.district_id)
    audience = permissions.district_coach_audience(scoring_round, settings)
    recorder = ChartRecorder()
    parts = split_report(report)
    round_report.build(_fields(parts, round_report.PAGE_PARTS), audience,
                       **round_page_args(scoring_round, audience, settings), cache=recorder)
    round_report.build_schools(_fields(parts, round_report.SCHOOL_PARTS), audience,
                               queries.context_values(scoring_round.district_id),
                               cache=recorder)
    return {chart_part_name(key): chart.as_data() for key, chart in recorder.charts.items()}


def _fields(parts: dict[str, dict], names: tuple[str, ...]) -> dict:
    """The fields of the named parts, as a page reads them from the stored run (only those:
    relabelling the whole report for the reader took a second at district scale)."""
    fields: dict = {}
    for name in names:
        fields.update(parts.get(name) or {})
    return fields
