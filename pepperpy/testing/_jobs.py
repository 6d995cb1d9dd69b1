"""The long-running jobs of the fakes (provider batches, videos), played fast and without sleeping.

A job's life advances on the provider's own status reads, not on the clock, so a test never waits: it is
queued when created, running after the first status read, and finished after ``FakeJobs.polls`` reads (2 by
default; 0 finishes it at the first read). How it finishes is scripted with ``outcome``: ``"completed"``
(the default), ``"failed"`` (the provider fails the whole job), or ``"expired"`` (the provider's window passes:
the first half of the items have answers, the rest expired). A cancel request makes it ``cancelled`` at the next
read, with the same half answered.

Batch items are answered when the job is created, in input order, as chat requests would be: the next queued
``Reply`` or ``Failure`` of the fake's script, else the echo (``"echo: <prompt>"``); an item whose prompt
contains ``FakeJobs.refuse`` is refused by the provider (its native 400). Only stdlib: the server imports it.

>>> jobs = FakeJobs()
>>> jobs.polls, jobs.outcome("expired"), jobs.pending_outcomes
(2, None, ['expired'])
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OUTCOMES", "FakeFile", "FakeItem", "FakeJob", "FakeJobs", "JobContext", "JobReply"]

OUTCOMES = ("completed", "failed", "expired")


@dataclass(frozen=True)
class JobReply:
    """What a job endpoint sends: a status, a JSON value (or bytes sent as they are), extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class JobContext:
    """What a provider's job endpoints need to answer one request.

    ``origin`` is the scheme and host the request came to (absolute URLs in answers point there);
    ``answer(dialect, custom_id, body, model)`` answers one batch item as a chat request would be answered.
    """

    jobs: FakeJobs
    method: str
    action: str
    ident: str
    model: str
    body: Any
    raw: bytes
    headers: dict[str, str]
    query: dict[str, str]
    origin: str
    request_id: str
    answer: Callable[[Any, str, Any, str], FakeItem]


@dataclass(frozen=True)
class FakeFile:
    """A file the fake holds: uploaded (OpenAI ``/files``) or produced by a job (result files, videos)."""

    id: str
    purpose: str
    filename: str
    data: bytes
    created: int
    mime_type: str = "application/octet-stream"


@dataclass
class FakeItem:
    """One batch item as the fake answered it: ``status`` 200 with the chat ``body``, or an error status and
    the provider's error body."""

    custom_id: str
    status: int
    body: Any


@dataclass
class FakeJob:
    """One job the fake holds. ``phase``: queued, running, cancelling or finished; ``end`` (once finished):
    completed, failed, expired or cancelled. ``reads`` counts status reads; ``request`` is the create body."""

    id: str
    provider: str
    kind: str
    model: str
    outcome: str
    polls: int
    created: int
    request: Any = None
    items: list[FakeItem] = field(default_factory=list)
    phase: str = "queued"
    end: str = ""
    reads: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.phase == "finished"

    def read(self) -> None:
        """One status read: the job moves on (see the module's docstring)."""
        self.reads += 1
        if self.phase == "finished":
            return
        if self.phase == "cancelling":
            self.phase, self.end = "finished", "cancelled"
        elif self.reads >= self.polls:
            self.phase, self.end = "finished", self.outcome
        else:
            self.phase = "running"

    @property
    def percent(self) -> int:
        """A video's progress: 0 while queued, rising with each read, 100 when finished."""
        if self.phase == "finished":
            return 100
        if self.phase == "queued" or self.polls <= 0:
            return 0
        return min(99, int(100 * self.reads / self.polls))

    def answered(self) -> list[FakeItem]:
        """The items with an answer: all when completed, the first half when expired or cancelled, none when
        failed. The provider returns them in any order: shuffled, the same way for the same job."""
        if not self.finished or self.end == "failed":
            return []
        kept = self.items if self.end == "completed" else self.items[: (len(self.items) + 1) // 2]
        shuffled = list(kept)
        random.Random(self.id).shuffle(shuffled)
        return shuffled

    def unanswered(self) -> list[FakeItem]:
        """The items left without an answer (expired or cancelled), in input order."""
        if not self.finished or self.end in ("completed", "failed"):
            return []
        return self.items[(len(self.items) + 1) // 2:]


class FakeJobs:
    """The jobs of one fake (``server.jobs`` / ``adapter.jobs``), thread-safe.

    Settings, read when a job is created: ``polls`` (status reads until a job finishes), ``refuse`` (a text
    that makes the provider refuse any batch item whose prompt contains it). ``file_origin`` is the origin Veo's
    answers name their files under (None: the request's own; the live API always names
    ``https://generativelanguage.googleapis.com``, however it was reached). ``outcome(...)`` queues how the next
    jobs end; ``all`` lists the jobs created, oldest first; ``get(id)`` finds one; ``files`` lists the files
    uploaded to it or produced by its jobs.
    """

    def __init__(self) -> None:
        self.polls = 2
        self.refuse: str | None = None
        self.file_origin: str | None = None
        self.lock = threading.RLock()  # also held by the providers' renderers while they write a job's files
        self._lock = self.lock
        self._jobs: dict[str, FakeJob] = {}
        self._files: dict[str, FakeFile] = {}
        self.uploads: dict[str, dict[str, Any]] = {}  # resumable uploads started, not finished (Gemini)
        self.storage: dict[str, str] = {}  # redirect token -> file id (Veo downloads)
        self._outcomes: deque[str] = deque()
        self._count = 0

    def outcome(self, *outcomes: str) -> None:
        """How the next jobs created end, one each: ``"completed"``, ``"failed"`` or ``"expired"``."""
        for value in outcomes:
            if value not in OUTCOMES:
                raise ValueError(f"outcome takes one of {', '.join(OUTCOMES)}, not {value!r}")
        with self._lock:
            self._outcomes.extend(outcomes)

    @property
    def pending_outcomes(self) -> list[str]:
        with self._lock:
            return list(self._outcomes)

    @property
    def all(self) -> list[FakeJob]:
        with self._lock:
            return list(self._jobs.values())

    def get(self, job_id: str) -> FakeJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._files.clear()
            self.uploads.clear()
            self.storage.clear()
            self._outcomes.clear()

    @property
    def files(self) -> list[FakeFile]:
        """The files held: uploaded ones and those jobs produced, oldest first."""
        with self._lock:
            return list(self._files.values())

    def file(self, file_id: str) -> FakeFile | None:
        with self._lock:
            return self._files.get(file_id)

    def add_file(self, purpose: str, filename: str, data: bytes, prefix: str = "file-",
                 mime_type: str = "application/octet-stream") -> FakeFile:
        with self._lock:
            self._count += 1
            file = FakeFile(f"{prefix}fake{self._count:06d}", purpose, filename, data, int(time.time()), mime_type)
            self._files[file.id] = file
            return file

    def create(self, provider: str, kind: str, model: str, request: Any, make_id: Callable[[int], str],
               items: Sequence[FakeItem] = ()) -> FakeJob:
        with self._lock:
            self._count += 1
            outcome = self._outcomes.popleft() if self._outcomes else "completed"
            job = FakeJob(make_id(self._count), provider, kind, model, outcome, self.polls, int(time.time()),
                          request, list(items))
            self._jobs[job.id] = job
            return job

    def read(self, job_id: str) -> FakeJob | None:
        """The job after one status read, or None when there is no such job."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                job.read()
            return job

    def cancel(self, job_id: str) -> FakeJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and not job.finished:
                job.phase = "cancelling"
            return job
