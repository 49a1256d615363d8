"""Every URL rule x method x role, against real objects of each kind, compared with one
declaration per endpoint of who is allowed (OWASP ASVS 4.0, V4.1.3: deny by default).

A cell's outcome is the access decision only: "allowed" (2xx, 3xx other than to the login page,
409 or 422: the request reached the view), 403, 404, or "login" (anonymous: 302 to /login, or
401 with HX-Redirect for htmx). A cell that should be allowed must not answer 404: the world
(tests/fixtures/world.py) gives every argument a real object the role may reach.
"""

from urllib.parse import urlsplit

import pytest

from app import create_app
from tests.fixtures.world import ANONYMOUS, COACH_A, DUAL, USERS
from tests.integration.security.declarations import (
    ANONYMOUS_HTMX,
    COACHES,
    DECLARATIONS,
    ROLES,
)

# The smallest body that passes the view's own parsing, so the answer is the access decision
# (most views then answer 422 for the empty form, which changes nothing).
BODIES = {
    "rubrics.move_criterion": {"direction": "down"},
    "rubrics.move_level": {"direction": "down"},
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


def test_every_endpoint_declares_who_may_use_it():
    missing = sorted(set(ENDPOINTS) - set(DECLARATIONS))
    assert not missing, (
        f"No access declaration for {missing}. Add each to DECLARATIONS in "
        f"tests/integration/security/declarations.py with the roles allowed (e.g. "
        f"\"samples.new_view\": allow(OWNER_STAFF)); give its URL arguments a real object in "
        f"ARGUMENTS or ENDPOINT_ARGUMENTS of tests/fixtures/world.py (which builds them), and "
        f"a fresh object in FRESH there if the request deletes it.")
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
             if (problem := check_cell(access_world, rule, method, role))]
    assert not wrong, "\n".join(wrong)


def test_the_matrix_is_not_vacuous():
    """Each user role is allowed somewhere and refused somewhere, and among coaches only the
    owning school's (and the dual-role user, a teacher there) reach the student identity."""
    for role in USERS:
        outcomes = {DECLARATIONS[e].expected(role) for e in DECLARATIONS}
        assert "allowed" in outcomes and outcomes & {"403", "404"}, role
    identity = DECLARATIONS["samples.show_identity"]
    assert {r for r in COACHES if identity.expected(r) == "allowed"} == {COACH_A, DUAL}
    assert len(RULES) > 50
