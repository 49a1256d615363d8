"""A teacher practises a paper, comes back to the practice list and finds it marked practised
under the same name, on a desktop and on a phone."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import log_in

# A different teacher per width: the demo district is shared by the whole browser session.
VIEWPORTS = {1280: ({"width": 1280, "height": 900}, 1), 360: ({"width": 360, "height": 740}, 2)}


@pytest.mark.parametrize("width", VIEWPORTS)
def test_a_practised_paper_is_marked_on_the_list_under_its_name(
        browser: Browser, base_url, demo, script_errors, width):
    viewport, school = VIEWPORTS[width]
    context = browser.new_context(base_url=base_url, viewport=viewport)
    page = context.new_page()
    script_errors.watch(page)
    log_in(page, demo["schools"][school]["teachers"][3]["email"], demo["passwords"]["teacher"])
    page.goto("/scoring/practice")
    expect(page.get_by_role("heading", level=1)).to_have_text("Practice")
    waiting = page.locator("#papers-to-practise tbody tr")
    first = waiting.first
    name = first.locator("td").first.inner_text().strip()
    assert re.fullmatch(r"Practice paper P\d+", name)
    n_waiting = waiting.count()

    first.get_by_role("link", name=re.compile(r"^Practise")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    for group in page.locator("#practice-panel fieldset.criterion-choice").all():
        group.locator("input[type=radio]").first.check()
    page.get_by_role("button", name="Submit and see the agreed scores").click()
    expect(page.get_by_role("heading", name="How your scores compare")).to_be_visible()
    page.get_by_role("link", name="Back to practice").click()

    practised = page.locator("#papers-practised tbody tr", has_text=name)
    expect(practised).to_have_count(1)
    expect(practised).to_contain_text("Practised once, last")
    expect(practised).to_contain_text("matched")  # the last result, in words
    expect(waiting).to_have_count(n_waiting - 1)
    expect(page.locator("#papers-to-practise")).not_to_contain_text(name)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
