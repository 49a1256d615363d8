"""The district administrator creates a school with two context figures, edits it and archives
it, at a desk's width and a phone's, without the page scrolling sideways."""

import os
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

WIDTHS = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}
# Where to keep what the pages looked like, when someone wants to see them.
SHOTS = os.environ.get("E2E_SHOTS")


def fits_the_width(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def look(page: Page, name: str) -> None:
    assert fits_the_width(page), f"{name} scrolls sideways"
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def fill_figure(page: Page, legend: str, value: str, year: str, source: str) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Value").fill(value)
    group.get_by_label("Year").fill(year)
    group.get_by_label("Source").fill(source)


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_creates_edits_and_archives_a_school(page: Page, demo, width):
    page.set_viewport_size(WIDTHS[width])
    name = f"Cedar Middle {uuid.uuid4().hex[:4]}"
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    page.goto("/district")
    page.get_by_role("link", name="Manage schools and their public context").click()
    look(page, f"{width}-schools")
    page.get_by_role("link", name="New school").click()

    page.get_by_label("Name").fill(name)
    page.get_by_label("Grades").fill("6-8")
    fill_figure(page, "Low-income share (%)", "140", "2025", "State report card 2024-25")
    fill_figure(page, "English learners share (%)", "18", "2025", "State report card 2024-25")
    page.get_by_role("button", name="Create school").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Low-income share: enter a percentage from 0 to 100.")
    look(page, f"{width}-new-school-refused")
    fill_figure(page, "Low-income share (%)", "47.5", "2025", "State report card 2024-25")
    page.get_by_role("button", name="Create school").click()

    expect(page.locator(".flash-success")).to_contain_text(f"{name} is added")
    row = page.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("47.5%")
    expect(row).to_contain_text("18.0%")
    look(page, f"{width}-school-added")

    page.get_by_role("link", name=f"Edit {name}").click()
    expect(page.get_by_role("group", name="Low-income share (%)").get_by_label("Value")
           ).to_have_value("47.5")
    fill_figure(page, "English learners share (%)", "21", "2026", "District census")
    look(page, f"{width}-edit-school")
    page.get_by_role("button", name="Save school").click()
    expect(page.locator(".flash-success")).to_contain_text(f"{name} is saved")
    expect(row).to_contain_text("21.0%")
    expect(row).to_contain_text("2026, District census")

    page.get_by_role("button", name=f"Archive {name}").click()
    expect(page.locator(".flash-success")).to_contain_text(
        "no longer offered for uploads or new rounds")
    expect(page.get_by_role("button", name=f"Unarchive {name}")).to_be_visible()
    look(page, f"{width}-school-archived")

    page.goto("/district/audit?action=school_changed")
    expect(page.get_by_text(f"Changed school “{name}”")).to_be_visible()
