"""Onboarding a district, end to end: the administrator imports a roster of two schools and
ten people, reads the dry run, applies it and invites a teacher; the teacher opens the link in
the message the local SMTP server received, sets a password and lands on their home page; a
password reset link works once and then not again."""

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import log_in, search_people
from tests.e2e.test_invitations import link_mailed_to
from tests.e2e.test_roster_import import archive_imported_schools, roster_for

TAG = 7  # this test's own ids, emails and school names in the shared demo district
TEACHER = "Ana Lopez"
EMAIL = f"ana.lopez.{TAG}@harborview.example"


def test_a_district_is_onboarded_from_its_roster(page: Page, browser: Browser, demo, live_smtp,
                                                 base_url, tmp_path):
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    page.goto("/district")
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_role("link", name="Import a roster").click()
    page.get_by_label("Roster file").set_input_files(str(roster_for(TAG, tmp_path)))
    page.get_by_role("button", name="Check the roster").click()

    # The dry run: everything to be created, nothing to change or deactivate, nothing saved yet.
    expect(page.get_by_role("heading", level=1)).to_have_text("Roster dry run")
    summary = page.locator("#roster-summary")
    expect(summary).to_contain_text("Schools to create2")
    expect(summary).to_contain_text("People to create10")
    expect(page.get_by_role("cell", name=EMAIL)).to_be_visible()
    people = page.context.new_page()
    people.goto("/district")
    people.get_by_role("link", name="People", exact=True).click()
    search_people(people, EMAIL)
    expect(people.locator("#people-results")).to_contain_text("No one matches.")
    people.close()

    page.get_by_role("button", name="Apply the roster").click()
    expect(page.locator(".flashes")).to_contain_text("Roster applied: 10 people added")
    page.get_by_role("link", name="See the people").click()
    search_people(page, EMAIL)
    page.locator("#people-results").get_by_role("link", name=TEACHER).click()
    page.get_by_role("button", name=f"Send invitation to {TEACHER}").click()
    expect(page.locator(".flashes")).to_contain_text(f"Invitation sent to {EMAIL}")
    invitation = link_mailed_to(live_smtp, EMAIL, "invited you")

    teacher = browser.new_context(base_url=base_url)
    tab = teacher.new_page()
    tab.goto(invitation)
    expect(tab.get_by_role("heading", level=1)).to_have_text(f"Welcome, {TEACHER}")
    tab.get_by_label("New password", exact=True).fill("quarry-saffron-beacon-51")
    tab.get_by_label("Repeat the new password").fill("quarry-saffron-beacon-51")
    tab.get_by_role("button", name="Set password and log in").click()
    expect(tab).to_have_url(re.compile(r"/teacher$"))
    expect(tab.get_by_role("heading", level=1)).to_have_text("My scoring")
    tab.get_by_role("button", name="Log out").click()

    # Logging in with the new password, then forgetting it.
    log_in(tab, EMAIL, "quarry-saffron-beacon-51")
    expect(tab).to_have_url(re.compile(r"/teacher$"))
    tab.get_by_role("button", name="Log out").click()
    tab.get_by_role("link", name="Forgot your password?").click()
    tab.get_by_label("Your email address").fill(EMAIL)
    tab.get_by_role("button", name="Email me a link").click()
    reset = link_mailed_to(live_smtp, EMAIL, "Reset your password")
    tab.goto(reset)
    tab.get_by_label("New password", exact=True).fill("meadow-cobalt-harvest-77")
    tab.get_by_label("Repeat the new password").fill("meadow-cobalt-harvest-77")
    tab.get_by_role("button", name="Set password and log in").click()
    expect(tab).to_have_url(re.compile(r"/teacher$"))
    tab.goto(reset)
    expect(tab.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    teacher.close()

    archive_imported_schools(page, TAG)
