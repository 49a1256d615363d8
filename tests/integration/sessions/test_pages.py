"""The session pages as participants and facilitators use them, through htmx requests."""

import re

from moderation.core.extensions import db
from moderation.sessions import services
from moderation.sessions.models import Session, SessionState
from tests.fixtures.scoring import score_form

LIVE = "session-live"


def _code(sessions, session_id):
    return sessions.session(session_id).join_code


def _version(html: str) -> int:
    return int(re.search(r"poll\?version=(\d+)", html).group(1))


def test_a_teacher_joins_from_home_with_the_code_as_typed(sessions, client, auth):
    session_id = sessions.create()
    teacher = sessions.teacher(0)
    auth.login(teacher)
    home = client.get("/teacher").text
    assert 'id="join-session"' in home
    code = _code(sessions, session_id)
    response = client.post("/sessions/join", data={
        "code": f" {code[:3].lower()}-{code[3:]} ", "csrf_token": auth.csrf_token("/teacher")})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sessions/{session_id}")
    page = client.get(f"/sessions/{session_id}").text
    assert "Argument writing moderation" in page and "has not started" in page


def test_a_wrong_code_is_refused_with_a_message(sessions, client, auth):
    sessions.create()
    auth.login(sessions.teacher(0))
    response = client.post("/sessions/join", data={"code": "ZZZZZZ",
                                                   "csrf_token": auth.csrf_token("/sessions/")})
    assert response.status_code == 422
    assert "No open session has that code" in response.text


def test_the_poll_answers_204_until_the_version_moves_then_the_whole_state(
        sessions, client, auth, hx):
    session_id = sessions.create(timer_minutes=4)
    teacher = sessions.teacher(0)
    sessions.join(session_id, teacher)
    auth.login(teacher)
    page = client.get(f"/sessions/{session_id}").text
    poll = f"/sessions/{session_id}/poll?version={_version(page)}"
    assert hx.get(poll, LIVE).status_code == 204
    sessions.run(session_id, services.start)
    changed = hx.get(poll, LIVE)
    assert changed.status_code == 200
    assert f'id="{LIVE}"' in changed.text and "Submit scores" in changed.text
    assert "Scoring closes at" in changed.text
    assert "<html" not in changed.text  # the fragment, not the page
    assert _version(changed.text) == sessions.session(session_id).version
    # The answer to a poll keeps what the teacher is typing: the form is hx-preserve.
    assert "hx-preserve" in changed.text


def test_scoring_through_the_page_and_the_reveal(sessions, client, auth, hx):
    session_id = sessions.create()
    a, b = sessions.teacher(0), sessions.teacher(1)
    sessions.join(session_id, a, b)
    sessions.run(session_id, services.start)
    auth.login(a)
    response = hx.post(f"/sessions/{session_id}/scores",
                       score_form(sessions.criteria, [4, 2]), LIVE)
    assert response.status_code == 200
    assert "stay hidden until the reveal" in response.text
    again = hx.post(f"/sessions/{session_id}/scores", score_form(sessions.criteria, [1, 1]),
                    LIVE)
    assert again.status_code == 422 and "already submitted" in again.text
    incomplete = sessions.create(samples=sessions.world.samples[2:3])
    sessions.join(incomplete, a)
    sessions.run(incomplete, services.start)
    half = hx.post(f"/sessions/{incomplete}/scores", score_form(sessions.criteria[:1], [3]),
                   LIVE)
    assert half.status_code == 422 and "Choose a level" in half.text

    auth.logout()
    auth.login(sessions.coach)
    facilitator = hx.get(f"/sessions/{session_id}", LIVE).text
    assert a.display_name in facilitator and "1 person has submitted" in facilitator
    assert "level-counts" not in facilitator  # no scores before the reveal
    revealed = hx.post(f"/sessions/{session_id}/step", {"step": "reveal"}, LIVE)
    assert revealed.status_code == 200 and "level-counts" in revealed.text
    assert "Independent scores" in revealed.text and a.display_name not in revealed.text.split(
        "Independent scores")[1]  # names only where the session shows them
    twice = hx.post(f"/sessions/{session_id}/step", {"step": "reveal"}, LIVE)
    assert twice.status_code == 409 and "already been revealed" in twice.text
    bad = hx.post(f"/sessions/{session_id}/step", {"step": "explode"}, LIVE)
    assert bad.status_code == 422
    auth.logout()
    auth.login(b)           # a participant reads where the consensus stands, not a blank
    participant = hx.get(f"/sessions/{session_id}", LIVE).text.split("Consensus", 1)[1]
    assert participant.count("Not agreed yet.") == len(sessions.criteria)


def test_the_facilitator_records_consensus_and_the_summary_shows_it(sessions, client, auth,
                                                                    hx):
    session_id = sessions.create(samples=sessions.world.samples[:1])
    a = sessions.teacher(0)
    sessions.join(session_id, a)
    sessions.run(session_id, services.start)
    sessions.submit(session_id, a, [3, 2])
    sessions.run(session_id, services.reveal)
    auth.login(sessions.coach)
    for criterion in sessions.criteria:
        response = hx.post(f"/sessions/{session_id}/consensus", {
            "criterion_id": criterion.id, "level": "3", "method": "vote",
            "rationale": "Reasons are developed.", "evidence": "“because homework…”"}, LIVE)
        assert response.status_code == 200, response.text
    missing = hx.post(f"/sessions/{session_id}/consensus", {
        "criterion_id": sessions.criteria[0].id, "level": "3", "method": "vote"}, LIVE)
    assert missing.status_code == 422 and "Say why the group agreed" in missing.text
    auth.logout()
    auth.login(a)
    dissent = hx.post(f"/sessions/{session_id}/dissent", {"text": "Too generous on evidence."},
                      LIVE)
    assert dissent.status_code == 200
    auth.logout()
    auth.login(sessions.coach)
    for step in ("agree", "close"):
        assert hx.post(f"/sessions/{session_id}/step", {"step": step}, LIVE).status_code == 200
    with sessions.app.app_context():
        assert db.session.get(Session, session_id).state == SessionState.CLOSED
    summary = client.get(f"/sessions/{session_id}/summary").text
    assert "Reasons are developed." in summary and "Too generous on evidence." in summary
    assert a.display_name in summary and "Vote, level 3" in summary


def test_the_summary_says_who_scored_after_the_reveal_apart_from_the_agreement(
        sessions, client, auth, hx):
    session_id = sessions.create(samples=sessions.world.samples[:1])
    a, b, late = sessions.teacher(0), sessions.teacher(1), sessions.teacher(2)
    sessions.join(session_id, a, b)
    sessions.run(session_id, services.start)
    sessions.submit(session_id, a, [3, 2])
    sessions.submit(session_id, b, [3, 2])
    sessions.run(session_id, services.reveal)
    sessions.join(session_id, late)
    assert sessions.submit(session_id, late, [1, 1]) == "post_reveal"
    auth.login(sessions.coach)
    assert hx.post(f"/sessions/{session_id}/step", {"step": "defer"}, LIVE).status_code == 200
    summary = client.get(f"/sessions/{session_id}/summary").text
    assert "1 person scored it after the reveal" in summary
    # Only the two independent scores are paired: they agree on both criteria.
    assert summary.count("100%") == 2 and "(1 pair)" in summary


def test_someone_outside_the_session_finds_no_session(sessions, client, auth):
    session_id = sessions.create()
    auth.login(sessions.teacher(2))  # in scope, but has not joined
    assert client.get(f"/sessions/{session_id}").status_code == 404
    assert client.get(f"/sessions/{session_id}/poll?version=1").status_code == 404


def test_a_coach_sets_a_session_up_through_the_form(sessions, client, auth):
    auth.login(sessions.coach)
    form = client.get("/sessions/new").text
    sample = sessions.world.samples[0]
    assert sample.code in form
    assert f'type="checkbox" value="{sample.id}"' in form  # one tick box per sample
    response = client.post("/sessions/new", data={
        "title": "December moderation", "rubric_version_id": sessions.world.version.id,
        "scope": "cross_school", "sample_ids": [sample.id], "co_facilitator_id": "",
        "school_id": "", "timer_minutes": "", "csrf_token": csrf(client)})
    assert response.status_code == 302, response.text
    empty = client.post("/sessions/new", data={
        "title": "Nothing", "rubric_version_id": sessions.world.version.id,
        "scope": "cross_school", "csrf_token": csrf(client)})
    assert empty.status_code == 422 and "at least one work sample" in empty.text


def test_a_teacher_may_not_set_one_up_unless_the_district_allows(sessions, client, auth):
    auth.login(sessions.teacher(0))
    assert client.get("/sessions/new").status_code == 403


def csrf(client):
    from tests.conftest import csrf_token_from
    return csrf_token_from(client.get("/sessions/").text)


def test_an_unchanged_poll_is_a_handful_of_statements(sessions, client, auth, hx,
                                                      count_statements):
    """Every participant polls every 2 s: the 204 answer must stay cheap. The user and their
    memberships, the session, the participant, the presence write (at most every 15 s), and
    during scoring the item and everyone's presence, for the reveal nobody clicks."""
    session_id = sessions.create()
    teacher = sessions.teacher(0)
    sessions.join(session_id, teacher)
    sessions.run(session_id, services.start)
    auth.login(teacher)
    version = sessions.session(session_id).version
    hx.get(f"/sessions/{session_id}/poll?version={version}", LIVE)
    with count_statements() as log:
        response = hx.get(f"/sessions/{session_id}/poll?version={version}", LIVE)
    assert response.status_code == 204
    assert log.count <= 7, log.report()


def test_a_poll_reads_no_one_elses_presence_while_the_facilitator_is_there(
        sessions, client, auth, hx, count_statements):
    """With 150 people polling every 2 s, a poll that read every participant's row to learn
    whether the facilitator is there fell behind: it reads the facilitators' rows only."""
    session_id = sessions.create()
    everyone = [sessions.teacher(school, n) for school in range(3) for n in range(2)]
    sessions.join(session_id, *everyone)
    sessions.run(session_id, services.start)
    version = sessions.session(session_id).version
    auth.login(sessions.coach)
    hx.get(f"/sessions/{session_id}/poll?version={version}", LIVE)   # the facilitator is there
    auth.logout()
    auth.login(everyone[0])
    hx.get(f"/sessions/{session_id}/poll?version={version}", LIVE)
    with count_statements() as log:
        assert hx.get(f"/sessions/{session_id}/poll?version={version}",
                      LIVE).status_code == 204
    reads = [s.upper() for s in log.statements if "session_participants" in s
             and s.lstrip().upper().startswith("SELECT")]
    assert reads and all("USER_ID" in s.split("WHERE", 1)[-1] for s in reads), log.report()
