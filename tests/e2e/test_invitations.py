"""An administrator invites a new teacher, who opens the link in the email the SMTP server
received, chooses a password and lands on their home page; later they forget it and reset it
from the login page, and the reset link works once. At a desk's width and a phone's."""

import hashlib
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import DateTime, String, column, create_engine, table, update

from tests.e2e.conftest import log_in

WIDTHS = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}
SHOTS = os.environ.get("E2E_SHOTS")
LINK = re.compile(r"https?://\S+/set-password/[A-Za-z0-9_-]+")


def look(page: Page, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
        f"{name} scrolls sideways")
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def link_mailed_to(smtp, email: str, subject_part: str, seen: int = 0) -> str:
    """The link of the next message to `email` whose subject has `subject_part`, after the
    `seen` such messages already read; the app's sender thread delivers within a few seconds."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        mine = [r for r in smtp.received if email in r.recipients
                and subject_part in r.message["Subject"]]
        if len(mine) > seen:
            body = mine[seen].message.get_body(("plain",)).get_content()
            return LINK.search(body).group(0)
        time.sleep(0.2)
    raise AssertionError(f"no mail to {email} about {subject_part!r} arrived")


def expire(database_url: str, link: str) -> None:
    token = link.rsplit("/", 1)[1]
    tokens = table("account_tokens", column("expires_at", DateTime(timezone=True)),
                   column("token_hash", String))
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(update(tokens)
                     .where(tokens.c.token_hash == hashlib.sha256(token.encode()).hexdigest())
                     .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    engine.dispose()


@pytest.mark.parametrize("size", WIDTHS)
def test_an_invited_teacher_sets_a_password_and_later_resets_it(
        page: Page, browser: Browser, demo, live_smtp, live_database, size, base_url):
    page.set_viewport_size(WIDTHS[size])
    name = f"Rosa Quill {size}"
    email = f"rosa.quill.{size}@riverbend.example"
    log_in(page, demo["district_admins"][0]["email"], demo["passwords"]["district_admin"])
    page.goto("/district")
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_role("link", name="New person").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option(label="Teacher")
    page.get_by_label("School").select_option(label=demo["schools"][0]["name"])
    page.get_by_role("button", name="Add person").click()
    status = page.locator("#login-status")
    expect(status).to_contain_text("Not invited yet")
    look(page, f"person-page-invite-{size}")
    person_page = page.url
    page.goto(person_page.rsplit("/", 1)[0] + f"?q=quill+{size}")
    row = page.locator("#people-results tbody tr")
    expect(row).to_contain_text("Not yet invited")
    expect(row.get_by_role("button", name=f"Send invitation to {name}")).to_be_visible()
    look(page, f"people-list-{size}")
    page.goto(person_page)

    page.get_by_role("button", name=f"Send invitation to {name}").click()
    expect(page.locator(".flashes")).to_contain_text(f"Invitation sent to {email}")
    expect(status).to_contain_text("by Helen Osei")
    look(page, f"person-page-invited-{size}")
    link = link_mailed_to(live_smtp, email, "invited you")

    teacher = browser.new_context(viewport=WIDTHS[size], base_url=base_url)
    tab = teacher.new_page()
    tab.goto(link)
    expect(tab.get_by_role("heading", level=1)).to_have_text(f"Welcome, {name}")
    tab.get_by_label("New password", exact=True).fill("short")
    tab.get_by_label("Repeat the new password").fill("short")
    tab.get_by_role("button", name="Set password and log in").click()
    expect(tab.locator(".errors")).to_contain_text("at least 10 characters")
    look(tab, f"set-password-refused-{size}")
    tab.get_by_label("New password", exact=True).fill("marble-kestrel-lantern-8")
    tab.get_by_label("Repeat the new password").fill("marble-kestrel-lantern-8")
    look(tab, f"set-password-{size}")
    tab.get_by_role("button", name="Set password and log in").click()
    expect(tab.locator(".flashes")).to_contain_text("Your password is set")
    expect(tab).to_have_url(re.compile(r"/teacher$"))
    tab.goto(link)
    expect(tab.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    teacher.close()

    # Later, on another computer, the password is forgotten.
    other = browser.new_context(viewport=WIDTHS[size], base_url=base_url)
    tab = other.new_page()
    tab.goto("/login")
    tab.get_by_role("link", name="Forgot your password?").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Reset your password")
    look(tab, f"forgot-password-{size}")
    tab.get_by_label("Your email address").fill(email)
    tab.get_by_role("button", name="Email me a link").click()
    expect(tab.get_by_role("status")).to_have_text(
        "If an account uses that address, we have sent a link to reset its password. "
        "It works for 1 hour.")
    look(tab, f"reset-requested-{size}")
    reset = link_mailed_to(live_smtp, email, "Reset your password")

    tab.goto(reset)
    expect(tab.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    look(tab, f"reset-password-{size}")
    tab.get_by_label("New password", exact=True).fill("harbour-violet-compass-3")
    tab.get_by_label("Repeat the new password").fill("harbour-violet-compass-3")
    tab.get_by_role("button", name="Set password and log in").click()
    expect(tab).to_have_url(re.compile(r"/teacher$"))
    tab.goto(reset)
    expect(tab.get_by_role("heading", level=1)).to_have_text("This link has already been used")
    look(tab, f"link-used-{size}")

    # A second reset link left too long.
    tab.goto("/forgot-password")
    tab.get_by_label("Your email address").fill(email)
    tab.get_by_role("button", name="Email me a link").click()
    late = link_mailed_to(live_smtp, email, "Reset your password", seen=1)
    expire(live_database, late)
    tab.goto(late)
    expect(tab.get_by_role("heading", level=1)).to_have_text("This link has expired")
    look(tab, f"link-expired-{size}")
    tab.get_by_role("link", name="email me a new link").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Reset your password")
    other.close()
