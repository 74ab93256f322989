"""Background work: sends and rebuilds run in worker threads, never in the request.

A job is a list of steps (one per edition or recipient) whose states the job
page shows as they change. Builds go to a pool of one thread (WeasyPrint and
PDFium are not thread-safe, and two clinics' rebuilds must not share a
layout); sends go to a small pool of their own, so a long rebuild never holds
up an email.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

WAITING = "waiting"
RUNNING = "running"
DONE = "done"
FAILED = "failed"


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
        return self.state in (DONE, FAILED)

    def counts(self) -> dict[str, int]:
        found = {WAITING: 0, RUNNING: 0, DONE: 0, FAILED: 0}
        for step in self.steps:
            found[step.state] = found.get(step.state, 0) + 1
        return found

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "state": self.state, "error": self.error,
                "finished": self.finished, "counts": self.counts(),
                "steps": [{"label": s.label, "state": s.state, "detail": s.detail}
                          for s in self.steps]}


class JobBoard:
    """The jobs of one desk and the pools that run them."""

    def __init__(self, send_workers: int = 2):
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
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

        def run() -> None:
            if setup:
                setup()
            with self._lock:
                job.state = RUNNING
            try:
                result = work(job)
            except Exception as exc:  # noqa: BLE001 - the desk keeps serving; the page says why
                with self._lock:
                    job.state, job.error = FAILED, str(exc) or type(exc).__name__
                return
            with self._lock:
                job.result = result
                job.state = DONE  # a refused row is the step's failure, not the job's

        (self._builds if kind == "rebuild" else self._sends).submit(run)
        return job

    def shutdown(self) -> None:
        self._builds.shutdown(wait=True, cancel_futures=True)
        self._sends.shutdown(wait=True, cancel_futures=True)
