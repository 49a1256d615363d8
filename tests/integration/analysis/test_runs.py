"""Analysis runs of a round: computed from the database, stored per part, reused for the same
input, started by closing the round or by asking, and followed on the round page."""

import json

import pandas as pd
import pytest

from moderation.accounts.models import District, SchoolContext, User
from moderation.analysis import inputs, queries, services
from moderation.analysis.models import (
    CHARTS,
    PARTS,
    STEP_NAMES,
    AnalysisRunPart,
    RunStatus,
)
from moderation.core.extensions import db
from moderation.scoring.models import ScoringRound
from moderation.settings import services as settings_services
from moderation.statistics.analysis import analyze
from moderation.statistics.levels import ScoreLevels
from moderation.statistics.triggers import Thresholds
from tests.fixtures.analysis import close, record_low_income_shares, revise_a_rating, runs

BOOTSTRAP = 50


@pytest.fixture(autouse=True)
def few_replicates(app):
    app.config["ANALYSIS_BOOTSTRAP"] = BOOTSTRAP


def run_command(runner, round_id, *extra):
    return runner.invoke(args=["analysis", "run", "--round", str(round_id), *extra])


def test_the_command_stores_what_the_engine_gives_for_the_rounds_ratings(app, runner,
                                                                          scored_round):
    scored = scored_round()
    result = run_command(runner, scored.round_id, "--json")
    assert result.exit_code == 0, result.output
    stored = json.loads(result.output)

    with app.app_context():
        scoring_round = db.session.get(ScoringRound, scored.round_id)
        table = inputs.round_ratings(scored.round_id)
        thresholds = services.thresholds_for(scoring_round.district_id)
        version = scoring_round.rubric_version
        levels = ScoreLevels(criteria={f"C{criterion.id}": tuple(level.score for level in
                                                                 criterion.levels)
                                       for criterion in version.criteria},
                             source=version.label)
        direct = analyze(table, bootstrap=BOOTSTRAP, seed=scoring_round.seed,
                         thresholds=thresholds, levels=levels,
                         schools=inputs.school_context(scoring_round.district_id))
        names = set(db.session.execute(db.select(AnalysisRunPart.name)).scalars())
    assert stored == direct
    assert stored["score_levels"]["criteria"] == {code: [1, 2, 3, 4] for code in levels.criteria}
    assert set(table["kind"]) == {"blind", "local", "reference"}
    assert {name for name in names if not name.startswith(CHARTS)} == {"summary", *PARTS}
    [run] = runs(app)
    assert run.status is RunStatus.DONE and run.n_ratings == len(table) == stored["n_ratings"]
    assert [step["name"] for step in run.step_timings] == list(STEP_NAMES)
    assert all(step["seconds"] >= 0 for step in run.step_timings)


def test_the_districts_school_context_reaches_the_equity_analysis(app, runner, scored_round):
    scored = scored_round()
    record_low_income_shares(app, scored.world, [0.2, 0.5, 0.8])
    with app.app_context():
        context = inputs.school_context(scored.world.district.id)
    # Shares are stored as 0-1 and reach the engine as percentages, by school code.
    assert sorted(context["low_income_share"]) == [20.0, 50.0, 80.0]
    assert set(context.index) == {inputs.school_code(s.id) for s in scored.world.schools}

    result = run_command(runner, scored.round_id, "--json")
    assert result.exit_code == 0, result.output
    equity = json.loads(result.output)["equity"]
    assert {entry["context"] for entry in equity} == {"low_income_share"}

    # A corrected figure is a different input: asking again computes a new run.
    with app.app_context():
        db.session.execute(db.update(SchoolContext).values(value=SchoolContext.value / 2))
        db.session.commit()
    assert run_command(runner, scored.round_id).exit_code == 0
    assert len(runs(app)) == 2


def test_codes_not_names_reach_the_engine(app, scored_round):
    scored = scored_round()
    with app.app_context():
        table = inputs.round_ratings(scored.round_id)
    teachers = scored.world.all_teachers
    assert set(table["rater"].dropna()) <= {f"R{t.id}" for t in teachers}
    assert set(table["sample_school"]) <= {f"S{s.id}" for s in scored.world.schools}
    text = table.to_csv()
    assert not any(t.display_name in text or t.email in text for t in teachers)
    assert not any(s.name in text for s in scored.world.schools)


def test_postgresql_copies_the_table_the_row_by_row_read_gives(app, scored_round):
    """The two ways of reading a round must agree to the byte: the input hash is over the
    table, and a different table would make every finished run look stale."""
    scored = scored_round()
    with app.app_context():
        if db.session.connection().dialect.name != "postgresql":
            pytest.skip("COPY is PostgreSQL's")
        copied = inputs.round_ratings(scored.round_id)
        fetched = inputs._table(inputs._fetched(inputs._round_rows(scored.round_id)))
    assert set(copied["kind"]) == {"blind", "local", "reference"}
    assert copied["rater"].isna().any() and copied["scored_at"].isna().any()
    pd.testing.assert_frame_equal(copied, fetched)
    assert inputs.input_hash(copied, {}) == inputs.input_hash(fetched, {})


def test_the_same_ratings_and_settings_reuse_the_finished_run(app, runner, scored_round):
    scored = scored_round()
    first = run_command(runner, scored.round_id)
    again = run_command(runner, scored.round_id)
    assert first.exit_code == again.exit_code == 0
    computed, reused = runs(app)
    assert reused.reused_run_id == computed.id and reused.input_hash == computed.input_hash
    assert f"the same input as run {computed.id}, whose results stand" in again.output
    with app.app_context():
        assert queries.run_part(reused.id, "summary") is None   # nothing stored twice
        assert queries.round_analysis(scored.round_id).finished.id == computed.id
    assert json.loads(run_command(runner, scored.round_id, "--json").output) == \
        json.loads(run_command(runner, scored.round_id, "--json").output)

    with app.app_context():  # the district's settings are the engine's thresholds
        district = db.session.get(District, scored.world.district.id)
        settings_services.update_settings(district, db.session.get(User, scored.world.admin.id),
                                          {"rater_severity": 0.8, "min_raters": 4})
        db.session.commit()
    assert run_command(runner, scored.round_id).exit_code == 0
    newer = runs(app)[-1]
    assert newer.reused_run_id is None and newer.input_hash != computed.input_hash
    assert Thresholds(**newer.parameters["thresholds"]).rater_severity == 0.8
    with app.app_context():
        assert queries.run_part(newer.id, "summary")["thresholds"]["min_school_raters"] == 4


def test_ratings_that_arrive_after_a_run_are_counted_for_a_rerun(app, runner, scored_round):
    scored = scored_round()
    assert run_command(runner, scored.round_id).exit_code == 0
    revise_a_rating(app, scored.round_id)
    with app.app_context():
        analysis = queries.round_analysis(scored.round_id)
    assert analysis.finished.id == runs(app)[0].id
    assert analysis.new_ratings >= 1


def test_a_round_with_no_scores_is_refused_in_words(app, runner, scoring_world, open_round):
    world = scoring_world(n_schools=2, teachers_per_school=2, samples_per_school=1)
    scoring_round = open_round(world)
    result = run_command(runner, scoring_round.id)
    assert result.exit_code == 2
    assert "has no submitted blind scores yet" in result.output
    assert run_command(runner, 999_999).exit_code == 2


def test_a_failed_run_says_why_and_can_be_retried(app, client, auth, hx, scored_round,
                                                  monkeypatch):
    scored = scored_round()

    def refuse(*args, **kwargs):
        raise ValueError("the level of measurement does not fit these scores")

    monkeypatch.setattr(services, "analyze", refuse)
    close(app, scored)
    app.extensions["jobs"].drain()
    [failed] = runs(app)
    assert failed.status is RunStatus.FAILED
    assert failed.error == ("The analysis could not finish: the level of measurement does "
                            "not fit these scores")
    auth.login(scored.world.coach)
    page = client.get(f"/scoring/rounds/{scored.round_id}").text
    assert "The last analysis failed." in page and "does not fit these scores" in page
    assert ">Retry</button>" in page

    monkeypatch.undo()
    retried = hx.post(f"/analysis/rounds/{scored.round_id}/runs", target="round-analysis")
    assert retried.status_code == 200 and "Waiting to start" in retried.text
    app.extensions["jobs"].drain()
    assert [r.status for r in runs(app)] == [RunStatus.FAILED, RunStatus.DONE]


def test_closing_the_round_runs_its_analysis_after_the_commit(app, client, auth, hx,
                                                               scored_round):
    scored = scored_round()
    auth.login(scored.world.coach)
    closed = hx.post(f"/scoring/rounds/{scored.round_id}/close", data={"confirmed": "y"},
                     target="round-status")
    assert closed.status_code == 200
    [queued] = runs(app)
    assert queued.status is RunStatus.QUEUED
    assert app.extensions["jobs"].jobs == [(services.JOB, (queued.id,))]

    status_url = f"/analysis/rounds/{scored.round_id}/status"
    waiting = hx.get(status_url, target="round-analysis")
    assert "Waiting to start" in waiting.text and 'hx-trigger="every 2s"' in waiting.text
    version = f"{queued.id}.{queued.progress_version}"
    assert hx.get(f"{status_url}?v={version}", target="round-analysis").status_code == 204

    app.extensions["jobs"].drain()
    [done] = runs(app)
    changed = hx.get(f"{status_url}?v={version}", target="round-analysis")
    assert changed.status_code == 200
    assert f"Results as of <strong>{done.n_ratings} ratings</strong>" in changed.text
    assert "every 2s" not in changed.text and "Run the analysis again" in changed.text
    assert "Results as of" in client.get(f"/scoring/rounds/{scored.round_id}").text


def test_asking_again_without_new_ratings_reuses_the_run(app, auth, hx, scored_round):
    scored = scored_round()
    auth.login(scored.world.coach)
    url = f"/analysis/rounds/{scored.round_id}/runs"
    hx.post(url, target="round-analysis")
    app.extensions["jobs"].drain()
    again = hx.post(url, target="round-analysis")
    assert again.status_code == 200 and "Waiting to start" in again.text
    assert hx.post(url, target="round-analysis").status_code == 200  # the same queued run
    assert len(runs(app)) == 2 and len(app.extensions["jobs"].jobs) == 1
    app.extensions["jobs"].drain()
    first, second = runs(app)
    assert second.status is RunStatus.DONE and second.reused_run_id == first.id
    panel = hx.get(f"/analysis/rounds/{scored.round_id}/status", target="round-analysis").text
    assert "No rating or setting has changed since the analysis below" in panel
    assert f"Results as of <strong>{first.n_ratings} ratings</strong>" in panel


def test_asking_for_a_run_reads_no_ratings(app, auth, hx, scored_round, count_statements):
    """A district's ratings take seconds to read: the job reads them, not the request that
    closes the round or asks for a run."""
    scored = scored_round()
    auth.login(scored.world.coach)
    with count_statements() as log:
        hx.post(f"/scoring/rounds/{scored.round_id}/close", data={"confirmed": "y"},
                target="round-status")
    reads = [s for s in log.statements if "FROM ratings" in s and "UNION" in s.upper()]
    assert reads == [], log.report()
    [queued] = runs(app)
    assert queued.status is RunStatus.QUEUED and queued.input_hash is None


def test_only_those_who_manage_the_round_start_or_follow_its_analysis(
        app, client, auth, hx, scored_round, create_coach, create_district):
    scored = scored_round()
    teacher = scored.world.all_teachers[0]
    outsider = create_coach(district=create_district(), name="Another District's Coach")
    for user, refused in ((teacher, 403), (outsider, 404)):
        auth.login(user)
        assert hx.post(f"/analysis/rounds/{scored.round_id}/runs").status_code == refused
        assert hx.get(f"/analysis/rounds/{scored.round_id}/status").status_code == refused
        auth.logout()
    assert runs(app) == []


@pytest.mark.slow  # a second app and its thread
def test_without_redis_a_thread_in_the_process_runs_the_analysis(app, database_url,
                                                                 scored_round):
    from app import create_app
    from tests.conftest import TEST_CONFIG

    scored = scored_round()
    threaded = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                           "JOBS_BACKEND": "thread", "ANALYSIS_BOOTSTRAP": BOOTSTRAP})
    close(threaded, scored)
    threaded.extensions["jobs"].wait()
    threaded.extensions["jobs"].stop()
    with threaded.app_context():
        db.engine.dispose()
    [run] = runs(app)
    assert run.status is RunStatus.DONE and run.attempts == 1
