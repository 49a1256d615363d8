"""The district administrator reads the audit log in pages, narrows it by what happened, and
downloads the filtered events as CSV, at desktop and phone width."""

import csv
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in
from tests.e2e.test_layout import overflow


@pytest.mark.parametrize("width,height", [(1280, 900), (360, 740)])
def test_the_audit_log_pages_filters_and_downloads_what_it_shows(page: Page, demo, tmp_path,
                                                                  width, height):
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    page.goto("/district/audit")
    summary = page.locator(".audit-summary p")
    expect(summary).to_have_text(re.compile(r"^Events 1–\d+ of \d+$"))
    total = int(summary.inner_text().rsplit(" ", 1)[1])
    assert page.locator(".audit-row").count() == min(total, 50)
    assert overflow(page) <= 0
    if total > 50:
        page.get_by_role("link", name="Next page").click()
        expect(summary).to_have_text(re.compile(r"^Events 51–\d+ of \d+$"))
        expect(page).to_have_url(re.compile(r"page=2"))

    # Narrow to one kind of event: the list (and its count) answer without a page load.
    what = page.get_by_label("What")
    label = what.locator("option").nth(1).inner_text()
    what.select_option(label=label)
    expect(page).to_have_url(re.compile(r"action="))
    expect(summary).to_have_text(re.compile(r"^Events 1–\d+ of \d+$"))
    shown = page.locator('.audit-row td[data-label="What"]')
    assert shown.count() > 0
    assert set(shown.all_inner_texts()) == {label}
    narrowed = int(summary.inner_text().rsplit(" ", 1)[1])
    assert narrowed <= total
    assert overflow(page) <= 0

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"Download these \d+ events")).click()
    path = tmp_path / "audit.csv"
    download.value.save_as(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header, events = rows[0], rows[1:]
    assert len(events) == narrowed
    assert {row[header.index("Action")] for row in events} == {label}
