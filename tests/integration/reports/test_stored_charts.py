"""A run's charts are drawn by its job and stored with it (reports.pages): a new process
serves a district-wide coach's and a district administrator's pages without drawing anything;
a view whose data differs (a school coach's own raters) draws what it lacks; and a chart that
fails to draw leaves the run finished, its pages drawing for themselves."""

import pytest

from moderation.analysis import services as analysis_services
from moderation.analysis.models import CHARTS, STEP_NAMES, AnalysisRunPart, RunStatus
from moderation.core.extensions import db
from moderation.reports import charts
from moderation.reports.pages import PAGE_CACHE
from moderation.reports.round_report import CHART_CACHE
from tests.fixtures.analysis import close, runs


@pytest.fixture(autouse=True)
def few_replicates(app):
    app.config["ANALYSIS_BOOTSTRAP"] = 50


@pytest.fixture
def new_process():
    """The process's caches forgotten, as in a web process other than the job's."""
    for cache in (CHART_CACHE, PAGE_CACHE):
        cache.clear()
    yield
    for cache in (CHART_CACHE, PAGE_CACHE):
        cache.clear()


def pages(round_id: int) -> tuple[str, str]:
    return f"/reports/rounds/{round_id}", f"/reports/rounds/{round_id}/schools"


def count_renders(monkeypatch) -> list[str]:
    """The names of the charts drawn from here on."""
    drawn: list[str] = []
    render = charts._render

    def counted(name, *args, **kwargs):
        drawn.append(name)
        return render(name, *args, **kwargs)

    monkeypatch.setattr(charts, "_render", counted)
    return drawn


def stored_chart_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(db.select(AnalysisRunPart.name).where(
            AnalysisRunPart.name.startswith(CHARTS))).scalars())


def test_a_new_process_serves_the_coachs_and_administrators_pages_from_the_stored_charts(
        app, client, auth, reported_round, new_process, monkeypatch):
    assert stored_chart_names(app)
    drawn = count_renders(monkeypatch)
    world = reported_round.world
    report, schools = pages(reported_round.round_id)
    for reader in (world.coach, world.admin):
        auth.login(reader)
        response = client.get(report)
        assert response.status_code == 200 and "<svg" in response.text
        assert client.get(schools).status_code == 200   # its schools are all too small to show
        auth.logout()
    assert drawn == []
    [run] = runs(app)
    assert [step["name"] for step in run.step_timings] == list(STEP_NAMES)


def test_a_school_coachs_own_raters_are_drawn_for_their_page(app, client, auth, create_coach,
                                                            reported_round, new_process,
                                                            monkeypatch):
    drawn = count_renders(monkeypatch)
    auth.login(create_coach(school=reported_round.world.schools[0], name="School Coach"))
    text = client.get(pages(reported_round.round_id)[0]).text
    assert 'id="chart-rater-severity"' in text
    assert drawn == ["rater-severity"]


def test_a_chart_that_fails_to_draw_leaves_the_run_finished(app, client, auth, scored_round,
                                                            new_process, monkeypatch):
    def broken(run, report):
        raise RuntimeError("the chart engine is missing")

    monkeypatch.setattr(analysis_services, "CHART_RENDERERS", [broken])
    scored = scored_round()
    close(app, scored)
    app.extensions["jobs"].drain()
    [run] = runs(app)
    assert run.status is RunStatus.DONE and stored_chart_names(app) == []
    auth.login(scored.world.coach)
    response = client.get(pages(scored.round_id)[0])
    assert response.status_code == 200 and "<svg" in response.text
