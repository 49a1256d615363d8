"""Issue 13's live joint-scoring session in four browsers, on a demo server of its own (joining
a session's agenda keeps that work out of the participants' later rounds, which the shared
demo's queue tests read):

- the district-wide coach sets up a cross-school session through the form, two samples on the
  agenda and a teacher as co-facilitator, and reads the join code from the page;
- two teachers of different schools join by code from their home page and score blind: before
  the reveal no page (the facilitator's included, nor its poll's answer) shows anyone else's
  score, the facilitator sees who submitted; one of them reloads mid-item and catches up;
- the reveal shows every page the distribution; a third teacher, of a third school, joins after
  it and their scores are tagged as given after the reveal, on the page and in the summary;
- discussion, a dissent, a rescore, a consensus per criterion;
- the facilitator leaves (their browser closes), the co-facilitator takes over, runs the second
  item and closes the session; the summary shows agreement before and after the discussion,
  the consensus and who attended.

Every step waits for the state the pages poll into (every 2 s), never for a fixed time. Set
SHOTS_DIR to keep screenshots of the facilitator's and a teacher's page and of the summary.
"""

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import WIDTHS, ScriptErrors, log_in, serve_demo, shoot

TITLE = "Cross-school moderation: opinion writing"
RUBRIC = "Opinion Writing"
# A poll every 2 s, on a shared machine: a state reaches every page well within this.
POLL_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def session_url(fresh_databases, tmp_path_factory):
    with serve_demo(fresh_databases.create(), tmp_path_factory) as url:
        yield url


@pytest.fixture
def browsers(browser: Browser, session_url):
    """A browser context per person, each with its own cookies; closed at the end (or sooner,
    by the test, for someone who leaves)."""
    errors = ScriptErrors()
    contexts: list[BrowserContext] = []

    def open_page() -> Page:
        context = browser.new_context(base_url=session_url, viewport=WIDTHS[1280])
        contexts.append(context)
        page = context.new_page()
        errors.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors.unexpected(), errors.unexpected()


def live(page: Page):
    return page.locator("#session-live")


def expect_state(pages: list[Page], state: str) -> None:
    """Every page has polled its way to `state` ("Now: Scoring · item 1 of 2 ...")."""
    for page in pages:
        expect(page.locator(".session-state strong")).to_have_text(state,
                                                                   timeout=POLL_TIMEOUT_MS)


def set_up_session(page: Page, co_facilitator: str) -> str:
    """The set-up form, filled in: two of the rubric's samples on the agenda and a
    co-facilitator. Returns the join code the session page shows."""
    page.goto("/sessions/")
    page.get_by_role("link", name="Set up a session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up a session")
    page.get_by_label("Title").fill(TITLE)
    rubric = page.get_by_label("Rubric")
    rubric.select_option(label=next(o for o in rubric.locator("option").all_inner_texts()
                                    if o.startswith(RUBRIC)))
    page.get_by_label("Teachers from the district's schools").check()
    # The K-5 rubric's work comes from the elementary schools; the first two such samples.
    samples = page.locator(".session-form fieldset label.choice").filter(
        has_text="Elementary")
    for n in range(2):
        samples.nth(n).locator("input").check()
    page.get_by_label("Co-facilitator (optional)").select_option(label=co_facilitator)
    page.get_by_role("button", name="Create the session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    code = page.locator("p.muted strong.code").inner_text()
    assert re.fullmatch(r"[A-Z]{6}", code), code
    expect_state([page], "Briefing")
    return code


def join_from_home(page: Page, code: str) -> None:
    page.goto("/")
    page.locator("#join-session").get_by_label("Join code").fill(code.lower())
    page.get_by_role("button", name="Join the session").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)


def score(page: Page, levels: list[int], submitted: str) -> None:
    """Tick a level per criterion of the session's score form and submit it."""
    form = live(page).locator("form.score-form")
    criteria = form.locator("fieldset.criterion-choice")
    expect(criteria).to_have_count(len(levels))
    for n, level in enumerate(levels):
        criteria.nth(n).locator("input[type=radio]").nth(level - 1).check()
    form.get_by_role("button", name="Submit scores").click()
    expect(live(page).locator("[role=status]")).to_have_text(submitted)


def own_scores(page: Page) -> list[str]:
    return live(page).locator(".my-scores .level-score").all_inner_texts()


def assert_blind(page: Page, session_id: str, others: list[str]) -> None:
    """Neither the page nor its poll's full answer shows a score other than the viewer's: no
    distribution, no one else's name beside a score."""
    expect(live(page).locator(".dot-strip, .level-counts")).to_have_count(0)
    expect(live(page).get_by_text("Independent scores")).to_have_count(0)
    answer = page.request.get(f"/sessions/{session_id}/poll?version=-1")
    assert answer.status == 200
    assert "dot-strip" not in answer.text() and "level-counts" not in answer.text()
    texts = live(page).locator(".my-scores li").all_inner_texts()
    assert not [name for name in others for text in texts if name in text]


def record_consensus(page: Page, n_criteria: int, levels: list[int], rationale: str) -> None:
    for n in range(n_criteria):
        form = live(page).locator("form[id^=consensus-]").nth(n)
        form.locator("select[name=level]").select_option(str(levels[n]))
        form.locator("select[name=method]").select_option(
            "unanimous" if n else "facilitator")
        form.locator("textarea[name=rationale]").fill(f"{rationale} (criterion {n + 1})")
        form.locator("textarea[name=evidence]").fill(f"Paragraph {n + 1}, first sentence")
        form.get_by_role("button", name="Record").click()
        # The recorded level, not the form's passing "recorded" message: a poll sent before
        # the click may answer after it with the new state, which has no message to show.
        expect(live(page).locator(".consensus-criterion").nth(n)).to_contain_text(
            f"level {levels[n]}")


@pytest.mark.slow
def test_a_live_session_across_schools_in_four_browsers(browsers, demo):
    coach = next(c for c in demo["coaches"] if not c.get("school"))
    elementary = [s for s in demo["schools"] if s["grade_band"] == "K-5"]
    # Three teachers of three schools, not the first of each (the demo's fresh queue).
    first, co_facilitator, late = (school["teachers"][1] for school in elementary)
    teacher_password = demo["passwords"]["teacher"]

    facilitator = browsers()
    log_in(facilitator, coach["email"], demo["passwords"]["coach"])
    code = set_up_session(facilitator, co_facilitator["name"])
    session_id = re.search(r"/sessions/(\d+)", facilitator.url).group(1)

    first_page, co_page, late_page = browsers(), browsers(), browsers()
    for page, teacher in ((first_page, first), (co_page, co_facilitator)):
        log_in(page, teacher["email"], teacher_password)
        join_from_home(page, code)
    expect_state([facilitator, first_page, co_page], "Briefing")
    expect(co_page.get_by_role("button", name="Take over facilitating")).to_be_visible()
    expect(first_page.locator("#session-controls")).to_have_count(0)

    # Item 1: blind scoring.
    facilitator.get_by_role("button", name="Start the first item").click()
    expect_state([facilitator, first_page, co_page], "Scoring")
    for page in (facilitator, first_page, co_page):
        expect(page.locator(".session-state")).to_contain_text("item 1 of 2")
    n_criteria = live(first_page).locator("fieldset.criterion-choice").count()
    assert n_criteria >= 2
    expect(live(facilitator).locator("form.score-form")).to_have_count(0)
    first_levels = [2] * n_criteria
    co_levels = [3] + [2] * (n_criteria - 1)
    score(first_page, first_levels, "Your scores are in. They stay hidden until the reveal.")
    expect(live(facilitator)).to_contain_text("1 person has submitted", timeout=POLL_TIMEOUT_MS)
    expect(live(facilitator)).to_contain_text(f"Submitted: {first['name']}")
    expect(live(co_page)).to_contain_text("1 person has submitted", timeout=POLL_TIMEOUT_MS)
    score(co_page, co_levels, "Your scores are in. They stay hidden until the reveal.")
    expect(live(facilitator)).to_contain_text(
        f"Submitted: {', '.join(sorted([first['name'], co_facilitator['name']]))}",
        timeout=POLL_TIMEOUT_MS)
    expect(live(facilitator)).to_contain_text("2 people have submitted")
    assert_blind(facilitator, session_id, [first["name"], co_facilitator["name"]])
    assert_blind(first_page, session_id, [co_facilitator["name"]])
    assert_blind(co_page, session_id, [first["name"]])
    assert own_scores(first_page) == [str(n) for n in first_levels]
    assert own_scores(co_page) == [str(n) for n in co_levels]
    shoot(facilitator, "session-facilitator-before-reveal")
    shoot(first_page, "session-teacher-before-reveal")

    # A reload mid-item: the page comes back to the current state, not the briefing.
    first_page.reload()
    expect_state([first_page], "Scoring")
    expect(live(first_page)).to_contain_text("2 people have submitted")
    assert own_scores(first_page) == [str(n) for n in first_levels]
    expect(live(first_page).locator("form.score-form")).to_have_count(0)

    # The reveal reaches every page.
    facilitator.get_by_role("button", name="Reveal the scores").click()
    expect_state([facilitator, first_page, co_page], "Revealed")
    for page in (facilitator, first_page, co_page):
        strips = live(page).locator(".dot-strip")
        expect(strips).to_have_count(n_criteria, timeout=POLL_TIMEOUT_MS)
        expect(strips.first).to_contain_text("2 scores · spread 1")
        expect(strips.nth(1)).to_contain_text("2 scores · spread 0")
        # Names are off by default: the strip shows levels and counts only.
        expect(strips.first).not_to_contain_text(first["name"])
    shoot(first_page, "session-teacher-after-reveal")

    # A third school's teacher joins after the reveal: their scores are kept apart.
    log_in(late_page, late["email"], teacher_password)
    join_from_home(late_page, code)
    expect_state([late_page], "Revealed")
    expect(live(late_page).locator(".dot-strip")).to_have_count(n_criteria)
    expect(live(late_page).locator("form.score-form .notice")).to_contain_text(
        "yours will be kept as given after the reveal")
    score(late_page, [4] * n_criteria, "Your scores are in, marked as given after the reveal.")
    expect(live(late_page).locator(".my-scores li").first).to_contain_text("(after the reveal)")
    expect(live(late_page).locator(".dot-strip").first).to_contain_text("2 scores")

    # Discussion, a dissent, a rescore.
    facilitator.get_by_role("button", name="Start the discussion").click()
    everyone = [facilitator, first_page, co_page, late_page]
    expect_state(everyone, "Discussing")
    first_page.get_by_label("Your dissent (kept without your name)").fill(
        "The claim is stated but never defended.")
    first_page.get_by_role("button", name="Note my dissent").click()
    expect(live(first_page).locator("[role=status]")).to_contain_text("Your dissent is noted")
    facilitator.get_by_role("button", name="Ask everyone to rescore").click()
    expect_state(everyone, "Rescoring")
    expect(live(first_page).locator("form.score-form .notice")).to_contain_text("Rescoring")
    score(first_page, [3] + [2] * (n_criteria - 1), "Your rescores are in.")
    score(co_page, co_levels, "Your rescores are in.")
    facilitator.get_by_role("button", name="Back to the discussion").click()
    expect_state(everyone, "Discussing")
    expect(live(first_page).get_by_role("heading", name="Rescores after the discussion")
           ).to_be_visible(timeout=POLL_TIMEOUT_MS)

    record_consensus(facilitator, n_criteria, [3] + [2] * (n_criteria - 1),
                     "The reasons are linked to the claim")
    expect(live(first_page).locator(".consensus-criterion").first).to_contain_text(
        "level 3", timeout=POLL_TIMEOUT_MS)

    # The facilitator leaves; the co-facilitator takes over and runs the second item.
    facilitator.context.close()
    co_page.get_by_role("button", name="Take over facilitating").click()
    expect(co_page.get_by_role("button", name="Take over facilitating")).to_have_count(0)
    co_page.get_by_role("button", name="Agreed: next item").click()
    pages = [co_page, first_page, late_page]
    expect_state(pages, "Scoring")
    for page in pages:
        expect(page.locator(".session-state")).to_contain_text("item 2 of 2")
    expect(live(co_page).locator("form.score-form")).to_have_count(0)  # she facilitates now
    score(first_page, [2] * n_criteria, "Your scores are in. They stay hidden until the reveal.")
    score(late_page, [2] * n_criteria, "Your scores are in. They stay hidden until the reveal.")
    expect(live(co_page)).to_contain_text("2 people have submitted", timeout=POLL_TIMEOUT_MS)
    assert_blind(co_page, session_id, [first["name"], late["name"]])
    assert_blind(first_page, session_id, [late["name"]])
    co_page.get_by_role("button", name="Reveal the scores").click()
    expect_state(pages, "Revealed")
    expect(live(first_page).locator(".dot-strip").first).to_contain_text("2 scores · spread 0")
    record_consensus(co_page, n_criteria, [2] * n_criteria, "Every reason is explained")
    co_page.get_by_role("button", name="Agreed: next item").click()
    expect_state(pages, "Debrief")
    co_page.get_by_role("button", name="Close the session").click()
    expect_state(pages, "Closed")

    first_page.get_by_role("link", name="See the summary").click()
    expect(first_page.get_by_role("heading", level=1)).to_have_text(f"Summary: {TITLE}")
    rows = first_page.locator("table tbody tr")
    expect(rows).to_have_count(n_criteria)
    # The first criterion: 1 and 2 of the items' two pairs agreed before, the rescore's after.
    expect(rows.first).to_contain_text(re.compile(r"50% \(2 pairs\)\s+100% \(1 pair\)"))
    expect(rows.nth(1)).to_contain_text(re.compile(r"100% \(2 pairs\)"))
    items = first_page.locator(".summary-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Agreed")
    expect(items.first).to_contain_text("Facilitator's decision, level 3. The reasons are "
                                        "linked to the claim (criterion 1)")
    expect(items.first).to_contain_text("Paragraph 1, first sentence")
    expect(items.first).to_contain_text("The claim is stated but never defended.")
    expect(items.first).to_contain_text("after the reveal")
    expect(items.nth(1)).to_contain_text("Every reason is explained")
    attended = first_page.locator("h2:has-text('Who attended') + ul").inner_text()
    for name in (coach["name"], first["name"], co_facilitator["name"], late["name"]):
        assert name in attended, attended
    assert re.search(rf"{co_facilitator['name']} \(facilitator\)", attended), attended
    assert re.search(rf"{coach['name']} \(co-facilitator\)", attended), attended
    shoot(first_page, "session-summary")
