"""A person chooses their own time zone on their account page, and the times on the pages
change with it; the forms fit a phone's width."""

import re
from datetime import datetime

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

PHONE = {"width": 360, "height": 740}


def fits_the_width(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def choose_zone(page: Page, label: str) -> None:
    page.goto("/account/password")
    page.get_by_label("Your time zone").select_option(label=label)
    page.get_by_role("button", name="Save time zone").click()
    expect(page.locator("#own-time-zone [role=status]")).to_contain_text("Saved.")


def test_choosing_a_time_zone_changes_the_times_shown(page: Page, demo):
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    logins = "/district/audit?action=login"  # the newest is this login, in every zone
    page.goto(logins)
    first_time = page.locator(".audit-row time").first
    # The demo district reads times in New York's zone.
    expect(first_time).to_have_text(re.compile(r" E[SD]T$"))
    in_new_york = first_time.get_attribute("datetime")

    try:
        choose_zone(page, "Tokyo")
        expect(page.locator("#own-time-zone")).to_contain_text(
            "Times on every page show in Asia/Tokyo")
        page.goto(logins)
        expect(first_time).to_have_text(re.compile(r" JST$"))
        in_tokyo = first_time.get_attribute("datetime")
        assert in_tokyo.endswith("+09:00") and in_tokyo != in_new_york
        assert datetime.fromisoformat(in_tokyo) == datetime.fromisoformat(in_new_york)

        for width in (PHONE, {"width": 1280, "height": 800}):
            page.set_viewport_size(width)
            for path in ("/account/password", "/district"):
                page.goto(path)
                assert fits_the_width(page), f"{path} scrolls sideways at {width['width']} px"
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})
        choose_zone(page, "Your district's time zone (America/New_York)")
    page.goto(logins)
    expect(first_time).to_have_text(re.compile(r" E[SD]T$"))
