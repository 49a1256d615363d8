"""Closing a round without ticking its confirmation shows the form's own message beside the box
(the browser does not stop the submit with its tooltip), and the round stays open."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def test_closing_a_round_unticked_shows_the_forms_message(page: Page, demo):
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    page.goto("/scoring/rounds")
    open_round = page.locator("tbody tr", has=page.locator(".status-open")).first
    open_round.get_by_role("link").click()
    status = page.locator("#round-status")

    status.get_by_role("button", name="Close the round").click()
    expect(status.locator(".errors")).to_have_text("Tick the box to close the round.")
    expect(status.locator(".status")).to_have_text("Open")
