"""Every URL rule x method x role, against real objects of each kind, compared with one
declaration per endpoint of who is allowed (OWASP ASVS 4.0, V4.1.3: deny by default).

A cell's outcome is the access decision only: "allowed" (2xx, 3xx other than to the login page,
409 or 422: the request reached the view), 403, 404, or "login" (anonymous: 302 to /login, or
401 with HX-Redirect for htmx). A cell that should be allowed must not answer 404: the world
(tests/fixtures/world.py) gives every argument a real object the role may reach.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from app import create_app
from tests.fixtures.world import (
    ANONYMOUS,
    COACH_A,
    COACH_B,
    DISTRICT_ADMIN,
    DISTRICT_COACH,
    DUAL,
    OTHER_ADMIN,
    OTHER_COACH,
    OTHER_TEACHER,
    TEACHER_A,
    TEACHER_B,
    USERS,
)

ANONYMOUS_HTMX = "anonymous (htmx)"
ROLES = (ANONYMOUS, ANONYMOUS_HTMX, *USERS)

DISTRICT_1 = frozenset({TEACHER_A, TEACHER_B, COACH_A, COACH_B, DISTRICT_COACH, DISTRICT_ADMIN,
                        DUAL})
DISTRICT_2 = frozenset({OTHER_TEACHER, OTHER_COACH, OTHER_ADMIN})
EVERYONE = DISTRICT_1 | DISTRICT_2
TEACHERS = frozenset({TEACHER_A, TEACHER_B, DUAL, OTHER_TEACHER})
COACHES = frozenset({COACH_A, COACH_B, DISTRICT_COACH, DUAL, OTHER_COACH})
ADMINS = frozenset({DISTRICT_ADMIN, OTHER_ADMIN})
# Coaches (any, school-scoped too) and administrators of district 1: rubric editors, round runners.
LEADS_1 = frozenset({COACH_A, COACH_B, DISTRICT_COACH, DISTRICT_ADMIN, DUAL})
LEADS_2 = frozenset({OTHER_COACH, OTHER_ADMIN})
OWNER_STAFF = frozenset({TEACHER_A, COACH_A, DUAL})  # teachers and coaches of school A
OVERSIGHT = frozenset({DISTRICT_COACH, DISTRICT_ADMIN})
ANCHOR_LEADS = frozenset({COACH_A, DISTRICT_COACH, DISTRICT_ADMIN})


@dataclass(frozen=True)
class Access:
    """Who may use an endpoint. Others logged in get 403, or 404 where the app hides that the
    object exists (`not_found`); anonymous visitors are sent to log in unless `public`."""

    allowed: frozenset[str]
    not_found: frozenset[str] = frozenset()
    public: bool = False

    def expected(self, role: str) -> str:
        if self.public:
            return "allowed"
        if role in (ANONYMOUS, ANONYMOUS_HTMX):
            return "login"
        if role in self.allowed:
            return "allowed"
        return "404" if role in self.not_found else "403"


def allow(*groups, not_found=frozenset()) -> Access:
    return Access(frozenset().union(*groups), frozenset(not_found))


PUBLIC = Access(EVERYONE, public=True)
VIEW_1 = allow(DISTRICT_1, not_found=DISTRICT_2)  # district 1's rubrics, for its staff
EDIT_1 = allow(LEADS_1, not_found=LEADS_2)  # district 2's teacher fails the role check: 403
QUEUE_ITEM = allow({TEACHER_B}, not_found={TEACHER_A, DUAL, OTHER_TEACHER})
PRACTICE_PAPER = allow({TEACHER_A, TEACHER_B, DUAL}, not_found={OTHER_TEACHER})
# teacher_a's practice, visible to the coaches whose scope covers school A (the district allows
# it); everyone else with a teacher or coach role is told it does not exist.
PRACTICE_OF_A = allow({TEACHER_A, COACH_A, DISTRICT_COACH},
                      not_found={TEACHER_B, COACH_B, DUAL, OTHER_TEACHER, OTHER_COACH})
ROUND_1 = allow(LEADS_1, not_found=LEADS_2)
RATER_VIEW = allow(OWNER_STAFF, OVERSIGHT, {TEACHER_B})  # teacher_b has the sample queued

DECLARATIONS: dict[str, Access] = {
    "static": PUBLIC,
    "healthz": PUBLIC,
    "accounts.login": PUBLIC,
    "accounts.home": allow(EVERYONE),
    "accounts.logout": allow(EVERYONE),
    "accounts.change_password": allow(EVERYONE),
    "accounts.no_role": allow(EVERYONE),
    "accounts.teacher_home": allow(TEACHERS),
    "accounts.coach_home": allow(COACHES),
    "accounts.district_home": allow(ADMINS),
    "accounts.audit_log": allow(ADMINS),

    "rubrics.list_rubrics": allow(EVERYONE),
    "rubrics.create_rubric": allow(COACHES, ADMINS),
    "rubrics.import_rubric": allow(COACHES, ADMINS),
    "rubrics.show_rubric": VIEW_1,
    "rubrics.show_version": VIEW_1,
    "rubrics.export_version": VIEW_1,
    "rubrics.show_details": VIEW_1,
    "rubrics.version_status": VIEW_1,
    "rubrics.list_criteria": VIEW_1,
    "rubrics.show_criterion": VIEW_1,
    "rubrics.show_level": VIEW_1,
    "rubrics.create_version": EDIT_1,
    "rubrics.edit_details": EDIT_1,
    "rubrics.update_details": EDIT_1,
    "rubrics.add_criterion": EDIT_1,
    "rubrics.edit_criterion": EDIT_1,
    "rubrics.update_criterion": EDIT_1,
    "rubrics.move_criterion": EDIT_1,
    "rubrics.delete_criterion": EDIT_1,
    "rubrics.add_level": EDIT_1,
    "rubrics.edit_level": EDIT_1,
    "rubrics.update_level": EDIT_1,
    "rubrics.move_level": EDIT_1,
    "rubrics.mark_proficient": EDIT_1,
    "rubrics.delete_level": EDIT_1,

    "samples.list_samples": allow(EVERYONE),
    # Staff of some school upload; a district-wide coach has no school to upload to.
    "samples.upload_sample": allow({TEACHER_A, TEACHER_B, COACH_A, COACH_B, DUAL,
                                    OTHER_TEACHER}),
    "samples.show_sample": RATER_VIEW,
    "samples.page_image": RATER_VIEW,
    "samples.sample_image": RATER_VIEW,
    "samples.show_identity": allow(OWNER_STAFF),
    "samples.download_sample": allow(OWNER_STAFF, OVERSIGHT),
    "samples.record_local_score": allow({TEACHER_A}),
    "samples.confirm_redaction": allow({TEACHER_A}),
    "samples.promote_anchor": allow(ANCHOR_LEADS),
    "samples.delete_sample": allow(OWNER_STAFF, {DISTRICT_ADMIN}),
    "samples.purge_sample": allow({DISTRICT_ADMIN}),
    "samples.list_anchors": allow(COACHES, ADMINS),
    "samples.show_anchor": allow(ANCHOR_LEADS),

    "scoring.show_queue": allow(TEACHERS),
    "scoring.queue_progress": allow(TEACHERS),
    "scoring.queue_items": allow(TEACHERS),
    "scoring.show_item": QUEUE_ITEM,
    "scoring.save_draft": QUEUE_ITEM,
    "scoring.submit_item": QUEUE_ITEM,
    "scoring.revise_item": QUEUE_ITEM,
    "scoring.show_practice": allow(TEACHERS),
    "scoring.practise": PRACTICE_PAPER,
    "scoring.practice_page": PRACTICE_PAPER,
    "scoring.practice_image": PRACTICE_PAPER,
    "scoring.show_attempt": PRACTICE_OF_A,
    "scoring.teacher_practice": PRACTICE_OF_A,
    "scoring.practice_privacy": allow({DISTRICT_ADMIN}),
    "scoring.list_rounds": allow(COACHES, ADMINS),
    "scoring.new_round": allow(COACHES, ADMINS),
    "scoring.preview_round": allow(COACHES, ADMINS),
    "scoring.show_round": ROUND_1,
    "scoring.round_progress": ROUND_1,
    "scoring.close_round": ROUND_1,
    # A download link works only for the user it was issued to (teacher_a here).
    "storage.download": allow({TEACHER_A}),
}

# The smallest body that passes the view's own parsing, so the answer is the access decision
# (most views then answer 422 for the empty form, which changes nothing).
BODIES = {
    "rubrics.move_criterion": {"direction": "down"},
    "rubrics.move_level": {"direction": "down"},
    "scoring.practice_privacy": {"visible": "y"},  # keep coaches' view of practice as built
}
# These end every session of the user: they run on a client of their own, and the role's
# shared client logs in again afterwards.
SESSION_ENDING = {"accounts.logout"}


def _rules():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))


RULES = _rules()
ENDPOINTS = sorted({rule.endpoint for rule in RULES})
CELLS = {endpoint: [(rule, method, role) for rule in RULES if rule.endpoint == endpoint
                    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}) for role in ROLES]
         for endpoint in ENDPOINTS}
# Cells that answer wrongly today because of a defect being fixed elsewhere:
# (endpoint, method, role) -> the defect. Each runs in test_known_defects as a strict xfail, so
# the fix makes it pass and asks for its entry to be removed.
KNOWN_DEFECTS: dict[tuple[str, str, str], str] = {}


def test_every_endpoint_declares_who_may_use_it():
    missing = sorted(set(ENDPOINTS) - set(DECLARATIONS))
    assert not missing, (
        f"No access declaration for {missing}. Add each to DECLARATIONS in {__file__} with "
        f"the roles allowed (e.g. \"samples.new_view\": allow(OWNER_STAFF)); give its URL "
        f"arguments a real object in ARGUMENTS or ENDPOINT_ARGUMENTS (tests/fixtures/world.py "
        f"builds them), and a fresh object in FRESH if the request deletes it.")
    assert not set(DECLARATIONS) - set(ENDPOINTS), "declarations for endpoints that are gone"


def decision(response) -> str:
    status = response.status_code
    location = urlsplit(response.headers.get("Location", ""))
    # Sent to log in and come back (?next=); logging out also lands on /login, without it.
    if status in (301, 302, 303) and location.path == "/login" and "next=" in location.query:
        return "login"
    if status == 401 and response.headers.get("HX-Redirect", "").startswith("/login"):
        return "login"
    if status in (403, 404):
        return str(status)
    if 200 <= status < 400 or status in (409, 422):
        return "allowed"
    return f"answered {status}"


def request_cell(world, rule, method: str, role: str):
    user_role = ANONYMOUS if role == ANONYMOUS_HTMX else role
    url = world.url_for(rule)
    own_client = rule.endpoint in SESSION_ENDING
    client = world.new_client(user_role) if own_client else world.client(user_role)
    headers = {"HX-Request": "true", "HX-Target": "main"} if role == ANONYMOUS_HTMX else {}
    if method == "GET":
        return url, client.get(url, headers=headers)
    token = world.csrf_token(user_role, client if own_client else None)
    response = client.post(url, headers=headers,
                           data={"csrf_token": token, **BODIES.get(rule.endpoint, {})})
    if own_client and user_role != ANONYMOUS:
        world.forget(user_role)
    return url, response


def check_cell(world, rule, method: str, role: str) -> str | None:
    """None if the cell answers as declared, else what it did."""
    url, response = request_cell(world, rule, method, role)
    response.close()  # file responses (static, images) hold their file open until closed
    got, expected = decision(response), DECLARATIONS[rule.endpoint].expected(role)
    if got == expected:
        return None
    return f"{method} {url} as {role}: {got}, declared {expected}"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_access_matrix(access_world, endpoint):
    if endpoint not in DECLARATIONS:
        pytest.fail(f"{endpoint} has no declaration (see test_every_endpoint_declares_...)")
    wrong = [problem for rule, method, role in CELLS[endpoint]
             if (endpoint, method, role) not in KNOWN_DEFECTS
             and (problem := check_cell(access_world, rule, method, role))]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("endpoint,method,role", [
    pytest.param(*cell, marks=pytest.mark.xfail(strict=True, reason=reason))
    for cell, reason in KNOWN_DEFECTS.items()])
def test_known_defects(access_world, endpoint, method, role):
    rule = next(rule for rule in RULES if rule.endpoint == endpoint and method in rule.methods)
    assert check_cell(access_world, rule, method, role) is None


def test_the_matrix_is_not_vacuous():
    """Each user role is allowed somewhere and refused somewhere, and among coaches only the
    owning school's (and the dual-role user, a teacher there) reach the student identity."""
    for role in USERS:
        outcomes = {DECLARATIONS[e].expected(role) for e in DECLARATIONS}
        assert "allowed" in outcomes and outcomes & {"403", "404"}, role
    identity = DECLARATIONS["samples.show_identity"]
    assert {r for r in COACHES if identity.expected(r) == "allowed"} == {COACH_A, DUAL}
    assert len(RULES) > 50
