"""A coach opens a closed round's report from its page: the charts sit inline under the strict
CSP (no script error, no refused style), each with its data one click away, and raters appear
under anonymous labels only; the district administrator's report has no rater chart."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def open_seeded_report(page: Page, demo: dict) -> None:
    """The report of the demo's first completed round, which the seed analysed. (Other
    browser tests close rounds of their own in the same demo, whose runs may still be going.)"""
    page.goto("/scoring/rounds")
    page.get_by_role("link", name=demo["grade_bands"][0]["completed_round"], exact=True).click()
    page.get_by_role("link", name="Read the round's report").click()


def test_a_coach_reads_a_rounds_report_and_its_data(page: Page, demo):
    coach = next(c for c in demo["coaches"] if not c.get("school"))
    log_in(page, coach["email"], demo["passwords"]["coach"])
    open_seeded_report(page, demo)

    expect(page.get_by_role("heading", name="Reliability per criterion")).to_be_visible()
    expect(page.locator(".analysis-headline")).to_contain_text(re.compile(r"As of \d+ ratings"))
    reliability = page.locator("#chart-reliability")
    expect(reliability.locator("svg")).to_be_visible()
    reliability.get_by_text("The data in this chart").click()
    expect(reliability.locator("table")).to_contain_text("Alpha")
    severity = page.locator("#chart-rater-severity")
    severity.get_by_text("The data in this chart").click()
    expect(severity.locator("tbody tr").first).to_contain_text(re.compile(r"^Rater \d+"))


def test_the_district_administrators_report_shows_no_rater(page: Page, demo):
    admin = demo["district_admins"][0]
    log_in(page, admin["email"], demo["passwords"]["district_admin"])
    open_seeded_report(page, demo)
    expect(page.get_by_role("heading", name="Raters")).to_be_visible()
    expect(page.locator("#chart-rater-severity")).to_have_count(0)
    page.get_by_role("link", name="School standards and equity").click()
    expect(page.get_by_role("heading", name="School standards", exact=True)).to_be_visible()
