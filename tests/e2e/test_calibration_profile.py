"""A teacher opens their calibration profile from their home page and reads, on a desktop and
on a phone, who else can see it, a sentence per criterion with its interval, their closed
round against the other raters, and practice papers to follow."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import log_in

VIEWPORTS = {1280: {"width": 1280, "height": 900}, 360: {"width": 360, "height": 740}}


@pytest.mark.parametrize("width", VIEWPORTS)
def test_a_teacher_reads_their_calibration_profile(browser: Browser, base_url, demo,
                                                   script_errors, width):
    context = browser.new_context(base_url=base_url, viewport=VIEWPORTS[width])
    page = context.new_page()
    script_errors.watch(page)
    log_in(page, demo["schools"][0]["teachers"][0]["email"], demo["passwords"]["teacher"])
    page.goto("/teacher")
    page.get_by_role("link", name="My calibration profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My calibration profile")
    expect(page.locator(".who-sees")).to_contain_text("Who can see this: only you.")
    criteria = page.locator("#profile-criteria li")
    expect(criteria.first).to_contain_text(re.compile(r"95% interval"))
    expect(page.locator("#profile-rounds")).to_contain_text("Autumn moderation")
    # Nothing of the page is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    practice = page.locator("#profile-practice a").first
    practice.click()
    expect(page).to_have_url(re.compile(r"/scoring/practice/papers/\d+$"))
    assert script_errors.unexpected() == []
    context.close()


def test_a_teacher_sees_their_own_figures_and_nobody_elses(page, live_database, demo):
    me, colleague = demo["schools"][0]["teachers"][:2]
    log_in(page, me["email"], demo["passwords"]["teacher"])
    page.goto("/teacher")
    page.get_by_role("link", name="My calibration profile").click()
    expect(page.locator("#profile-criteria li").first).to_contain_text(
        re.compile(r"Average difference [+-]\d\.\d\d points"))
    others = [t["name"] for school in demo["schools"] for t in school["teachers"]
              if t["email"] != me["email"]]
    text = page.locator("main").inner_text()
    assert [name for name in others if name in text] == []

    # A colleague's profile address, typed in, is answered as if it did not exist.
    answer = page.goto(f"/reports/teachers/{user_id(live_database, colleague['email'])}/profile")
    assert answer.status == 404
    assert colleague["name"] not in page.locator("body").inner_text()


def user_id(database_url: str, email: str) -> int:
    """A person's id in the live demo's database (nothing in a teacher's pages links it)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT id FROM users WHERE email = :email"),
                                      {"email": email}).scalar_one()
    finally:
        engine.dispose()
