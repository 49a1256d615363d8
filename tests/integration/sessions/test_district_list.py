"""The district's list of sessions: who oversees a session (the district's administrators, the
coaches whose scope it is in) sees it set up, under way or finished, and reads a finished one's
summary, and downloads it, without taking part; nobody else sees it there, and the list shows
no one's scores."""

import io

from openpyxl import load_workbook

from moderation.sessions import services
from moderation.sessions.models import ConsensusMethod, ItemState, SessionScope

LIST = "/sessions/district"


def finished(sessions, **options) -> int:
    """A session whose one item was scored, revealed, deferred to a third reader and closed."""
    session_id = sessions.create(samples=sessions.world.samples[:1], **options)
    teacher = sessions.teacher(0)
    sessions.join(session_id, teacher)
    sessions.run(session_id, services.start)
    sessions.submit(session_id, teacher, [3, 2])
    sessions.run(session_id, services.reveal)
    sessions.run(session_id, services.conclude_item, ItemState.DEFERRED)
    sessions.run(session_id, services.close)
    return session_id


def section(page: str, heading: str) -> str:
    return page.split(f"<h2>{heading}", 1)[1].split("</section>", 1)[0]


def test_the_district_administrator_follows_every_session_and_reads_summaries(
        sessions, client, auth):
    waiting = sessions.create(title="Not started yet")
    done = finished(sessions, title="Calibration on one paper")
    auth.login(sessions.world.admin)
    page = client.get(LIST).text
    assert "Not started yet" in section(page, "Set up, not started")
    assert f'href="/sessions/{done}/summary">Calibration on one paper</a>' in \
        section(page, "Finished")
    assert f"/sessions/{waiting}/summary" not in page
    summary = client.get(f"/sessions/{done}/summary")
    assert summary.status_code == 200 and "Sessions in the district" in summary.text
    assert client.get(f"/sessions/{done}").status_code in (403, 404)  # for who takes part


def test_a_school_coach_sees_their_schools_sessions_and_the_cross_school_ones(
        sessions, client, auth, create_coach):
    school = sessions.world.schools[0]
    own = sessions.create(title="At the first school", scope=SessionScope.WITHIN_SCHOOL,
                          school=0, samples=sessions.world.samples[:1])
    other_school = sessions.world.schools[1]
    other = sessions.create(title="At the second school", scope=SessionScope.WITHIN_SCHOOL,
                            school=1, samples=[s for s in sessions.world.samples
                                               if s.school_id == other_school.id][:1])
    sessions.create(title="Across the district")
    auth.login(create_coach(school=school, name="School Coach"))
    page = client.get(LIST).text
    assert "At the first school" in page and "Across the district" in page
    assert "At the second school" not in page
    assert client.get(f"/sessions/{other}/summary").status_code == 404
    assert own


def test_teachers_have_no_district_list(sessions, client, auth):
    finished(sessions)
    auth.login(sessions.teacher(1))
    assert client.get(LIST).status_code in (403, 404)


def test_the_summary_downloads_as_a_workbook_of_the_pages_tables(sessions, client, auth):
    session_id = sessions.create(samples=sessions.world.samples[:1], title="One paper")
    teacher = sessions.teacher(0)
    sessions.join(session_id, teacher)
    sessions.run(session_id, services.start)
    sessions.submit(session_id, teacher, [3, 2])
    sessions.run(session_id, services.reveal)
    for criterion in sessions.criteria:
        sessions.run(session_id, services.record_consensus, criterion.id, level=3,
                     method=ConsensusMethod.VOTE, rationale="=Reasons are developed.",
                     evidence="page 2, second paragraph")
    sessions.run(session_id, services.note_dissent, None, "@too generous", by=teacher)
    sessions.run(session_id, services.conclude_item, ItemState.AGREED)
    auth.login(sessions.world.admin)     # who oversees it reads it without taking part
    response = client.get(f"/sessions/{session_id}/summary.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Agreement", "Consensus", "Dissent", "Attendance"]
    consensus = list(workbook["Consensus"].iter_rows(values_only=True))
    assert len(consensus) == 1 + len(sessions.criteria)
    assert consensus[1][5:] == (3, "=Reasons are developed.", "page 2, second paragraph")
    assert workbook["Consensus"]["G2"].data_type == "s"      # text, never a formula
    assert list(workbook["Dissent"].iter_rows(values_only=True))[1] == (1, consensus[1][1],
                                                                        "@too generous")
    assert (teacher.display_name, "participant") in list(
        workbook["Attendance"].iter_rows(values_only=True))


def test_a_summary_is_not_downloaded_before_the_agenda_is_done(sessions, client, auth):
    session_id = sessions.create()
    auth.login(sessions.coach)
    assert client.get(f"/sessions/{session_id}/summary.xlsx").status_code == 409
