"""Provider batch jobs: many chat requests at batch price, run by the provider within hours.

``client.batch(items, model=...)`` submits them (``_submit``: every item checked against the catalog, split where
the provider's limits say): one ``BatchJob`` stands for all the provider batches. Its ``id`` is one string that
resumes it anywhere (``client.batch_job(id)``). Results are matched to inputs by ``custom_id``
(``item-<input index>``), never by position: providers return them in any order.

>>> job = client.batch(["2+2?", {"prompt": "3+3?", "max_tokens": 5}], model="claude-haiku-4-5")  # doctest: +SKIP
>>> job.wait()                                                                                   # doctest: +SKIP
>>> [r.text if isinstance(r, pepperpy.Completion) else r for r in job.results()]                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from .. import errors
from ..dialects.base import get_dialect
from ..http.transport import Request
from ..tools.structured import ResponseFormat
from ..types import Completion, ModelSpec, ProviderSpec
from ._anthropic import AnthropicBatches
from ._gemini import GeminiBatches
from ._io import Items, Job, JobIO, PartStatus, Services
from ._openai import OpenAIBatches
from ._ref import JobRef
from ._wait import FINISHED, JobStatus, Progress, wait_until_finished

__all__ = ["CONTEXT", "NOT_SENT", "BatchAPI", "BatchJob", "batch_api", "refusal"]

FIRST_POLL = 1.0   # seconds before the second status check of wait(); doubled each time...
MAX_POLL = 60.0    # ...up to this: batches take minutes to hours
NOT_SENT = "-"     # JobRef.rejected: the item's part could not be submitted
CONTEXT = "context_window"   # JobRef.rejected: the item is over the model's context window

Outcome = Completion | errors.PepperpyError


class BatchAPI(Protocol):
    """One provider's batch endpoints (see ``_anthropic``, ``_gemini``, ``_openai``)."""

    max_requests: int | None
    max_bytes: int

    def line(self, custom_id: str, request: Request) -> dict[str, Any]: ...

    def submit(self, io: JobIO, lines: Sequence[Mapping[str, Any]], size: int) -> str: ...

    def poll(self, io: JobIO, part_id: str) -> PartStatus: ...

    def cancel(self, io: JobIO, part_id: str) -> None: ...

    def results(self, io: JobIO, status: PartStatus,
                items: Items) -> Iterator[tuple[str, Completion | errors.ProviderError]]: ...


_APIS: dict[str, BatchAPI] = {"anthropic": AnthropicBatches(), "gemini": GeminiBatches(), "openai": OpenAIBatches()}


def batch_api(provider: ProviderSpec) -> BatchAPI:
    api = _APIS.get(provider.dialect)
    if api is None:
        raise errors.ValidationError(
            f"{provider.name} ({provider.dialect} dialect) has no batch API pepperpy knows; batches go to "
            f"providers of the {', '.join(sorted(_APIS))} dialects. For many calls here use client.map(...)",
            param="model", value=provider.name)
    return api


class BatchJob(Job):
    """Many chat requests run by the provider's batch API, possibly as several provider batches.

    ``id`` resumes it in any process (``client.batch_job(id)``); ``status()`` polls the provider once;
    ``wait()`` polls until it has finished; ``results()`` gives one Completion (at batch price) or one error per
    input item, in input order; ``cancel()`` asks the provider to stop; ``cost`` adds up the results read.
    Not thread-safe: share the id, not the object.

    >>> job = client.batch(["Capital of France?", "Capital of Peru?"], model="gemini-flash")   # doctest: +SKIP
    >>> job.wait(progress=True).state                                                          # doctest: +SKIP
    'completed'
    """

    def __init__(self, services: Services, ref: JobRef, refused: Mapping[int, errors.PepperpyError] | None = None,
                 response_format: ResponseFormat | None = None) -> None:
        super().__init__(services, ref)
        self._api = batch_api(self._provider)
        self._refused = {index: (refused or {}).get(index) or refusal(index, param, self._model,
                                                                        ref.reasons.get(index))
                         for index, param in ref.rejected.items()}
        self._format = response_format  # answers are checked and parsed against it (no repair round)
        self._seen: dict[str, PartStatus] = {}  # finished parts never change: polled once
        self._results: list[Outcome] | None = None

    @property
    def provider_ids(self) -> tuple[str, ...]:
        """The provider's own batch ids (several when its limits split the input)."""
        return tuple(part.id for part in self._ref.parts)

    @property
    def refused(self) -> dict[int, errors.PepperpyError]:
        """The items refused before upload, by input index: each one's error (also its place in ``results()``)."""
        return dict(self._refused)

    def __len__(self) -> int:
        return self._ref.total

    def status(self) -> JobStatus:
        """Poll the provider once (each unfinished part) and say where the job stands. A job that ended with
        nothing answered (failed, expired, cancelled) gives its budget reservation back."""
        summary = self._summary(self._poll())
        if summary.finished and not summary.done:
            self._ledger().end_job(self.id, self._model, self._hold())
        return summary

    def wait(self, poll: float | None = None, timeout: float | None = None, progress: Progress = None) -> JobStatus:
        """Block until the job has finished; its final status. ``poll``: seconds between checks (default: 1 s,
        doubling up to 60 s); ``timeout``: seconds before JobTimeoutError (the job goes on); ``progress``: a tqdm
        bar (None: when tqdm is installed and stderr is a terminal), or a callable given each JobStatus."""
        policy = self._services.policy
        return wait_until_finished(self, poll=poll, timeout=timeout, progress=progress, clock=policy.clock,
                                   sleep=policy.sleep, first=FIRST_POLL, cap=MAX_POLL,
                                   resume=f"client.batch_job({self.id!r})", unit="item", label=self.model)

    def results(self) -> list[Outcome]:
        """One value per input item, in input order: a Completion (``cost`` at batch price), or the item's error:
        ValidationError for an item refused before upload, the provider's typed error for an item it refused or
        failed, JobError for an item that expired, was cancelled or got no result. JobError when the job has not
        finished yet (``wait()`` first)."""
        if self._results is not None:
            return list(self._results)
        statuses = self._poll()
        summary = self._summary(statuses)
        if not summary.finished:
            raise errors.JobError(f"the batch is still {summary}; call job.wait() before job.results()",
                                  job_id=self.id, state=summary.state, provider=self.provider, model=self._model.id)
        io = self._io()
        items = Items(self._provider, self._model, get_dialect(self._provider.dialect), self.id)
        scrub = io.runtime.transport.scrub
        out: list[Outcome | None] = [None] * self._ref.total
        for index, error in self._refused.items():
            out[index] = error
        for part, status in zip(self._ref.parts, statuses, strict=True):
            for custom_id, outcome in self._api.results(io, status, items):
                found = _index(custom_id)
                if found is not None and part.start <= found < part.stop and found not in self._refused:
                    out[found] = outcome
            for index in range(part.start, part.stop):
                if out[index] is None:
                    out[index] = _missing(status, items)
        missing = items.ended("missing", f"{self.provider} returned no result for this item")
        # a provider's text may echo a key (OpenAI's "Incorrect API key provided: ..."): never kept
        checked = [self._checked(scrub(value) if isinstance(value, errors.ProviderError) else value)
                   if value is not None else missing for value in out]
        # priced at the batch price of the day it was submitted, and booked once per job id (ledger.py)
        self._results = self._ledger().book_job(self.id, "batch", self.provider, self._model, checked,
                                                job=self._hold(), batch=True,
                                                batch_discount=self._provider.batch_discount)
        return list(self._results)

    @property
    def cost(self) -> float | None:
        """USD of the results read (``results()`` first), at the catalog's batch price on the day the batch was
        submitted; None before, or when the catalog has no price. Items that failed are not billed."""
        if self._results is None:
            return None
        costs = [r.cost for r in self._results if isinstance(r, Completion)]
        return None if any(c is None for c in costs) else round(sum(c for c in costs if c is not None), 10)

    def cancel(self) -> JobStatus:
        """Ask the provider to stop every unfinished part. Items already answered keep their results; the rest
        become JobError(state='cancelled') once the provider has stopped (``wait()`` for it)."""
        io = self._io()
        for part in self._ref.parts:
            if part.id not in self._seen:
                self._api.cancel(io, part.id)
        return self.status()

    def __repr__(self) -> str:
        return f"<BatchJob {self.model} {self._ref.total} items {self.id[:40]}...>"

    # ------------------------------------------------------------------ internals

    def _checked(self, result: Outcome) -> Outcome:
        """With a ``response_format``: the answer with ``parsed`` set, or its StructuredOutputError."""
        if self._format is None or not isinstance(result, Completion):
            return result
        try:
            return self._format.check(result)
        except errors.StructuredOutputError as exc:
            return exc

    def _poll(self) -> list[PartStatus]:
        io = self._io()
        statuses = []
        for part in self._ref.parts:
            status = self._seen.get(part.id) or self._api.poll(io, part.id)
            if status.finished:
                self._seen[part.id] = status
            statuses.append(status)
        return statuses

    def _summary(self, statuses: Sequence[PartStatus]) -> JobStatus:
        done = failed = 0
        for part, status in zip(self._ref.parts, statuses, strict=True):
            size = sum(1 for i in range(part.start, part.stop) if i not in self._refused)
            done += min(status.succeeded, size)
            failed += size - min(status.succeeded, size) if status.finished else min(status.failed, size)
        return JobStatus(_combined([s.state for s in statuses]), done, failed + len(self._refused), self._ref.total)


def _combined(states: Sequence[str]) -> str:
    """One state for several provider batches: running while any runs; at the end, completed only if all did."""
    unfinished = [state for state in states if state not in FINISHED]
    if unfinished:
        if "cancelling" in unfinished:
            return "cancelling"
        return "queued" if len(unfinished) == len(states) and set(unfinished) == {"queued"} else "running"
    if all(state == "completed" for state in states):
        return "completed"
    return next((state for state in ("cancelled", "expired") if state in states), "failed")


def _missing(status: PartStatus, items: Items) -> errors.JobError:
    name = items.provider.name
    if status.state == "failed":
        return items.ended("failed", f"the {name} batch failed: {status.error or 'no reason given'}")
    if status.state == "expired":
        return items.ended("expired", f"the {name} batch expired before this item ran; submit it again")
    if status.state == "cancelled":
        return items.ended("cancelled", f"the {name} batch was cancelled before this item ran")
    return items.ended("missing", f"{name} returned no result for this item")


def _index(custom_id: str) -> int | None:
    prefix, _, number = custom_id.partition("-")
    return int(number) if prefix == "item" and number.isdigit() else None


def refusal(index: int, param: str, model: ModelSpec, reason: str | None = None) -> errors.PepperpyError:
    """The error of an item refused before upload, as a job resumed elsewhere tells it: from what the job id
    keeps (the parameter, and ``reason``: what the refusal said)."""
    if param == NOT_SENT:
        return errors.JobError(f"item {index} was not submitted: the provider batch that was to carry it could not "
                               f"be created", state="failed", provider=model.provider, model=model.id)
    if param == CONTEXT:
        return errors.ContextLengthError(f"item {index} was refused before upload: "
                                         f"{reason or f'it does not fit the context window of {model.name}'}",
                                         provider=model.provider, model=model.id)
    what = f" (its {param})" if param else ""
    return errors.ValidationError(f"item {index} was refused before upload{what}: {reason or 'no reason kept'}",
                                  param=param or None)
