"""Every page each role's navigation reaches, and the scoring form, fits a 360 px phone and a
768 px tablet without sideways scrolling; on a phone the work sits above the rubric."""

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import log_in

VIEWPORTS = [{"width": 360, "height": 740}, {"width": 768, "height": 1024}]


def account(demo, role: str) -> tuple[str, str]:
    passwords = demo["passwords"]
    return {
        "teacher": (demo["schools"][0]["teachers"][0]["email"], passwords["teacher"]),
        "coach": (demo["coaches"][0]["email"], passwords["coach"]),
        "district_admin": (demo["district_admins"][0]["email"], passwords["district_admin"]),
        "dual_role": (demo["dual_roles"][0]["email"], passwords["teacher"]),
    }[role]


def pages_to_check(page: Page) -> list[str]:
    links = page.locator('nav[aria-label="Main"] a').evaluate_all(
        "links => links.map(link => link.getAttribute('href'))")
    if "/scoring/queue" in links:
        page.goto("/scoring/queue")
        item = page.locator("#queue-items a[href*='/scoring/items/']").first
        links.append(item.get_attribute("href"))
    return links


def overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("role", ["teacher", "coach", "district_admin", "dual_role"])
def test_every_page_of_the_role_fits_a_phone_and_a_tablet(browser: Browser, base_url, demo,
                                                           script_errors, role):
    # One context per role, resized per page: a fresh login for every size would be slow.
    context = browser.new_context(base_url=base_url, viewport=VIEWPORTS[0])
    page = context.new_page()
    script_errors.watch(page)
    log_in(page, *account(demo, role))
    expect(page.get_by_role("button", name="Menu")).to_be_visible()
    wide = []
    for url in pages_to_check(page):
        for viewport in VIEWPORTS:
            page.set_viewport_size(viewport)
            assert page.goto(url).ok, url
            if overflow(page) > 0:
                wide.append((url, viewport["width"], overflow(page)))
    context.close()
    assert not wide, f"pages wider than the screen (url, width, extra px): {wide}"


def test_on_a_phone_the_work_comes_before_the_rubric(page: Page, demo):
    page.set_viewport_size(VIEWPORTS[0])
    log_in(page, *account(demo, "dual_role"))
    page.goto("/scoring/queue")
    work = page.locator("#queue-item .sample-work").bounding_box()
    sheet = page.locator("#queue-item .score-sheet").bounding_box()
    assert work["y"] + work["height"] <= sheet["y"]
    radio = page.locator("#queue-item .score-sheet input[type=radio]").first.bounding_box()
    assert radio["x"] >= 0 and radio["x"] + radio["width"] <= VIEWPORTS[0]["width"]
