"""Background jobs: RQ on Redis when REDIS_URL is set, an in-process worker thread otherwise.

A service that wants work done after its change is stored calls `enqueue_after_commit(name,
*args)`, where `name` is the dotted path of a function ("moderation.analysis.services.run_job")
and the args are plain values: the job is handed to the queue when the session commits, and
forgotten if it rolls back, so a worker never looks for a row that is not there yet.

JOBS_BACKEND chooses who runs jobs:
- "rq": jobs go to the RQ queue JOBS_QUEUE on JOBS_REDIS_URL; `flask jobs worker` runs them
  (a SimpleWorker: the job runs in the worker process, inside the app context);
- "thread" (the default without Redis): one daemon thread per process runs them in order, so
  `make run` needs nothing more;
- "manual" (the tests' default): nothing runs; a test calls the job itself or drains.

Jobs must be safe to run twice (at least once delivery: a worker killed mid-job leaves it to be
sent again). Domains register sweeps (`register_sweep`) that find abandoned work and enqueue it
again; the worker runs them at its start and every JOBS_SWEEP_SECONDS.
"""

from __future__ import annotations

import importlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import event

from moderation.core.config import ConfigError
from moderation.core.extensions import db

logger = logging.getLogger(__name__)
BACKENDS = ("rq", "thread", "manual")
PENDING = "jobs_after_commit"
# Long enough for a district's analysis; the runs' own lease, not RQ's timeout, recovers a
# job whose worker died.
JOB_TIMEOUT_SECONDS = 6 * 3600

SWEEPS: list[Callable[[], None]] = []


def register_sweep(sweep: Callable[[], None]) -> None:
    """A function (run in an app context) that enqueues again what a dead worker left; added
    once, however many apps create_app() builds."""
    if sweep not in SWEEPS:
        SWEEPS.append(sweep)


def init_app(app: Flask) -> None:
    backend = app.config["JOBS_BACKEND"]
    if backend not in BACKENDS:
        raise ConfigError(f"JOBS_BACKEND must be one of {', '.join(BACKENDS)}; got {backend!r}.")
    if backend == "rq" and not app.config["JOBS_REDIS_URL"]:
        raise ConfigError("JOBS_BACKEND is rq but REDIS_URL is not set.")
    app.extensions["jobs"] = {"rq": RqQueue, "thread": ThreadQueue,
                              "manual": ManualQueue}[backend](app)


def enqueue_after_commit(name: str, *args) -> None:
    """Run the function `name` with `args` in the background once the session commits."""
    db.session.info.setdefault(PENDING, []).append((name, args))


def enqueue(name: str, *args) -> None:
    """Hand a job to the queue now (for work whose rows are already committed)."""
    current_app.extensions["jobs"].enqueue(name, args)


@contextmanager
def run_here() -> Iterator[None]:
    """Jobs enqueued within the block run in this process when it ends without an error, before
    the block returns: a command (seeding the demo) does its jobs itself instead of leaving them
    to a thread that would die with it."""
    app = current_app._get_current_object()
    backend = app.extensions["jobs"]
    here = app.extensions["jobs"] = ManualQueue(app)
    try:
        yield
    finally:
        app.extensions["jobs"] = backend
    here.drain()


def perform(name: str, *args) -> None:
    """Run one job in the current app context, leaving a clean session behind it."""
    module, _, function = name.rpartition(".")
    try:
        getattr(importlib.import_module(module), function)(*args)
    finally:
        db.session.remove()


def sweep() -> None:
    """Run every registered sweep; one failing does not stop the others."""
    for each in SWEEPS:
        try:
            each()
        except Exception:
            logger.exception("Job sweep %s failed", each.__name__)
        finally:
            db.session.remove()


@event.listens_for(db.session, "after_commit")
def _enqueue_committed(session) -> None:
    for name, args in session.info.pop(PENDING, []):
        current_app.extensions["jobs"].enqueue(name, args)


@event.listens_for(db.session, "after_rollback")
def _forget_rolled_back(session) -> None:
    session.info.pop(PENDING, None)


class ManualQueue:
    """Keeps what was enqueued, runs nothing (tests run or drain it themselves)."""

    def __init__(self, app: Flask):
        self.app = app
        self.jobs: list[tuple[str, tuple]] = []

    def enqueue(self, name: str, args: tuple) -> None:
        self.jobs.append((name, args))

    def drain(self) -> None:
        """Run what was enqueued, in order, each in a fresh app context."""
        while self.jobs:
            name, args = self.jobs.pop(0)
            with self.app.app_context():
                perform(name, *args)


class ThreadQueue:
    """One daemon thread per process: runs jobs in order, and the sweeps at its start and
    whenever it has waited JOBS_SWEEP_SECONDS with nothing to do."""

    def __init__(self, app: Flask):
        self.app = app
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        app.before_request(self.ensure_started)

    def enqueue(self, name: str, args: tuple) -> None:
        self._jobs.put((name, args))
        self.ensure_started()

    def ensure_started(self) -> None:
        # A thread does not survive a fork (gunicorn --preload): a dead one is started again.
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="jobs", daemon=True)
                self._thread.start()

    def wait(self) -> None:
        """Until every job enqueued so far has run (for the tests)."""
        self._jobs.join()

    def stop(self, timeout: float = 10) -> None:
        """End the thread once its current job is done (for the tests)."""
        self._stopping.set()
        self._jobs.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        self._sweep()
        while not self._stopping.is_set():
            try:
                job = self._jobs.get(timeout=self.app.config["JOBS_SWEEP_SECONDS"])
            except queue.Empty:
                self._sweep()
                continue
            if job is None:
                self._jobs.task_done()
                break
            name, args = job
            try:
                with self.app.app_context():
                    perform(name, *args)
            except Exception:
                # The thread outlives a failing job; the job records its own failure.
                logger.exception("Job %s%r failed", name, args)
            finally:
                self._jobs.task_done()

    def _sweep(self) -> None:
        with self.app.app_context():
            sweep()


class RqQueue:
    def __init__(self, app: Flask):
        self.app = app
        self._queue = None

    @property
    def queue(self):
        if self._queue is None:
            self._queue = Queue(self.app.config["JOBS_QUEUE"],
                                connection=Redis.from_url(self.app.config["JOBS_REDIS_URL"]))
        return self._queue

    def enqueue(self, name: str, args: tuple) -> None:
        self.queue.enqueue(perform, name, *args, job_timeout=JOB_TIMEOUT_SECONDS)

    def work(self, burst: bool = False) -> None:
        """Run an RQ worker on the queue in this process (inside the app context), with the
        sweeps at its start and every JOBS_SWEEP_SECONDS in a thread beside it."""
        sweeper = threading.Thread(target=self._sweep_forever, name="jobs-sweep", daemon=True)
        with self.app.app_context():
            sweep()
        sweeper.start()
        SimpleWorker([self.queue], connection=self.queue.connection).work(
            burst=burst, with_scheduler=False)

    def _sweep_forever(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.app.config["JOBS_SWEEP_SECONDS"]):
            with self.app.app_context():
                sweep()
