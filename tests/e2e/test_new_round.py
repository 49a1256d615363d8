"""A coach builds a round from filtered work: nothing is ticked to start with, "Select all
matching" takes the filter's samples, an unticked one stays out, and the due date set on the
form reaches the teachers' queues. The form and the queue fit a 360 px screen."""

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from moderation.core.db import utcnow
from tests.e2e.conftest import log_in

K5_SCHOOLS = ("Northgate Elementary", "Willow Creek Elementary")
NAME = "Spring check: opinion writing"


def day_label(day) -> str:
    text = f"{day:%a} {day.day} {day:%b}"
    return text if day.year == utcnow().year else f"{text} {day.year}"


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_a_coach_filters_selects_all_matching_and_teachers_see_the_due_date(
        page: Page, browser, base_url, demo, script_errors):
    due = utcnow().date() + timedelta(days=10)
    coach = demo["coaches"][0]
    log_in(page, coach["email"], demo["passwords"]["coach"])
    page.goto("/scoring/rounds/new")
    version = page.get_by_label("Rubric version")
    opinion = version.locator("option", has_text="Opinion Writing").first
    if opinion.get_attribute("value") != version.input_value():
        with page.expect_response(re.compile(r"/scoring/rounds/new\?")):  # the form refreshes
            version.select_option(label=opinion.inner_text())
    samples = page.locator("#round-samples")
    count = samples.locator("#sample-count strong")
    expect(count).to_have_text(re.compile(r"^\d+ samples match; 0 selected\.$"))
    expect(samples.locator("input[name=sample_ids]:checked")).to_have_count(0)

    samples.get_by_label("School", exact=True).select_option(label="Pine Hill Elementary")
    expect(count).to_contain_text("16 samples match")
    samples.get_by_label("Round status").select_option(label="Scored in a closed round")
    expect(count).to_have_text("16 samples match; 0 selected.")
    samples.get_by_role("button", name="Select all 16 matching").click()
    expect(count).to_have_text("16 samples match; 16 selected.")
    samples.locator("input[name=sample_ids]").first.uncheck()
    expect(count).to_have_text("16 samples match; 15 selected.")
    page.set_viewport_size({"width": 360, "height": 740})
    assert fits_the_screen(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_label("Name of the round").fill(NAME)
    page.get_by_label("Due date (optional)").fill(due.isoformat())
    for school in page.locator("input[name=rater_school_ids]").all():
        label = school.locator("xpath=..").inner_text().strip()
        school.set_checked(label in K5_SCHOOLS)
    page.get_by_label("Validity papers (% of each queue)").fill("0")
    page.get_by_label("Common calibration set", exact=False).fill("0")
    page.get_by_role("button", name="Open the round").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    expect(page.locator("#round-status .due")).to_have_text(f"Due {day_label(due)}")
    # 15 samples, three ratings each: the unticked sample stayed out.
    expect(page.locator("#round-progress")).to_contain_text(": 45 live,")
    round_url = page.url
    try:
        teacher_sees_the_due_date(browser, base_url, demo, due, script_errors)
    finally:
        page.goto(round_url)
        page.get_by_label("Close the round now", exact=False).check()
        page.get_by_role("button", name="Close the round").click()
        expect(page.locator("#round-status .status")).to_have_text("Closed")


def teacher_sees_the_due_date(browser, base_url, demo, due, script_errors) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    script_errors.watch(page)
    try:
        log_in(page, "amara.okafor@riverbend.example", demo["passwords"]["teacher"])
        page.goto("/scoring/queue")
        row = page.locator("#queue-items tr", has_text=NAME).first
        expect(row).to_contain_text(f"Due {day_label(due)}")
        assert fits_the_screen(page)
    finally:
        context.close()
