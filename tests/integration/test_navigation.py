"""Every action the README gives a role starts from a page in that role's main navigation."""

import re
from pathlib import Path

import pytest
from flask import url_for

from moderation.accounts.models import Role

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()

# The README's words for each action (from "What each role can do" and the security model),
# and the navigation entry where the action starts.
ROLE_ACTIONS = {
    Role.TEACHER: {
        "Teachers** see their schools": "accounts.teacher_home",
        "their blind-scoring queue": "scoring.show_queue",
        "private practice feedback": "practice.show_practice",
        "They upload\n  their students' work": "samples.list_samples",
        "record their own score of it": "samples.list_samples",
        "Teachers of the district read rubrics": "rubrics.list_rubrics",
    },
    Role.COACH: {
        "Instructional coaches** start on *Coaching*": "accounts.coach_home",
        "the teachers in their scope": "accounts.coach_home",
        "They view work samples in their scope": "samples.list_samples",
        "promote anchor papers": "samples.list_anchors",
        "run scoring rounds": "scoring.list_rounds",
        "Coaches and district administrators open *Rubrics*": "rubrics.list_rubrics",
    },
    Role.DISTRICT_ADMIN: {
        "District administrators** keep the district's schools on *District": (
            "accounts.district_home"),
        "*Settings* page (linked from *District*)": "accounts.district_home",
        "Under *District › People*": "accounts.district_home",
        "the append-only audit log": "accounts.audit_log",
        "can purge a work sample": "samples.list_samples",
        "Coaches and district administrators open *Rubrics*": "rubrics.list_rubrics",
        "or a district administrator opens a round": "scoring.list_rounds",
    },
    Role.SCHOOL_LEADER: {
        "School leaders** (principals) see their own school's work samples": (
            "samples.list_samples"),
    },
}


def main_navigation_links(html: str) -> set[str]:
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    assert nav, "the page has no main navigation"
    return set(re.findall(r'href="([^"]+)"', nav.group(1)))


@pytest.fixture
def user_with_role(create_teacher, create_coach, create_district_admin, create_user,
                   create_school):
    makers = {Role.TEACHER: create_teacher, Role.COACH: create_coach,
              Role.DISTRICT_ADMIN: create_district_admin,
              Role.SCHOOL_LEADER: lambda: create_user(Role.SCHOOL_LEADER,
                                                      school=create_school())}
    return lambda role: makers[role]()


@pytest.mark.parametrize("role", list(ROLE_ACTIONS), ids=lambda role: role.value)
def test_each_readme_action_starts_from_the_roles_navigation(app, client, auth, user_with_role,
                                                             role):
    auth.login(user_with_role(role))
    links = main_navigation_links(client.get("/", follow_redirects=True).text)
    with app.test_request_context():
        for phrase, endpoint in ROLE_ACTIONS[role].items():
            assert phrase in README, f"the README no longer says {phrase!r}: update this table"
            assert url_for(endpoint) in links, (phrase, endpoint)
            assert client.get(url_for(endpoint)).status_code == 200, (phrase, endpoint)
