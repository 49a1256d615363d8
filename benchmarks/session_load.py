"""A live session under load: participants polling a session served by gunicorn on PostgreSQL.

1. Makes a fresh PostgreSQL database beside DATABASE_URL's (default: the local PostgreSQL),
   migrates it and, through the product's services, a district of ten schools with N teachers
   (default 150) and a district-wide coach, a rubric, a few ready text samples, and a
   cross-school session on them that the coach facilitates and every teacher has joined.
2. Serves app:create_app() with gunicorn's threaded workers (APP_ENV=production, a random
   SECRET_KEY, uploads in a temporary folder) and logs everyone in through /login, as a
   browser does (the CSRF token from the form, the session cookie kept).
3. For --seconds, each participant polls the session as its page does (hx-get of
   #session-live every 2 s, with htmx's request headers and the version the page shows; on a
   200 the page swaps in the new fragment, takes its version and fetches any image in it it
   has not fetched before), while the facilitator presses the next button on their page
   every 10 s (start, reveal, discuss, defer: next item, ...).

Prints the latency the clients saw over every request (p50 / p95 / max, by kind), the errors,
and for each state change the time until every participant's poll had returned the changed
fragment, against the targets (p95 < 50 ms, everyone sees each change within 3 s, 0 errors),
and the machine's load average at the start and the end: the machine may be shared, and the
clients run on it too.

    .venv/bin/python benchmarks/session_load.py
    ... benchmarks/session_load.py --participants 50 --seconds 20 --workers 1 --threads 4 --keep
    ... benchmarks/session_load.py --redis redis://localhost:6379/9   # presence in Redis
"""

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

from app import create_app  # noqa: E402
from benchmarks.analysis_job import percentile  # noqa: E402
from benchmarks.postgres import fresh_database  # noqa: E402
from benchmarks.ratings_import import migrate, prepare  # noqa: E402
from moderation.accounts import services as account_services  # noqa: E402
from moderation.accounts.models import District, Role, School, User  # noqa: E402
from moderation.core.extensions import db  # noqa: E402
from moderation.samples import services as sample_services  # noqa: E402
from moderation.sessions import services as session_services  # noqa: E402
from moderation.sessions.models import SessionScope  # noqa: E402
from rubrics.models import RubricVersion  # noqa: E402

LATENCY_TARGET_MS = 50.0
SEEN_TARGET_SECONDS = 3.0
POLL_SECONDS = 2.0  # hx-trigger="every 2s" in templates/sessions/_live.html
STEP_SECONDS = 10.0
SCHOOLS = 10
PASSWORD = "bench-sessions-2026"
# The facilitator's next button, in the order a session goes (defer needs no consensus form).
STEP_ORDER = ("start", "reveal", "discuss", "defer", "close")
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]* value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
POLL_URL = re.compile(r'hx-get="([^"]*/poll\?version=(\d+))"')
STEP_BUTTON = re.compile(r'name="step" value="(\w+)"')
IMAGE = re.compile(r'<img [^>]*src="([^"]+)"')


@dataclass
class Sitting:
    """What the benchmark set up: the session, and who logs in to it."""

    session_id: int
    facilitator: str
    participants: list[str]


def build_sitting(participants: int, items: int) -> Sitting:
    """The district, its people, samples and the session, through the services (in the app's
    context)."""
    schools = [f"School {i + 1}" for i in range(SCHOOLS)]
    district_id, version_id = prepare(["Claim", "Evidence"], schools, levels=4)
    district = db.session.get(District, district_id)
    version = db.session.get(RubricVersion, version_id)
    school_rows = sorted(district.schools, key=lambda s: s.id)
    coach = account_services.create_user("coach@bench.example", "Bench Coach", PASSWORD)
    account_services.grant_role(coach, Role.COACH, district)
    emails = [f"teacher{i + 1}@bench.example" for i in range(participants)]
    teachers = []
    for i, email in enumerate(emails):
        teacher = account_services.create_user(email, f"Teacher {i + 1}", PASSWORD)
        account_services.grant_role(teacher, Role.TEACHER, district,
                                    school_rows[i % len(school_rows)])
        teachers.append(teacher)
    samples = [upload_ready(teachers[i % len(teachers)], school_rows[i % len(school_rows)],
                            version, i) for i in range(items)]
    session = session_services.create_session(district, coach, session_services.SessionRequest(
        title="Argument writing moderation (benchmark)", version=version,
        scope=SessionScope.CROSS_SCHOOL, samples=samples))
    for teacher in teachers:
        session_services.join(session, teacher)
    db.session.commit()
    return Sitting(session.id, coach.email, emails)


def upload_ready(uploader: User, school: School, version: RubricVersion, n: int):
    """A text sample uploaded and confirmed as redacted by its uploader."""
    from flask import current_app

    text = f"Essay {n + 1}. Homework should be shorter, because we need time to play.\n" * 40
    sample = sample_services.upload_sample(
        uploader=uploader, school=school, rubric_version=version, title=f"Essay {n + 1}",
        data=text.encode(), filename="essay.txt", storage=current_app.extensions["storage"],
        student_name=f"Student {n + 1}")
    sample_services.confirm_redaction(sample, uploader)
    return sample


# --- the server ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int, threads: int) -> subprocess.Popen:
    """gunicorn serving the app, once it answers /login."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "app:create_app()", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
         "--log-level", "warning"],
        env=env, cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}.")
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=10).status_code == 200:
                return server
        except requests.RequestException:  # not listening yet, or still importing the app
            pass
        time.sleep(0.3)
    server.terminate()
    sys.exit("gunicorn did not answer /login within 60 s.")


# --- a browser -----------------------------------------------------------------------------------

@dataclass
class Sample:
    kind: str  # "204", "fragment", "image", "step"
    ms: float
    status: int | None  # None: no answer (connection error, timeout)
    error: str = ""  # the exception's name, when no answer came


@dataclass
class Browser:
    """One person's tab: its connection, its cookies and the version its page shows.

    Cookies are kept by hand: production's are Secure, which requests will not send over the
    benchmark's plain http (a browser does send them to localhost)."""

    base: str
    session_id: int
    log: list[Sample] = field(default_factory=list)
    seen: dict[int, float] = field(default_factory=dict)  # version -> when its fragment came
    cookies: dict[str, str] = field(default_factory=dict)
    images: set[str] = field(default_factory=set)
    poll_url: str = ""
    html: str = ""  # the live region as last swapped in
    html_page: str = ""  # the page it was loaded in

    def __post_init__(self):
        self.http = requests.Session()

    def request(self, method: str, path: str, kind: str, **kwargs) -> requests.Response | None:
        headers = {**kwargs.pop("headers", {}),
                   "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        started = time.perf_counter()
        try:
            answer = self.http.request(method, self.base + path, headers=headers, timeout=10,
                                       allow_redirects=False, **kwargs)
        except requests.RequestException as error:
            self.log.append(Sample(kind, (time.perf_counter() - started) * 1000, None,
                                   type(error).__name__))
            return None
        self.log.append(Sample(kind, (time.perf_counter() - started) * 1000,
                               answer.status_code))
        self.cookies.update(answer.cookies.get_dict())
        return answer

    def log_in(self, email: str) -> None:
        form = self.request("GET", "/login", "login").text
        answer = self.request("POST", "/login", "login", data={
            "email": email, "password": PASSWORD,
            "csrf_token": CSRF_FIELD.search(form).group(1)})
        if answer is None or answer.status_code != 302:
            sys.exit(f"Could not log in as {email} "
                     f"(status {answer.status_code if answer else 'none'}).")
        self.log.clear()
        page = self.request("GET", f"/sessions/{self.session_id}", "page")
        self.show(page.text, time.perf_counter())
        self.log.clear()

    def htmx_headers(self) -> dict:
        """What htmx 2 sends with a request of #session-live."""
        return {"HX-Request": "true", "HX-Target": "session-live",
                "HX-Trigger": "session-live",
                "HX-Current-URL": f"{self.base}/sessions/{self.session_id}",
                "X-CSRFToken": CSRF_HEADER.search(self.html_page).group(1)}

    def show(self, html: str, when: float) -> None:
        """Swap in a fragment: its poll URL and version, and the images it shows."""
        if not self.html:
            self.html_page = html  # the page's body carries the CSRF header htmx sends
        self.html = html
        match = POLL_URL.search(html)
        self.poll_url = match.group(1).replace("&amp;", "&")
        self.seen.setdefault(int(match.group(2)), when)
        for src in IMAGE.findall(html):
            if src not in self.images:  # the browser's cache answers the ones it has
                self.images.add(src)
                self.request("GET", src.replace("&amp;", "&"), "image")

    def poll(self) -> None:
        answer = self.request("GET", self.poll_url, "poll", headers=self.htmx_headers())
        if answer is not None and answer.status_code == 200:
            self.log[-1].kind = "fragment"
            self.show(answer.text, time.perf_counter())
        elif answer is not None and answer.status_code == 204:
            self.log[-1].kind = "204"

    def next_step(self) -> str | None:
        """Press the first button of the facilitator's page in STEP_ORDER; the step, or None
        when none is left."""
        buttons = set(STEP_BUTTON.findall(self.html))
        step = next((s for s in STEP_ORDER if s in buttons), None)
        if step is None:
            return None
        answer = self.request("POST", f"/sessions/{self.session_id}/step", "step",
                              headers=self.htmx_headers(),
                              data={"csrf_token": CSRF_FIELD.search(self.html).group(1),
                                    "step": step})
        if answer is not None and answer.status_code == 200:
            self.show(answer.text, time.perf_counter())
        return step


# --- the sitting ---------------------------------------------------------------------------------

@dataclass
class Change:
    step: str
    at: float  # when the facilitator pressed the button
    version: int  # the version the page showed after it


def poll_until(browser: Browser, stop: float, offset: float) -> None:
    """Poll every POLL_SECONDS from `offset` on (pages load at different moments); a poll that
    overruns its slot is followed by the next at once, as htmx's timer does."""
    due = time.perf_counter() + offset
    while due < stop:
        time.sleep(max(0.0, due - time.perf_counter()))
        browser.poll()
        due += POLL_SECONDS


def facilitate(browser: Browser, stop: float, changes: list[Change]) -> None:
    due = time.perf_counter() + STEP_SECONDS / 2
    while due < stop - SEEN_TARGET_SECONDS:
        time.sleep(max(0.0, due - time.perf_counter()))
        pressed = time.perf_counter()
        step = browser.next_step()
        if step is None:
            return
        changes.append(Change(step, pressed, max(browser.seen)))
        due += STEP_SECONDS


def sit(base: str, sitting: Sitting, seconds: float) -> tuple[list[Browser], Browser,
                                                               list[Change]]:
    """Log everyone in, then poll and facilitate for `seconds`."""
    started = time.perf_counter()
    facilitator = Browser(base, sitting.session_id)
    facilitator.log_in(sitting.facilitator)
    participants = [Browser(base, sitting.session_id) for _ in sitting.participants]
    for browser, email in zip(participants, sitting.participants, strict=True):
        browser.log_in(email)
    print(f"Logged in {len(participants)} participants and the facilitator in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    stop = time.perf_counter() + seconds
    changes: list[Change] = []
    threads = [threading.Thread(target=poll_until, args=(b, stop, POLL_SECONDS * i /
                                                         len(participants)))
               for i, b in enumerate(participants)]
    # The facilitator's page polls too (it shows who has submitted).
    threads += [threading.Thread(target=poll_until, args=(facilitator, stop, 0.0)),
                threading.Thread(target=facilitate, args=(facilitator, stop, changes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return participants, facilitator, changes


# --- the figures ---------------------------------------------------------------------------------

def print_latency(participants: list[Browser], facilitator: Browser) -> bool:
    """Latency by kind of request; True if the target is met over all of them."""
    labels = {"204": "204 (unchanged)", "fragment": "200 (the fragment)",
              "image": "images it shows", "step": "facilitator's steps"}
    by_kind = defaultdict(list)
    for sample in (s for b in [*participants, facilitator] for s in b.log):
        by_kind[labels.get(sample.kind, sample.kind)].append(sample.ms)
    every = [ms for times in by_kind.values() for ms in times]
    print(f"\nLatency seen by the clients, ms (target p95 < {LATENCY_TARGET_MS:.0f} ms over "
          f"every request of every page)")
    print(f"  {'requests':<22}{'n':>7}{'p50':>8}{'p95':>8}{'max':>8}")
    for kind, times in [*by_kind.items(), ("every request", every)]:
        if times:
            print(f"  {kind:<22}{len(times):>7}{statistics.median(times):>8.1f}"
                  f"{percentile(times, 0.95):>8.1f}{max(times):>8.1f}")
    return bool(every) and percentile(every, 0.95) < LATENCY_TARGET_MS


def print_errors(participants: list[Browser], facilitator: Browser) -> bool:
    wrong = [s for b in [*participants, facilitator] for s in b.log
             if s.status not in (200, 204)]
    statuses = defaultdict(int)
    for sample in wrong:
        statuses[f"{sample.kind} {sample.status or sample.error}"] += 1
    print(f"\nErrors: {len(wrong)}" + (f" ({dict(statuses)})" if wrong else "")
          + "   target 0")
    return not wrong


def print_changes(participants: list[Browser], changes: list[Change]) -> bool:
    """For each change, when the participants had its fragment (or a later one)."""
    print(f"\nState changes: seconds from the facilitator's click until the participants' "
          f"polls returned the changed fragment (target: all within {SEEN_TARGET_SECONDS:.0f} "
          f"s)")
    print(f"  {'step':<10}{'version':>8}{'median':>8}{'last':>8}{'missed':>8}")
    ok = bool(changes)
    for change in changes:
        delays = []
        for browser in participants:
            moments = [t for v, t in browser.seen.items() if v >= change.version]
            delays.append(min(moments) - change.at if moments else float("inf"))
        missed = sum(d > SEEN_TARGET_SECONDS for d in delays)
        ok = ok and not missed
        print(f"  {change.step:<10}{change.version:>8}{statistics.median(delays):>8.2f}"
              f"{max(delays):>8.2f}{missed:>8}")
    return ok


def load_average(when: str) -> None:
    one, five, _ = os.getloadavg()
    print(f"Load average at {when}: {one:.2f} (1 min), {five:.2f} (5 min), "
          f"{os.cpu_count()} processors", flush=True)


def server_env(url: str, storage: str, redis_url: str) -> dict:
    """The environment of both the set-up here and gunicorn: production, one database, one
    upload folder. 150 people logging in from one address would pass the per-address login
    limit, which a school behind one NAT would meet too: a real district raises it the same
    way."""
    return {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": url, "STORAGE_BACKEND": "local", "STORAGE_LOCAL_PATH": storage,
            "LOGIN_ADDRESS_RATE_LIMIT": "1000 per minute", "REDIS_URL": redis_url,
            "RATELIMIT_KEY_PREFIX": f"bench-sessions-{secrets.token_hex(4)}:",
            "PRESENCE_KEY_PREFIX": f"bench-sessions-{secrets.token_hex(4)}:"}


def run(args, url: str) -> bool:
    with tempfile.TemporaryDirectory() as storage:
        env = server_env(url, storage, args.redis)
        os.environ.update(env)
        app = create_app()
        started = time.perf_counter()
        with app.app_context():
            migrate()
            sitting = build_sitting(args.participants, args.items)
            db.engine.dispose()  # its connections would count against the server's
        print(f"Set up {args.participants} participants and a session of {args.items} items "
              f"in {time.perf_counter() - started:.1f} s")
        port = free_port()
        server = start_gunicorn(env, port, args.workers, args.threads)
        try:
            print(f"gunicorn: {args.workers} workers x {args.threads} threads (gthread), "
                  f"presence in {'Redis' if args.redis else 'PostgreSQL'}", flush=True)
            participants, facilitator, changes = sit(f"http://127.0.0.1:{port}", sitting,
                                                     args.seconds)
        finally:
            server.kill()  # the master; its workers exit when it is gone
            server.wait()
    results = [print_latency(participants, facilitator), print_errors(participants, facilitator),
               print_changes(participants, changes)]
    return all(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=150)
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="how long everyone polls (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=8,
                        help="threads per gunicorn worker (default 8)")
    parser.add_argument("--redis", default="",
                        help="a Redis URL for the rate limits and presence (default: none, "
                             "presence in PostgreSQL)")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    if args.participants < 1 or args.seconds < STEP_SECONDS or min(args.workers,
                                                                   args.threads) < 1:
        parser.error(f"--participants, --workers and --threads must be at least 1, --seconds "
                     f"at least {STEP_SECONDS:.0f}")
    # Three changes an item (reveal, discuss, defer), one to start: enough never to run out.
    args.items = min(session_services.MAX_ITEMS, int(args.seconds // STEP_SECONDS) // 3 + 2)
    load_average("start")
    with fresh_database("moderation_bench_sessions", keep=args.keep) as url:
        met = run(args, url)
    load_average("end")
    print("\nTargets: " + ("all met" if met else "MISSED"))


if __name__ == "__main__":
    main()
