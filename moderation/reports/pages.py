"""A run's charts: drawn once by the analysis job, stored with the run, read by the pages.

Rendering the charts of a district's report takes seconds (vl-convert's engine starts in about
1.5 s in a new process, then each chart takes tens to hundreds of milliseconds), too long for a
page. So the job, once the engine is done, builds the pages a district-wide coach reads (the
round report and the schools page) and stores every chart they draw as a part of the run
(analysis.models.chart_part_name), keyed by round_report.chart_key. A page then builds itself
with StoredCharts: a chart already in the process's cache is used as it is, else the stored
one is read (one small query), and only a chart nobody stored is rendered on the spot. Those
are the views that differ from the district-wide coach's in their data: a school-scoped coach's
raters, or a district whose coaches see names.

The two page builders live here because the job and the views must build the same pages, with
the same arguments, for the stored keys to be the ones the pages ask for.
"""

from __future__ import annotations

from collections.abc import Callable

from moderation.analysis import queries as analysis_queries
from moderation.analysis.models import SCOPE_ROUND, AnalysisRun, chart_part_name
from moderation.core.extensions import db
from moderation.reports import permissions, queries, round_report
from moderation.reports.audience import Audience
from moderation.reports.charts import Chart
from moderation.reports.round_report import CHART_CACHE, ChartCache, chart_key
from moderation.scoring.models import ScoringRound
from moderation.settings.queries import Settings, settings_for


def round_page(scoring_round: ScoringRound, fields: dict, audience: Audience,
               settings: Settings, charts: round_report.ChartSource) -> round_report.RoundReport:
    """The round report's sections from the run's PAGE_PARTS fields."""
    return round_report.build(
        fields, audience, thresholds=(settings.alpha_discard, settings.alpha_rely),
        period=queries.rating_period(scoring_round.id) if audience.shows_raters else None,
        cache=charts)


def schools_page(scoring_round: ScoringRound, fields: dict, audience: Audience,
                 charts: round_report.ChartSource) -> round_report.SchoolsReport:
    """The schools page's sections from the run's SCHOOL_PARTS fields."""
    return round_report.build_schools(fields, audience,
                                      queries.context_values(scoring_round.district_id),
                                      cache=charts)


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
    round_page(scoring_round, report, audience, settings, recorder)
    schools_page(scoring_round, report, audience, recorder)
    return {chart_part_name(key): chart.as_data() for key, chart in recorder.charts.items()}
