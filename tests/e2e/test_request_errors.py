"""An htmx request that meets an error shows the error page's message and reference in the
page (htmx swaps no error response by itself, so without request-errors.js nothing changed)."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def _htmx_button(page: Page, url: str, method: str = "get") -> None:
    """A button in the page that sends one htmx request, as the app's own controls do."""
    page.evaluate("""([url, method]) => {
        const button = document.createElement("button");
        button.id = "probe";
        button.textContent = "Probe";
        button.setAttribute("hx-" + method, url);
        button.setAttribute("hx-target", "#main");
        document.querySelector("#main").append(button);
        htmx.process(button);
    }""", [url, method])


def test_a_failed_htmx_request_says_what_happened(page: Page, demo):
    teacher = demo["schools"][0]["teachers"][0]
    log_in(page, teacher["email"], demo["passwords"]["teacher"])
    page.get_by_role("link", name="My queue").first.click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("My queue")
    region = page.locator("#request-error")
    expect(region).to_be_hidden()

    _htmx_button(page, "/rubrics/2147483648")
    with page.expect_response(re.compile(r"/rubrics/2147483648$")) as answer:
        page.locator("#probe").click()
    reference = answer.value.headers["x-request-id"]
    expect(region).to_be_visible()
    expect(region.get_by_role("alert")).to_contain_text("Page not found")
    expect(region.locator(".request-id")).to_have_text(reference)
    expect(heading).to_have_text("My queue")  # the page itself was left as it was

    # A refused action (a district page, for a teacher) says so; the next request clears it.
    _htmx_button(page, "/district/audit")
    page.locator("#probe").last.click()
    expect(region).to_contain_text("You do not have access")
    page.get_by_role("button", name="Dismiss").click()
    expect(region).to_be_hidden()
