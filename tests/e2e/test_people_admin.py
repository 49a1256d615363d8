"""The district administrator adds a teacher, finds them again by search and deactivates them,
then adds a school leader, at desktop and phone width, without the page growing sideways."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in, search_people
from tests.e2e.test_layout import overflow


def _add_person(page: Page, name: str, email: str, role: str, school: str) -> None:
    page.get_by_role("link", name="New person").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option(label=role)
    page.get_by_label("School").select_option(label=school)
    assert overflow(page) <= 0
    page.get_by_role("button", name="Add person").click()
    expect(page.locator(".flashes")).to_contain_text(f"{name} is added")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


@pytest.mark.parametrize("width,height", [(1280, 900), (360, 740)])
def test_admin_finds_a_teacher_deactivates_them_and_adds_a_school_leader(
        page: Page, demo, width, height):
    page.set_viewport_size({"width": width, "height": height})
    school = demo["schools"][0]["name"]
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    page.goto("/district")
    page.get_by_role("link", name="People", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("People of")
    assert overflow(page) <= 0

    teacher = f"Quinn Marsh {width}"
    _add_person(page, teacher, f"quinn.marsh.{width}@riverbend.example", "Teacher", school)
    page.get_by_role("link", name=re.compile("^People of")).click()

    # The list narrows as the name is typed, without a page load.
    search_people(page, f"marsh {width}")
    results = page.locator("#people-results")
    expect(results).to_contain_text("1 person")
    expect(page).to_have_url(re.compile(r"q=marsh"))
    assert overflow(page) <= 0
    results.get_by_role("link", name=teacher).click()

    page.get_by_role("link", name=f"Deactivate {teacher}…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Deactivate {teacher}?")
    assert overflow(page) <= 0
    page.get_by_role("button", name=f"Deactivate {teacher}").click()
    expect(page.locator(".flashes")).to_contain_text(f"{teacher} is deactivated")
    expect(page.get_by_role("button", name=f"Reactivate {teacher}")).to_be_visible()
    assert overflow(page) <= 0

    page.get_by_role("link", name=re.compile("^People of")).click()
    page.get_by_label("Role").select_option(label="Teacher")
    search_people(page, f"marsh {width}")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text("Deactivated")

    leader = f"Rosa Grant {width}"
    _add_person(page, leader, f"rosa.grant.{width}@riverbend.example", "School leader", school)
    expect(page.locator(".role-list")).to_contain_text(f"School leader · {school}")
    assert overflow(page) <= 0
