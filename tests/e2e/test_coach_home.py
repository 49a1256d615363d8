"""A coach's home page leads to what needs them: each open round's card shows its progress and
opens the round's page, and the page fits a phone without scrolling sideways."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


@pytest.mark.parametrize("width,height", [(1280, 900), (360, 740)])
def test_coach_home_leads_to_an_open_round(page: Page, demo, width, height):
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, demo["coaches"][0]["email"], demo["passwords"]["coach"])
    expect(page.get_by_role("heading", name="Coaching", level=1)).to_be_visible()
    cards = page.locator("#open-rounds .round-card")
    expect(cards.first).to_be_visible()
    assert cards.count() == len(demo["grade_bands"])  # the demo opens one round per band
    first = cards.first
    expect(first.locator(".progress-count")).to_have_text(
        re.compile(r"^\d+ of \d+ items scored$"))
    school = demo["coaches"][0]["school"]
    expect(page.get_by_role("heading", name=f"Teachers: {school}")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    name = first.get_by_role("link").inner_text()
    first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator("#round-progress")).to_be_visible()
