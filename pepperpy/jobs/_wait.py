"""Waiting for a job: the status value, the polling loop, and its progress display.

``wait`` polls until the job is finished: first after ``first`` seconds, then twice as long each time up to
``cap`` (or every ``poll`` seconds when the caller says so). Polls go through the Client's pipeline, so each one
already has its retries; a poll that still fails with a passing trouble (the provider unavailable, a timeout, an
open circuit) is tolerated ``MAX_FAILED_POLLS`` times in a row before its error is raised, with the job id in
the message: the job itself goes on at the provider either way. ``sleep`` and ``clock`` are the Client's retry
policy's, so tests can fake time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from .. import errors
from .._redact import get_logger
from ..observe.progress import progress_bar

__all__ = ["MAX_FAILED_POLLS", "JobStatus", "Progress", "wait_until_finished"]

MAX_FAILED_POLLS = 5
FINISHED = frozenset({"completed", "failed", "expired", "cancelled"})
log = get_logger("pepperpy.jobs")

Progress = bool | Callable[["JobStatus"], Any] | None
"""``wait(progress=)``: None shows a tqdm bar when tqdm is installed and stderr is a terminal; True always
(tqdm needed); False never; a callable is called with every JobStatus seen."""


@dataclass(frozen=True)
class JobStatus:
    """Where a job stands. ``state``: queued, running, cancelling, completed, failed, expired or cancelled.

    ``done`` items succeeded and ``failed`` did not (refused before upload, errored, expired, cancelled), out of
    ``total``; some providers count only once the whole batch has ended. ``percent`` is the provider's own
    progress figure when it gives one (videos).

    >>> JobStatus("running", done=3, failed=1, total=10).finished
    False
    """

    state: str
    done: int = 0
    failed: int = 0
    total: int = 0
    percent: float | None = None

    @property
    def finished(self) -> bool:
        """Whether the job has ended: completed, failed, expired or cancelled."""
        return self.state in FINISHED

    def __str__(self) -> str:
        figure = f" {self.percent:.0f}%" if self.percent is not None else ""
        counts = f" {self.done}/{self.total} done" + (f", {self.failed} failed" if self.failed else "")
        return f"{self.state}{figure}{counts if self.total > 1 or self.failed else ''}"


class Pollable(Protocol):
    @property
    def id(self) -> str: ...

    def status(self) -> JobStatus: ...


def wait_until_finished(job: Pollable, *, poll: float | None, timeout: float | None, progress: Progress,
                        clock: Callable[[], float], sleep: Callable[[float], None], first: float, cap: float,
                        resume: str, unit: str, label: str = "job") -> JobStatus:
    """Poll ``job`` until it has finished; its last status. JobTimeoutError when ``timeout`` passes first."""
    if poll is not None and (isinstance(poll, bool) or not isinstance(poll, (int, float)) or poll < 0):
        raise errors.ValidationError(f"poll takes seconds between two status checks (0 or more), not {poll!r}",
                                     param="poll", value=poll)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise errors.ValidationError(f"timeout takes seconds (more than 0) or None to wait as long as it takes, "
                                     f"not {timeout!r}", param="timeout", value=timeout)
    show = _Display(progress, unit, label)
    deadline = None if timeout is None else clock() + timeout
    delays = _delays(poll, first, cap)
    failures = 0
    status: JobStatus | None = None
    try:
        while True:
            try:
                status = job.status()
                failures = 0
            except errors.ProviderError as exc:
                failures += 1
                if not exc.retryable or failures >= MAX_FAILED_POLLS:
                    raise _noted(exc, resume) from None
                log.warning("a status check of job %s failed (%s); the job goes on, trying again", job.id, exc)
            if status is not None:
                show(status)
                if status.finished:
                    return status
            delay = next(delays)
            if deadline is not None:
                left = deadline - clock()
                if left <= 0:
                    raise errors.JobTimeoutError(
                        f"the job is still {status.state if status else 'running'} after {timeout:g} s; it goes on "
                        f"at the provider: {resume} resumes it", job_id=job.id, status=status)
                delay = min(delay, left)
            sleep(delay)
    finally:
        show.close()


def _delays(poll: float | None, first: float, cap: float) -> Iterator[float]:
    if poll is not None:
        while True:
            yield float(poll)
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


def _noted(exc: errors.ProviderError, resume: str) -> errors.ProviderError:
    """The poll's error, saying that the job itself is not lost (unless the provider does not know it)."""
    if exc.status_code == 404:
        return exc
    exc.message = f"{exc.message} (the job goes on at the provider: {resume} resumes it)"
    exc.args = (exc.message, *exc.args[1:])
    return exc


class _Display:
    """The progress of one wait: a tqdm bar, a callable, or nothing."""

    def __init__(self, progress: Progress, unit: str, label: str) -> None:
        self.call = progress if callable(progress) else None
        self.option = None if callable(progress) else progress
        self.unit = unit
        self.label = label
        self.bar: Any = None
        self.shown = 0
        self.opened = False

    def __call__(self, status: JobStatus) -> None:
        if self.call is not None:
            self.call(status)
            return
        if not self.opened:
            self.opened = True
            total = 100 if self.unit == "%" else status.total
            self.bar = progress_bar(self.option, total, self.label) if self.option is not False else None
        if self.bar is None:
            return
        value = int(status.percent or 0) if self.unit == "%" else status.done + status.failed
        if value > self.shown:
            self.bar.update(value - self.shown)
            self.shown = value
        describe = getattr(self.bar, "set_postfix_str", None)
        if describe is not None:
            describe(status.state, refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

