"""The district administrator changes a reliability threshold on the settings page and sees it
saved, with its default and source beside it; the page fits a phone's width."""

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

PHONE = {"width": 360, "height": 740}


def open_settings(page: Page) -> None:
    page.goto("/district")
    page.get_by_role("link", name="District settings").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Settings of")


def save_reliable_from(page: Page, value: str) -> None:
    page.get_by_label("Reliable from").fill(value)
    page.get_by_role("button", name="Save settings").click()


def test_the_administrator_changes_a_threshold_and_sees_it_saved(page: Page, demo):
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    open_settings(page)
    reliable_from = page.locator("#alpha_rely-hint")
    expect(reliable_from).to_contain_text("Default: 0.8.")
    expect(reliable_from).to_contain_text("Krippendorff")

    try:
        save_reliable_from(page, "0.6")
        expect(page.locator("#alpha_discard-errors")).to_have_text(
            "Lowest usable reliability must be below reliable from (0.6).")

        save_reliable_from(page, "0.85")
        expect(page.locator("#district-settings [role=status]")).to_have_text(
            "Saved: Reliable from.")
        page.reload()
        expect(page.get_by_label("Reliable from")).to_have_value("0.85")
        page.goto("/district")
        expect(page.locator("body")).to_contain_text("reliable from (0.85)")
    finally:
        open_settings(page)
        save_reliable_from(page, "0.8")
        expect(page.locator("#district-settings [role=status]")).to_be_visible()


def test_the_settings_page_fits_a_phone(page: Page, demo):
    page.set_viewport_size(PHONE)
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    open_settings(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
