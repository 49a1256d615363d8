"""Each role logs in, lands on its home page, is refused another role's page, and logs out."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def accounts(demo):
    passwords = demo["passwords"]
    teacher = demo["schools"][0]["teachers"][0]
    return [
        ("teacher", teacher["email"], passwords["teacher"], "/teacher", "My scoring", "/district"),
        ("coach", demo["coaches"][1]["email"], passwords["coach"], "/coach", "Coaching",
         "/district/audit"),
        ("district_admin", demo["district_admins"][0]["email"], passwords["district_admin"],
         "/district", "Riverbend Unified School District", "/coach"),
        ("school_leader", demo["school_leaders"][0]["email"], passwords["school_leader"],
         "/samples/", "Work samples", "/district"),
    ]


@pytest.mark.parametrize("index", [0, 1, 2, 3],
                         ids=["teacher", "coach", "district_admin", "school_leader"])
def test_role_journey(page: Page, demo, index):
    role, email, password, home, heading, forbidden = accounts(demo)[index]
    log_in(page, email, password)
    expect(page).to_have_url(re.compile(re.escape(home) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)

    page.goto(forbidden)
    expect(page.get_by_role("heading", name="You do not have access to this page")).to_be_visible()

    page.goto(home)
    log_out(page)
    page.goto(home)
    expect(page).to_have_url(re.compile(r"/login"))


def test_wrong_password_shows_a_message(page: Page, demo):
    log_in(page, demo["district_admins"][0]["email"], "not-my-password")
    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()


def test_district_page_lists_demo_schools_with_context(page: Page, demo):
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    for school in demo["schools"]:
        expect(page.get_by_role("cell", name=school["name"])).to_be_visible()
    page.get_by_role("link", name="Manage schools and their public context").click()
    # The context, each figure with its year and source.
    northgate = page.get_by_role("row").filter(has_text="Northgate Elementary")
    expect(northgate).to_contain_text("78.0%")
    expect(northgate).to_contain_text("2025, State school report card 2024-25")
