"""A teacher scores three samples of their queue with the keyboard only, watching the progress
count, then practises on an anchor paper and reads the feedback."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def choose_levels_with_the_keyboard(page: Page, panel: str, n_criteria: int) -> list[int]:
    """From the panel's heading, Tab into each criterion's radio group and pick a level with
    Space or the arrow keys, Tab past its comment box; returns the levels chosen (1-based)."""
    page.locator(f"{panel} h2").first.focus()
    if page.locator(f"{panel} pre.sample-text").count():
        page.keyboard.press("Tab")  # text work is a stop of its own, to scroll it by keyboard
        expect(page.locator(":focus")).to_have_class("sample-text")
    chosen = []
    for index in range(n_criteria):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        expect(focused).to_have_attribute("type", "radio")
        if index % 2 == 0:
            page.keyboard.press("Space")  # the first level
            chosen.append(1)
        else:
            page.keyboard.press("ArrowDown")
            page.keyboard.press("ArrowDown")  # arrows move and select: the third level
            chosen.append(3)
        expect(page.locator(":focus")).to_be_checked()
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_have_js_property("tagName", "TEXTAREA")
    return chosen


def test_teacher_scores_with_the_keyboard_and_practises(page: Page, demo):
    teacher = demo["schools"][0]["teachers"][0]
    log_in(page, teacher["email"], demo["passwords"]["teacher"])
    page.get_by_role("link", name="My queue").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My queue")

    progress = page.locator("#queue-progress .progress-count")
    done, assigned = (int(n) for n in re.findall(r"\d+", progress.inner_text()))
    assert assigned - done >= 3
    n_criteria = page.locator("#queue-item fieldset.criterion-choice").count()
    assert n_criteria >= 2
    # Each level's descriptor is part of its radio's label.
    first_radio = page.locator("#queue-item input[type=radio]").first
    expect(page.locator(f"label[for='{first_radio.get_attribute('id')}'] .level-descriptor")
           ).not_to_be_empty()

    for n in range(1, 4):
        code = page.locator("#queue-item-title .code").inner_text()
        choose_levels_with_the_keyboard(page, "#queue-item", n_criteria)
        if n == 1:
            page.keyboard.type("Reasons are listed but not explained.")
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_have_text("Save draft")
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_have_text("Submit scores")
        page.keyboard.press("Enter")
        expect(page.locator("#queue-item [role=status]")).to_have_text(
            f"Your scores for {code} are submitted.")
        expect(progress).to_have_text(f"{done + n} / {assigned}")
        expect(page.locator("#queue-items")).to_contain_text("Submitted")
        # Focus lands on the next sample's heading, ready to Tab into its rubric.
        expect(page.locator(":focus")).to_have_id("queue-item-title")
        assert page.locator("#queue-item-title .code").inner_text() != code

    page.get_by_role("link", name="Practice", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Practice")
    page.get_by_role("link", name=re.compile(r"^Practise")).first.click()
    expect(page.get_by_role("heading", name="Score this paper")).to_be_visible()
    n_criteria = page.locator("#practice-panel fieldset.criterion-choice").count()
    choose_levels_with_the_keyboard(page, "#practice-panel", n_criteria)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Submit and see the agreed scores")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="How your scores compare")).to_be_visible()
    expect(page.locator(".agreement-summary")).to_contain_text("exactly as agreed")
    expect(page.locator(".agreement-summary")).to_contain_text("within one level")
    rows = page.locator(".feedback-table tbody tr")
    expect(rows).to_have_count(n_criteria)
    for row in rows.all():
        cells = row.locator("td")
        expect(cells.nth(1)).to_have_text(re.compile(r"^[1-4]$"))  # the agreed score
        expect(cells.nth(2)).to_have_text(re.compile(r"Exact|Adjacent|levels"))
        expect(cells.nth(3)).not_to_be_empty()  # the rationale
    page.get_by_role("link", name="Back to practice").click()
    expect(page.locator("#practice-history")).to_contain_text("Feedback")
