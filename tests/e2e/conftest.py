"""Browser tests: the real app under gunicorn on a free port, driven by Debian's Chromium.

Playwright cannot download its own browser here, so it launches /usr/bin/chromium. Without it
the browser tests skip on a laptop but fail in CI (CI=true), where they must run.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's own background traffic is refused by this closed network; keep it quiet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        message = "Debian's chromium is not installed (make test installs it)."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


# The widths a journey's screenshots are taken at: a laptop's and a phone's.
WIDTHS = {1280: {"width": 1280, "height": 900}, 390: {"width": 390, "height": 844}}


def shoot(page: Page, name: str) -> None:
    """Screenshots at each width, kept where SHOTS_DIR says (none otherwise)."""
    if not os.environ.get("SHOTS_DIR"):
        return
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(Path(os.environ["SHOTS_DIR"]) / f"{name}-{width}.png"),
                        full_page=True)
    page.set_viewport_size(WIDTHS[1280])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app server exited: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the app server did not answer within 30 s")


@pytest.fixture(scope="session")
def live_smtp():
    """The mail server the live app sends to (aiosmtpd), so a journey can open an emailed link."""
    from tests.fixtures.mail import SmtpServer

    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_database(fresh_databases) -> str:
    """The live app's database, for the few journeys that must move its clock (an expiry)."""
    return fresh_databases.create()


def demo_env(database_url: str, port: int, extra_env: dict | None = None) -> dict:
    """The environment of the demo's commands and server on `database_url`."""
    return {**os.environ, "APP_ENV": "development", "SECRET_KEY": "e2e-secret",
            "DATABASE_URL": database_url, "PUBLIC_URL": f"http://127.0.0.1:{port}",
            **(extra_env or {})}


def run_flask(env: dict, *command: str) -> str:
    """A `flask` command of the app in `env`; returns what it printed."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *command], cwd=ROOT,
                          env=env, check=True, capture_output=True, text=True,
                          timeout=180).stdout


@contextmanager
def serve_demo(database_url: str, tmp_path_factory, extra_env: dict | None = None,
               port: int | None = None, server_env: dict | None = None):
    """The demo district migrated and seeded into `database_url`, served by gunicorn on
    `port` (a free one if not given) with `extra_env` on top of the environment, and
    `server_env` on top of that for the server only (not the seed); yields the server's URL."""
    port = port or free_port()
    env = demo_env(database_url, port, extra_env)
    for command in (["db", "upgrade"], ["seed-demo"]):
        run_flask(env, *command)
    log = tmp_path_factory.mktemp("server") / "gunicorn.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4", "--error-logfile", str(log), "app:create_app()"],
        cwd=ROOT, env={**env, **(server_env or {})}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()


@pytest.fixture(scope="session")
def live_server(live_database, live_smtp, tmp_path_factory):
    """The demo district served by gunicorn (threaded workers, as in production), sending its
    mail to `live_smtp` from the background sender thread."""
    with serve_demo(live_database, tmp_path_factory,
                    {"SMTP_URL": live_smtp.url, "MAIL_POLL_SECONDS": "1"}) as url:
        yield url


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


@pytest.fixture(scope="session")
def demo():
    from seed_data.demo import load_demo_spec

    return load_demo_spec()


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def search_people(page: Page, text: str) -> None:
    """Type into the people list's search box once htmx has bound it: text typed before the
    page has loaded fires no search, and the list would never narrow."""
    page.wait_for_url(re.compile(r"/people"))
    page.wait_for_load_state("load")
    page.get_by_label("Name or email").fill(text)


# Pages deliberately answered with 4xx (a refused page) log a resource error, and htmx logs each
# error response it meets (request-errors.js shows it in the page): neither is a script error.
# A request that hx-sync="...:replace" aborts for a newer one (a filter changed twice quickly) is
# logged as htmx:sendAbort with its htmx:afterRequest: replaced on purpose, not an error. A
# failed request still shows as sendError or a response error beside its afterRequest.
ANSWERED_ERRORS = ("the server responded with a status of 4", "Response Status Error Code ",
                   "htmx:sendAbort, ")


def _answered(errors: list[str]) -> list[str]:
    """The errors less those answered on purpose, an aborted request's afterRequest too."""
    aborted = sum("htmx:sendAbort, " in e for e in errors)
    kept = []
    for e in errors:
        if e.startswith("htmx:afterRequest, ") and aborted:
            aborted -= 1
            continue
        if not any(text in e for text in ANSWERED_ERRORS):
            kept.append(e)
    return kept


class ScriptErrors:
    """Console errors and uncaught exceptions of a page; a CSP refusal is one of them."""

    def __init__(self):
        self.seen: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("console", lambda msg: self.seen.append(msg.text) if msg.type == "error"
                else None)
        page.on("pageerror", lambda exc: self.seen.append(str(exc)))

    def unexpected(self) -> list[str]:
        return _answered(self.seen)


@pytest.fixture
def script_errors():
    """Watch more pages than the test's own (a context per role, say); the test fails on any
    script error they log."""
    errors = ScriptErrors()
    yield errors
    assert not errors.unexpected(), errors.unexpected()


@pytest.fixture(autouse=True)
def no_script_errors(page):
    """A CSP violation or a JavaScript error shows up in the console: fail the test on it."""
    errors = ScriptErrors()
    errors.watch(page)
    yield
    assert not errors.unexpected(), errors.unexpected()
