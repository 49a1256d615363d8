"""Issue 12's journey through an analysis, on a demo server of its own (closing a round and
raising a district threshold would change what the shared demo's other tests read):

- a coach closes an open round, watches its analysis move on the round's page without reloading
  it, and reads the report: the alpha sentence and interval per criterion, raters under
  anonymous labels only, the findings;
- the district administrator reads a past moderation's school standards and equity, raises the
  district's suppression rule on the settings page, analyses again and sees the schools now below
  the rule counted, not shown.

The demo's rounds each span one grade band's three schools, too few for the equity analysis (it
needs five) and all well above the suppression rule (six raters and 18-19 cross-marked samples
each, against 3 and 10): the administrator's journey reads the seed's past moderation of all nine
schools (seed_data/demo/past.py, brought in with the product's own import; its last two schools
brought fewer samples).

The server pauses ANALYSIS_STEP_DELAY at each step, so the progress is there to be seen; set
SHOTS_DIR to keep screenshots of the round page during its run and of the report.
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import WIDTHS, free_port, log_in, serve_demo, shoot

STEP_DELAY_SECONDS = "1"
PAST_ROUND = "Past moderation: opinion writing, all schools"
# Runs of a small round finish in seconds; a shared, busy machine gets a margin.
RUN_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def journey_url(fresh_databases, tmp_path_factory):
    database = fresh_databases.create()
    port = free_port()
    with serve_demo(database, tmp_path_factory, port=port,
                    server_env={"ANALYSIS_STEP_DELAY": STEP_DELAY_SECONDS}) as url:
        yield url


@pytest.fixture
def page(browser: Browser, journey_url):
    """This module's pages talk to its own server, not the shared demo's."""
    context = browser.new_context(base_url=journey_url, viewport=WIDTHS[1280])
    yield context.new_page()
    context.close()


def teacher_names(demo: dict) -> list[str]:
    return [teacher["name"] for school in demo["schools"] for teacher in school["teachers"]]


def open_round(page: Page, name: str) -> None:
    page.goto("/scoring/rounds")
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def wait_until_analysed(page: Page) -> None:
    """The panel shows a run under way, then polls until it is finished; the page itself is
    never reloaded."""
    progress = page.locator("#round-analysis progress")
    expect(progress).to_be_visible()
    page.evaluate("window.notReloaded = true")
    expect(progress).to_have_count(0, timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#round-analysis .analysis-headline")).to_contain_text(
        re.compile(r"Results as of \d+ ratings"))
    assert page.evaluate("window.notReloaded === true")


def test_a_coach_closes_a_round_watches_its_analysis_and_reads_the_report(page: Page, demo):
    band = demo["grade_bands"][1]
    coach = next(c for c in demo["coaches"] if not c.get("school"))
    log_in(page, coach["email"], demo["passwords"]["coach"])
    open_round(page, band["open_round"])
    panel = page.locator("#round-analysis")
    expect(panel).to_contain_text("No analysis yet.")

    page.get_by_label("Close the round now", exact=False).check()
    page.get_by_role("button", name="Close the round").click()
    expect(page.locator("#round-status .status")).to_have_text("Closed")
    # The closed round's run shows up in the panel, waiting or at one of its steps.
    expect(panel.locator("p strong").first).to_have_text(
        re.compile(r"^(Waiting to start|Running)$"))
    expect(panel).to_contain_text(re.compile(r"Running: .+ \(step \d+ of \d+\)"),
                                  timeout=RUN_TIMEOUT_MS)
    shoot(page, "round-analysis-running")
    wait_until_analysed(page)

    panel.get_by_role("link", name="Read the round's report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Report: {band['open_round']}")
    criteria = page.locator("#report-reliability .evidence li")
    expect(criteria).to_have_count(5)  # the Science Investigation rubric's criteria
    for line in criteria.all():
        expect(line).to_contain_text(re.compile(
            r"Evidence: alpha -?\d\.\d+ \(-?\d\.\d\d(-| to )-?\d\.\d\d\), "
            r"(below|enough for|at or above)"))
    severity = page.locator("#chart-rater-severity")
    expect(severity.locator("svg")).to_be_visible()
    severity.get_by_text("The data in this chart").click()
    labels = severity.locator("tbody tr td:first-child").all_inner_texts()
    assert labels and all(re.fullmatch(r"Rater \d+", label) for label in labels), labels
    findings = page.locator("#report-findings")
    expect(findings.get_by_role("heading", name="Findings and proposed actions")).to_be_visible()
    expect(findings.locator("ol.findings > li").first).to_contain_text("Proposed:")
    text = page.locator("body").inner_text()
    assert [name for name in teacher_names(demo) if name in text] == []
    shoot(page, "round-report")


def funnel_rows(page: Page) -> dict[str, dict[str, str]]:
    """The funnel chart's data table, opened: school name -> its columns."""
    funnel = page.locator("#chart-school-funnel")
    funnel.get_by_text("The data in this chart").click()
    columns = funnel.locator("thead th").all_inner_texts()
    rows = funnel.locator("tbody tr").all()
    return {cells[0]: dict(zip(columns, cells, strict=True))
            for cells in (row.locator("td").all_inner_texts() for row in rows)}


def equity_sentence(n_schools: int) -> re.Pattern:
    """The equity view's sentence on leniency and low-income share, with slope and interval."""
    return re.compile(
        rf"Across {n_schools} schools, leniency (rises|falls|does not change) with low-income "
        r"share: slope -?\d\.\d\d points per [^(]+\(-?\d\.\d\d to -?\d\.\d\d\)")


def set_fewest_cross_marked(page: Page, value: int) -> int:
    """Save the district's rule on the settings page; returns the value it had."""
    page.goto("/district")
    page.get_by_role("link", name="District settings").click()
    field = page.get_by_label("Fewest cross-marked samples")
    was = int(field.input_value())
    field.fill(str(value))
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#district-settings [role=status]")).to_contain_text("Saved")
    return was


def open_schools(page: Page, *, analyse: bool) -> None:
    """The past moderation's schools page, after analysing it again if `analyse`."""
    open_round(page, PAST_ROUND)
    if analyse:
        page.locator("#round-analysis").get_by_role(
            "button", name=re.compile("^Run the analysis")).click()
        wait_until_analysed(page)
    page.get_by_role("link", name="Read the round's report").click()
    page.get_by_role("link", name="School standards and equity").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"School standards and equity: {PAST_ROUND}")


def test_the_district_administrator_reads_school_standards_equity_and_suppression(
        page: Page, demo):
    admin = demo["district_admins"][0]
    log_in(page, admin["email"], demo["passwords"]["district_admin"])
    open_schools(page, analyse=False)      # the seed analysed it
    standards = page.locator("#report-standards")
    expect(standards.locator("#chart-school-funnel svg")).to_be_visible()
    expect(standards).not_to_contain_text("counted, not shown")
    before = funnel_rows(page)
    assert set(before) == {school["name"] for school in demo["schools"]}
    equity = page.locator("#report-equity")
    expect(equity).to_contain_text(equity_sentence(len(before)))

    # A rule just above the fewest cross-marked samples of any school leaves those schools out.
    counts = {school: int(row["Cross-marked samples"]) for school, row in before.items()}
    rule = min(counts.values()) + 1
    below = sorted(school for school, n in counts.items() if n < rule)
    assert len(counts) - len(below) >= 5, counts  # enough stay for the equity analysis
    was = set_fewest_cross_marked(page, rule)
    try:
        open_schools(page, analyse=True)    # new settings: a run of its own, step by step
        n = len(below)
        expect(standards).to_contain_text(
            f"{n} of {len(counts)} {'school has' if n == 1 else 'schools have'} too few raters "
            "or cross-marked samples to show")
        after = funnel_rows(page)
        assert set(after) == set(counts) - set(below)
        # Not in any chart's data table (open or not), nor anywhere else on the page.
        shown = " ".join(page.locator("figure.chart table").all_text_contents())
        shown += page.locator("main").inner_text()
        assert [school for school in below if school in shown] == []
        expect(equity).to_contain_text(equity_sentence(len(counts) - n))
        shoot(page, "schools-suppressed")
    finally:
        set_fewest_cross_marked(page, was)
