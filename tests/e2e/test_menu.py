"""On a narrow screen the main menu is a disclosure that works with the keyboard alone."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def test_the_menu_opens_and_closes_with_the_keyboard(page: Page, demo):
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    toggle = page.get_by_role("button", name="Menu")
    samples = page.get_by_role("navigation", name="Main").get_by_role("link", name="Work samples")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(samples).to_be_hidden()

    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(samples).to_be_visible()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Work samples":
            break
    expect(samples).to_be_focused()

    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(samples).to_be_hidden()

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the second entry of the menu
    expect(page).to_have_url(re.compile(r"/district/audit$"))
