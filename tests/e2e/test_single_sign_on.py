"""Single sign-on in the browser: the demo district served with a real OpenID provider
(node-oidc-provider, tests/fixtures/oidc.py). A teacher clicks the button, logs in and
consents at the provider and lands on their home page; a stranger is sent back with a message;
the administrator makes the district single sign-on only, after which a password no longer
gets the teacher in."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import free_port, log_in, serve_demo
from tests.fixtures.oidc import start_provider

LABEL = "Sign in with Riverbend Google"
WIDTHS = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}
# Where to keep what the pages looked like, when someone wants to see them.
SHOTS = os.environ.get("E2E_SHOTS")


@pytest.fixture(scope="module")
def sso_server(fresh_databases, tmp_path_factory):
    port = free_port()
    callback = f"http://127.0.0.1:{port}/login/sso/callback"
    with start_provider([callback]) as provider, serve_demo(
            fresh_databases.create(), tmp_path_factory, port=port,
            extra_env={**provider.app_config(), "OIDC_LABEL": LABEL}) as url:
        yield url


@pytest.fixture
def provider_page(page: Page) -> Page:
    # The provider's development pages import a web font; nothing leaves this machine.
    page.route("https://fonts.googleapis.com/**",
               lambda route: route.fulfill(status=200, content_type="text/css", body=""))
    return page


def look(page: Page, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        f"{name} scrolls sideways")
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def sign_in_at_the_provider(page: Page, account: str) -> None:
    page.get_by_role("link", name=LABEL).click()
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_teacher_signs_in_with_the_district_provider(provider_page: Page, sso_server, width):
    page = provider_page
    page.set_viewport_size(WIDTHS[width])
    page.goto(f"{sso_server}/login")
    expect(page.get_by_role("link", name=LABEL)).to_be_visible()
    look(page, f"login-{width}")

    sign_in_at_the_provider(page, "teacher")
    expect(page).to_have_url(f"{sso_server}/teacher")
    expect(page.locator(".who")).to_have_text("Amara Okafor")
    if width == "phone":
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_someone_without_an_account_is_sent_back_with_a_message(provider_page: Page,
                                                                sso_server):
    page = provider_page
    page.goto(f"{sso_server}/login")
    sign_in_at_the_provider(page, "stranger")
    expect(page.get_by_role("alert")).to_have_text(
        "There is no active account here for nobody@elsewhere.example. If you should have "
        "one, ask your district administrator.")
    expect(page.get_by_role("link", name=LABEL)).to_be_visible()
    look(page, "refused-no-account")


def test_a_district_that_signs_in_only_with_single_sign_on_refuses_passwords(
        browser: Browser, provider_page: Page, sso_server, demo, script_errors):
    admin = browser.new_context(base_url=sso_server)
    admin_page = admin.new_page()
    script_errors.watch(admin_page)
    try:
        log_in(admin_page, demo["district_admins"][0]["email"],
               demo["passwords"]["district_admin"])
        admin_page.goto("/district")
        admin_page.get_by_role("link", name="District settings").click()
        switch = admin_page.get_by_label("Password login allowed")
        expect(switch).to_be_checked()
        expect(admin_page.locator("#password_login-hint")).to_contain_text("Default: on.")
        admin_page.get_by_role("group", name="Logging in").scroll_into_view_if_needed()
        look(admin_page, "settings-password-login")
        switch.uncheck()
        admin_page.get_by_role("button", name="Save settings").click()
        expect(admin_page.locator("#district-settings [role=status]")).to_have_text(
            "Saved: Password login allowed.")

        page = provider_page
        page.goto(f"{sso_server}/login")
        page.get_by_label("Email").fill("amara.okafor@riverbend.example")
        page.get_by_label("Password").fill(demo["passwords"]["teacher"])
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text(
            f"Your district signs in through single sign-on only. Use “{LABEL}” instead.")
        look(page, "refused-password-login-off")
        sign_in_at_the_provider(page, "teacher")
        expect(page).to_have_url(f"{sso_server}/teacher")
    finally:
        admin_page.goto("/district")
        admin_page.get_by_role("link", name="District settings").click()
        admin_page.get_by_label("Password login allowed").check()
        admin_page.get_by_role("button", name="Save settings").click()
        expect(admin_page.locator("#district-settings [role=status]")).to_be_visible()
        admin.close()
