"""Background work: sends and rebuilds run in worker threads, never in the request.

A job is a list of steps (one per edition or recipient) whose states the job
page shows as they change. Builds go to a pool of one thread (WeasyPrint and
PDFium are not thread-safe, and two clinics' rebuilds must not share a
layout); sends go to a small pool of their own, so a long rebuild never holds
up an email.

Jobs are kept in SQLite beside the send log (``mail/desk-jobs.sqlite3`` in each
handout's project, owner-only, as it names recipients): written when a job is
queued and at every step, so a desk that stops (a restart, a crash, kill -9)
shows on its next start each job that was under way as interrupted, with the
steps that were done and their details. Nothing is re-run by itself: a person
looks at the send record, and a send run again never sends twice (the send
log's idempotency).
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

WAITING = "waiting"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
INTERRUPTED = "interrupted"  # the desk stopped while it was under way
UNSTARTED = "unstarted"  # a step of an interrupted job that never began
JOBS_NAME = "desk-jobs.sqlite3"
KEEP_JOBS = 200  # per handout: older finished jobs are dropped at start-up


@dataclass
class Step:
    label: str
    state: str = WAITING
    detail: str = ""


@dataclass
class Job:
    """One piece of background work and what happened so far (mutated under the board's lock)."""

    id: str
    kind: str  # "rebuild" | "send"
    owner: str
    handout: str
    steps: list[Step] = field(default_factory=list)
    state: str = WAITING
    error: str = ""
    result: object = None
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED, INTERRUPTED)

    def counts(self) -> dict[str, int]:
        found = {WAITING: 0, RUNNING: 0, DONE: 0, FAILED: 0, INTERRUPTED: 0, UNSTARTED: 0}
        for step in self.steps:
            found[step.state] = found.get(step.state, 0) + 1
        return found

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "state": self.state, "error": self.error,
                "finished": self.finished, "counts": self.counts(),
                "steps": [{"label": s.label, "state": s.state, "detail": s.detail}
                          for s in self.steps]}


SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    handout TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS steps (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    state TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, position)
);
"""


class JobStore:
    """One handout's jobs in SQLite (WAL, owner-only), written as they change."""

    def __init__(self, path: Path):
        from booklet.sendlog import _create_private

        self.path = Path(path)
        _create_private(self.path)
        self.conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.executescript(SCHEMA)

    def add(self, job: Job) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (job.id, job.kind, job.owner, job.handout, job.state,
                               job.error, job.created.isoformat()))
            self.conn.executemany("INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?, ?)",
                                  [(job.id, i, s.label, s.state, s.detail)
                                   for i, s in enumerate(job.steps)])

    def job_changed(self, job: Job) -> None:
        with self.conn:
            self.conn.execute("UPDATE jobs SET state = ?, error = ? WHERE id = ?",
                              (job.state, job.error, job.id))

    def step_changed(self, job: Job, index: int) -> None:
        step = job.steps[index]
        with self.conn:
            self.conn.execute("UPDATE steps SET state = ?, detail = ? WHERE job_id = ? "
                              "AND position = ?", (step.state, step.detail, job.id, index))

    def load(self) -> list[Job]:
        """Every kept job; one that was waiting or running is now interrupted (and saved so)."""
        with self.conn:
            self.conn.execute("DELETE FROM jobs WHERE id NOT IN (SELECT id FROM jobs "
                              "ORDER BY created DESC LIMIT ?)", (KEEP_JOBS,))
        jobs = []
        for row in self.conn.execute("SELECT id, kind, owner, handout, state, error, created "
                                     "FROM jobs ORDER BY created").fetchall():
            steps = [Step(label, state, detail) for label, state, detail in self.conn.execute(
                "SELECT label, state, detail FROM steps WHERE job_id = ? ORDER BY position",
                (row[0],))]
            job = Job(row[0], row[1], row[2], row[3], steps, row[4], row[5],
                      created=dt.datetime.fromisoformat(row[6]))
            if not job.finished:
                job.state = INTERRUPTED
                for index, step in enumerate(job.steps):
                    if step.state in (RUNNING, WAITING):
                        step.state = INTERRUPTED if step.state == RUNNING else UNSTARTED
                        self.step_changed(job, index)
                self.job_changed(job)
            jobs.append(job)
        return jobs

    def close(self) -> None:
        self.conn.close()


def _open_store(path: Path) -> JobStore:
    from booklet.core import BookletError

    try:
        return JobStore(path)
    except (OSError, sqlite3.Error) as exc:
        raise BookletError(f"{path}: cannot keep the desk's jobs there ({exc}); the desk "
                           "needs to write in each handout's mail/ folder, as sending "
                           "does") from None


class JobBoard:
    """The jobs of one desk and the pools that run them."""

    def __init__(self, send_workers: int = 2, stores: dict[str, Path] | None = None):
        """stores: where each handout (by slug) keeps its jobs; without, jobs live in memory."""
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._stores = {slug: _open_store(path) for slug, path in (stores or {}).items()}
        for store in self._stores.values():
            self._jobs.update((job.id, job) for job in store.load())
        self._builds = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk-build")
        self._sends = ThreadPoolExecutor(max_workers=send_workers,
                                         thread_name_prefix="desk-send")

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def recent(self, limit: int = 20) -> list[Job]:
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: j.created, reverse=True)
        return jobs[:limit]

    def update(self, job: Job, index: int, state: str, detail: str = "") -> None:
        with self._lock:
            job.steps[index].state = state
            job.steps[index].detail = detail
            store = self._stores.get(job.handout)
            if store is not None:
                store.step_changed(job, index)

    def _set_state(self, job: Job, state: str, error: str = "", result: object = None) -> None:
        with self._lock:
            job.state, job.error, job.result = state, error, result
            store = self._stores.get(job.handout)
            if store is not None:
                store.job_changed(job)

    def submit(self, kind: str, owner: str, handout: str, labels: list[str],
               work: Callable[[Job], object],
               setup: Callable[[], None] | None = None) -> Job:
        """Queue work(job); its exceptions mark the job failed instead of reaching anyone.

        setup runs first in the worker thread (the desk sets the staff member's
        language there).
        """
        job = Job(secrets.token_urlsafe(12), kind, owner, handout,
                  [Step(label) for label in labels])
        with self._lock:
            self._jobs[job.id] = job
            store = self._stores.get(handout)
            if store is not None:
                store.add(job)

        def run() -> None:
            if setup:
                setup()
            self._set_state(job, RUNNING)
            try:
                result = work(job)
            except Exception as exc:  # noqa: BLE001 - the desk keeps serving; the page says why
                self._set_state(job, FAILED, str(exc) or type(exc).__name__)
                return
            self._set_state(job, DONE, result=result)  # a refused row fails its step only

        (self._builds if kind == "rebuild" else self._sends).submit(run)
        return job

    def shutdown(self) -> None:
        self._builds.shutdown(wait=True, cancel_futures=True)
        self._sends.shutdown(wait=True, cancel_futures=True)
        for store in self._stores.values():
            store.close()
