"""A participant's independent scores in a session whose agenda is done reach their private
calibration profile, each against the level the group agreed; scores after the reveal, a
deferred item and a session still under way do not."""

import re

from moderation.sessions import services
from moderation.sessions.models import ConsensusMethod, ItemState


def agree_on(sessions, session_id: int, level: int) -> None:
    for criterion in sessions.criteria:
        sessions.run(session_id, services.record_consensus, criterion.id, level=level,
                     method=ConsensusMethod.UNANIMOUS, rationale="The reasons are developed.",
                     evidence="paragraph 2")


def test_independent_scores_are_compared_with_the_consensus_once_the_session_is_done(
        sessions, client, auth):
    session_id = sessions.create(samples=sessions.world.samples[:2])
    teacher, late = sessions.teacher(0), sessions.teacher(1)
    sessions.join(session_id, teacher)
    sessions.run(session_id, services.start)
    sessions.submit(session_id, teacher, [3, 2])         # independent: 3 and 2
    sessions.run(session_id, services.reveal)
    sessions.join(session_id, late)
    sessions.submit(session_id, late, [3, 3])            # after the reveal: not compared
    agree_on(sessions, session_id, 3)
    profile = f"/reports/teachers/{teacher.id}/profile"
    auth.login(teacher)
    assert "Joint-scoring sessions" not in client.get(profile).text   # not done yet
    auth.logout()
    sessions.run(session_id, services.conclude_item, ItemState.AGREED)
    # the second item is being scored now: scored, revealed, deferred (no consensus level)
    sessions.submit(session_id, teacher, [4, 4])
    sessions.run(session_id, services.reveal)
    sessions.run(session_id, services.conclude_item, ItemState.DEFERRED)   # to the debrief

    auth.login(teacher)
    text = client.get(profile).text
    row = re.search(r"<td>Joint-scoring sessions</td><td>([^<]+)</td>", text)
    assert row and row.group(1).startswith("1 of 2"), text   # the 3 matched, the 2 did not
    auth.logout()
    auth.login(late)
    assert "Joint-scoring sessions" not in client.get(f"/reports/teachers/{late.id}/profile").text
