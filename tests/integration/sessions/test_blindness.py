"""Before the reveal nothing a session's participant or facilitator can reach shows anyone
else's scores or comments, nor whose work it is: the blindness crawl of the scoring pages,
over every session page and fragment."""

import html

from moderation.accounts.models import User
from moderation.core.extensions import db
from moderation.sessions import services
from moderation.sessions.models import Session
from tests.conftest import csrf_token_from
from tests.integration.scoring.test_blindness import crawl

REVEALED_ONLY = ("level-counts", "Independent scores", "across the proficient cut")


def _planted_session(sessions, create_teacher):
    """A session scoring another school's sample, two participants having submitted
    comments to find; returns its id, a participant yet to submit, and the secrets."""
    world = sessions.world
    sample = next(s for s in world.samples if s.school_id == world.schools[2].id)
    session_id = sessions.create(samples=[sample])
    early = [sessions.teacher(1), sessions.teacher(1, 1)]
    watcher = sessions.teacher(0)
    sessions.join(session_id, *early, watcher)
    sessions.run(session_id, services.start)
    secrets = {world.schools[2].name: "the sample's school"}
    with sessions.app.app_context():
        session = db.session.get(Session, session_id)
        for n, teacher in enumerate(early):
            remark = f"Participant remark Quillon{n}"
            services.submit_scores(session, session.current_item,
                                   db.session.get(User, teacher.id),
                                   {c.id: 4 - n for c in sessions.criteria},
                                   {c.id: remark for c in sessions.criteria})
            secrets[remark] = "another participant's comment"
        db.session.commit()
    return session_id, watcher, secrets


def _leaks(pages, secrets):
    found = [(url, what) for url, body in pages.items() for secret, what in secrets.items()
             if secret.encode() in body or html.escape(secret).encode() in body]
    found += [(url, marker) for url, body in pages.items() for marker in REVEALED_ONLY
              if marker.encode() in body]
    return found


def test_before_the_reveal_no_session_page_shows_anyones_scores(sessions, client, auth,
                                                                create_teacher):
    session_id, watcher, secrets = _planted_session(sessions, create_teacher)
    school = next(k for k, v in secrets.items() if v == "the sample's school")
    # The district coach oversees every school: only the participant must not learn it.
    for viewer, hidden in ((watcher, secrets),
                           (sessions.coach, {k: v for k, v in secrets.items() if k != school})):
        auth.login(viewer)
        starts = ["/sessions/", f"/sessions/{session_id}", f"/sessions/{session_id}/summary",
                  f"/sessions/{session_id}/poll?version=0"]
        pages = crawl(client, csrf_token_from(client.get("/sessions/").text), starts)
        assert f"/sessions/{session_id}" in pages
        assert any("/sessions/" in url and "poll" in url for url in pages)
        assert _leaks(pages, hidden) == [], viewer.display_name
        auth.logout()
    # After the reveal the distribution is there (and still no comment or name).
    sessions.run(session_id, services.reveal)
    auth.login(watcher)
    page = client.get(f"/sessions/{session_id}").text
    assert "level-counts" in page
    assert not [s for s in secrets if s in page]
