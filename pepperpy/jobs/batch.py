"""Provider batch jobs: many chat requests at batch price, run by the provider within hours.

``client.batch(items, model=...)`` validates every item against the catalog (an item that fails is refused
and kept as its error; the others go), builds the provider's batch input, splits it where the provider's limits
say (requests or bytes per batch) and submits each part: one ``BatchJob`` stands for all of them. Its ``id`` is
one string that resumes it anywhere (``client.batch_job(id)``). Results are matched to inputs by ``custom_id``
(``item-<input index>``), never by position: providers return them in any order.

>>> job = client.batch(["2+2?", {"prompt": "3+3?", "max_tokens": 5}], model="claude-haiku-4-5")  # doctest: +SKIP
>>> job.wait()                                                                                   # doctest: +SKIP
>>> [r.text if isinstance(r, pepperpy.Completion) else r for r in job.results()]                # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from .. import errors
from ..dialects.base import get_dialect
from ..structured import ResponseFormat
from ..tools import ToolSet
from ..transport import Request
from ..types import Completion, ModelSpec, ProviderSpec
from ..validation import check_context
from ._anthropic import AnthropicBatches
from ._gemini import GeminiBatches
from ._io import Items, JobIO, PartStatus, Services
from ._openai import OpenAIBatches
from ._ref import JobRef, Part
from ._wait import FINISHED, JobStatus, Progress, wait_until_finished

__all__ = ["BatchJob", "batch_api", "submit_batch"]

FIRST_POLL = 1.0   # seconds before the second status check of wait(); doubled each time...
MAX_POLL = 60.0    # ...up to this: batches take minutes to hours
NOT_SENT = "-"     # JobRef.rejected: the item's part could not be submitted
_CONTEXT = "context_window"  # JobRef.rejected: the item is over the model's context window
_REFUSED_KEYS = {"model": "every item of a batch uses the batch's model (model=...)",
                 "stream": "batch answers are never streamed", "fallbacks": "batches have no fallbacks",
                 "cache": "batch answers are not cached"}

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


class BatchJob:
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
        provider, model = services.catalog.resolve(ref.model)
        if provider.name != ref.provider:
            raise errors.ValidationError(f"the job id says provider {ref.provider!r} but its model {ref.model!r} "
                                         f"is {provider.name}'s in this catalog", param="id", value=ref.provider)
        self._services = services
        self._ref = ref
        self._provider = provider
        self._model = model
        self._api = batch_api(provider)
        self._refused = {index: (refused or {}).get(index) or _refusal(index, param, model)
                         for index, param in ref.rejected.items()}
        self._format = response_format  # answers are checked and parsed against it (no repair round)
        self._seen: dict[str, PartStatus] = {}  # finished parts never change: polled once
        self._results: list[Outcome] | None = None

    @property
    def id(self) -> str:
        """The one string that resumes this job: ``client.batch_job(job.id)``."""
        return self._ref.encode()

    @property
    def model(self) -> str:
        """The model's catalog name, ``provider/id``."""
        return self._model.name

    @property
    def provider(self) -> str:
        return self._provider.name

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
        """Poll the provider once (each unfinished part) and say where the job stands."""
        return self._summary(self._poll())

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
        io = JobIO(self._services, self._provider, self._model)
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
        self._results = [self._checked(scrub(value) if isinstance(value, errors.ProviderError) else value)
                         if value is not None else missing for value in out]
        return list(self._results)

    @property
    def cost(self) -> float | None:
        """USD of the results read (``results()`` first), at the catalog's batch price; None before, or when the
        catalog has no price. Items that failed are not billed."""
        if self._results is None:
            return None
        costs = [r.cost for r in self._results if isinstance(r, Completion)]
        return None if any(c is None for c in costs) else round(sum(c for c in costs if c is not None), 10)

    def cancel(self) -> JobStatus:
        """Ask the provider to stop every unfinished part. Items already answered keep their results; the rest
        become JobError(state='cancelled') once the provider has stopped (``wait()`` for it)."""
        io = JobIO(self._services, self._provider, self._model)
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
        io = JobIO(self._services, self._provider, self._model)
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


def _refusal(index: int, param: str, model: ModelSpec) -> errors.PepperpyError:
    """The error of an item refused before upload, as a job resumed elsewhere can tell it."""
    if param == NOT_SENT:
        return errors.JobError(f"item {index} was not submitted: the provider batch that was to carry it could not "
                               f"be created", state="failed", provider=model.provider, model=model.id)
    if param == _CONTEXT:
        return errors.ContextLengthError(f"item {index} was refused before upload: it does not fit the "
                                         f"context window of {model.name}", provider=model.provider, model=model.id)
    what = f" (its {param})" if param else ""
    return errors.ValidationError(f"item {index} was refused before upload{what}; the process that submitted the "
                                  f"batch raised the details", param=param or None)


# --------------------------------------------------------------------------- submitting

def submit_batch(services: Services, items: Iterable[Any], *, model: str, params: dict[str, Any]) -> BatchJob:
    """Validate ``items``, build the provider's batch input, submit it in as many parts as its limits need."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise errors.ValidationError("batch() takes a list of items (prompts, message lists or dicts of complete() "
                                     "arguments); for one prompt use complete()", param="items",
                                     value=type(items).__name__)
    items = list(items)
    if not items:
        raise errors.ValidationError("batch() needs at least one item", param="items", value=0)
    for key, why in _REFUSED_KEYS.items():
        if key in params:
            raise errors.ValidationError(f"batch() does not take {key}=: {why}", param=key)
    provider, spec = services.catalog.resolve(model)
    api = batch_api(provider)
    if spec.mode != "chat":
        raise errors.ValidationError(f"{spec.name} is a {spec.mode} model; batches carry chat requests", param="model",
                                     value=model)
    if "batch" not in spec.capabilities:
        able = [m.name for m in services.catalog.models(provider=provider.name, capability="batch")][:3]
        raise errors.ValidationError(
            f"{spec.name} does not take batch requests (its catalog capabilities lack 'batch')"
            + (f"; {provider.name} models that do: {', '.join(able)}" if able else ""), param="model", value=model)
    runtime = services.runtime(provider)  # missing credentials fail here, before any work
    limits = _limits(provider, api)
    system = params.pop("system", None)
    fmt = _format(params)
    refused: dict[int, errors.PepperpyError] = {}
    lines: list[tuple[int, dict[str, Any], int]] = []
    for index, item in enumerate(items):
        try:
            prompt, messages, item_system, item_params = _item(index, item, params)
            p, s, turns, checked = services.prepare(spec.name, prompt, messages, item_system or system, item_params)
            check_context(s, turns)
            line = api.line(f"item-{index}", runtime.dialect.build_chat(p, s, turns, checked, stream=False))
            size = len(_encode(index, line)) + 1
            if size > limits[1]:
                raise errors.ValidationError(f"item {index} is {size:,} bytes, over the {limits[1]:,} bytes a "
                                             f"{provider.name} batch takes", param="items", value=size)
        except (errors.ValidationError, errors.ContextLengthError) as exc:
            refused[index] = exc
            continue
        lines.append((index, line, size))
    if not lines:
        first = min(refused)
        raise errors.ValidationError(f"every item was refused before upload; item {first}: {refused[first]}",
                                     param=getattr(refused[first], "param", None))
    return _submit(services, provider, spec, api, len(items), _split(lines, *limits), refused, fmt)


def _limits(provider: ProviderSpec, api: BatchAPI) -> tuple[int | None, int]:
    """Requests and bytes per provider batch: the API's, or the catalog's ``options: {batch_max_requests: N,
    batch_max_bytes: N}`` (a provider's own lower limits, or a test's)."""
    options = provider.options
    requests: Any = options.get("batch_max_requests", api.max_requests)
    size: Any = options.get("batch_max_bytes", api.max_bytes)
    for name, value in (("batch_max_requests", requests), ("batch_max_bytes", size)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise errors.ConfigurationError(f"{provider.name} option {name} must be a whole number of at least 1, "
                                            f"not {value!r}")
    return requests, int(size)


def _format(params: dict[str, Any]) -> ResponseFormat | None:
    """A batch-wide ``response_format`` (schema dict, dataclass, TypedDict, pydantic model) put on the wire as
    OpenAI's json_schema form, which each dialect converts; ``tools`` given as functions become definitions
    (they are not run: a batch answer that calls tools comes back with its ``tool_calls``)."""
    fmt = None
    if params.get("response_format") is not None:
        fmt = ResponseFormat.of(params["response_format"])
        if fmt is not None:
            params["response_format"] = fmt.wire()
    tools = params.get("tools")
    if tools is not None and not (isinstance(tools, Sequence) and all(isinstance(t, Mapping) for t in tools)):
        params["tools"] = ToolSet.of(tools).definitions()
    return fmt


def _submit(services: Services, provider: ProviderSpec, spec: ModelSpec, api: BatchAPI, total: int,
            groups: Sequence[Sequence[tuple[int, dict[str, Any], int]]], refused: dict[int, errors.PepperpyError],
            fmt: ResponseFormat | None) -> BatchJob:
    io = JobIO(services, provider, spec)
    parts: list[Part] = []
    for number, group in enumerate(groups):
        start = parts[-1].stop if parts else 0
        stop = groups[number + 1][0][0] if number + 1 < len(groups) else total
        try:
            part_id = api.submit(io, [line for _, line, _ in group], sum(size for _, _, size in group))
        except errors.ProviderError as exc:
            if not parts:
                raise
            for index in range(start, total):  # what was not submitted is refused, the rest goes on
                if index not in refused:
                    refused[index] = _refusal(index, NOT_SENT, spec)
            partial = _ref(provider, spec, parts, total, refused)
            raise errors.JobError(
                f"part {number + 1} of {len(groups)} of the batch could not be submitted ({exc}); the parts "
                f"submitted before it run on: client.batch_job({partial.encode()!r}) resumes them (items {start} "
                f"and after are not in it)", job_id=partial.encode(), state="failed", provider=provider.name,
                model=spec.id) from exc
        parts.append(Part(part_id, start, stop))
    return BatchJob(services, _ref(provider, spec, parts, total, refused), refused, fmt)


def _ref(provider: ProviderSpec, spec: ModelSpec, parts: Sequence[Part], total: int,
         refused: Mapping[int, errors.PepperpyError]) -> JobRef:
    rejected = {index: _param_of(error) for index, error in refused.items()}
    return JobRef("batch", provider.name, spec.name, tuple(parts), total, rejected)


def _param_of(error: errors.PepperpyError) -> str:
    if isinstance(error, errors.ContextLengthError):
        return _CONTEXT
    if isinstance(error, errors.JobError):
        return NOT_SENT
    return str(getattr(error, "param", None) or "")


def _split(lines: Sequence[tuple[int, dict[str, Any], int]], max_requests: int | None,
           max_bytes: int) -> list[list[tuple[int, dict[str, Any], int]]]:
    """Consecutive groups within the provider's requests and bytes per batch, in input order."""
    groups: list[list[tuple[int, dict[str, Any], int]]] = [[]]
    size = 0
    for entry in lines:
        group = groups[-1]
        if group and ((max_requests is not None and len(group) >= max_requests) or size + entry[2] > max_bytes):
            groups.append([])
            size = 0
        groups[-1].append(entry)
        size += entry[2]
    return groups


def _item(index: int, item: Any, params: Mapping[str, Any]
          ) -> tuple[str | None, Sequence[Mapping[str, Any]] | None, str | None, dict[str, Any]]:
    """(prompt, messages, system, params) of one item: a prompt, a message list, or a dict of complete() args."""
    if isinstance(item, str):
        return item, None, None, dict(params)
    if isinstance(item, Mapping):
        values = dict(item)
        for key, why in _REFUSED_KEYS.items():
            if key in values:
                raise errors.ValidationError(f"item {index} sets {key!r}: {why}", param=key)
        prompt, messages, system = values.pop("prompt", None), values.pop("messages", None), values.pop("system", None)
        for key in ("response_format", "tools"):
            if key in values and not _plain_json(values[key]):
                raise errors.ValidationError(f"item {index} sets {key} as a Python object; give it to batch() for "
                                             f"every item, or as plain JSON (a dict) here", param=key)
        return prompt, messages, system, {**params, **values}
    if isinstance(item, (list, tuple)):
        return None, item, None, dict(params)
    raise errors.ValidationError(f"item {index} is a {type(item).__name__}; give a prompt string, a list of "
                                 f"messages or a dict of complete() arguments", param="items",
                                 value=type(item).__name__)


def _plain_json(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(_plain_json(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_plain_json(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def _encode(index: int, line: Mapping[str, Any]) -> bytes:
    try:
        return json.dumps(line, allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as exc:
        raise errors.ValidationError(f"item {index} cannot be sent as JSON ({exc}); pass only JSON values",
                                     param="items", value=type(exc).__name__) from exc
