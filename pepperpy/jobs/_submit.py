"""Submitting a provider batch: every item checked against the catalog (a refused item is kept as its error, the
others go), each built into the provider's batch line with ``custom_id`` ``item-<input index>``, split where the
provider's limits (requests or bytes per batch) say, and each part submitted. One ``BatchJob`` stands for all of
them; when a later part cannot be created, the parts already submitted run on (their id is in the JobError).

Before anything is uploaded the budget holds the batch's worst case, every item's at the batch price
(``pepperpy.observe.ledger``); the id carries that hold and the day of submission, so whichever process reads the
results books them once, at that day's prices, and gives the hold back.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .. import errors
from .._redact import redact
from ..catalog.validation import check_context
from ..observe.ledger import JobHold
from ..observe.pricing import Estimate, batch_price, chat_worst
from ..tools._toolset import ToolSet
from ..tools.structured import ResponseFormat
from ..types import ModelSpec, Pricing, ProviderSpec
from ._io import JobIO, Services
from ._ref import JobRef, Part
from .batch import CONTEXT, NOT_SENT, BatchAPI, BatchJob, batch_api, refusal

__all__ = ["submit_batch"]

_REFUSED_KEYS = {"model": "every item of a batch uses the batch's model (model=...)",
                 "stream": "batch answers are never streamed", "fallbacks": "batches have no fallbacks",
                 "cache": "batch answers are not cached"}


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
    asks: list[tuple[list[dict[str, Any]], dict[str, Any]]] = []  # each item's messages and params: its worst case
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
        asks.append((turns, checked))
    if not lines:
        first = min(refused)
        raise errors.ValidationError(f"every item was refused before upload; item {first}: {refused[first]}",
                                     param=getattr(refused[first], "param", None))
    ledger = services.pipeline.observer.ledger
    hold, job = ledger.reserve_job("batch", spec, lambda s, price: _worst(s, price, provider, asks))
    try:
        submitted = _submit(services, provider, spec, api, len(items), _split(lines, *limits), refused, fmt, job)
    except BaseException:
        ledger.settle(hold, None)  # nothing runs (or what runs is booked by the id in the JobError)
        raise
    ledger.remember_job(submitted.id, hold)
    return submitted


def _worst(spec: ModelSpec, price: Pricing, provider: ProviderSpec,
           asks: Sequence[tuple[list[dict[str, Any]], dict[str, Any]]]) -> Estimate:
    """Every item's worst case at the batch price (the standard one when the catalog names none)."""
    at = batch_price(price, provider.batch_discount) or price
    each = [chat_worst(spec, at, messages=turns, max_tokens=checked.get("max_tokens"), tools=checked.get("tools"))
            for turns, checked in asks]
    first = each[0]
    basis = first.basis if len(each) == 1 else f"{len(each)} items at the batch price; the first: {first.basis}"
    return Estimate(round(sum(e.amount for e in each), 10), basis,
                    "lower max_tokens or send fewer items" if len(each) > 1 else "lower max_tokens")


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
            fmt: ResponseFormat | None, job: JobHold) -> BatchJob:
    io = JobIO(services, provider, spec)
    parts: list[Part] = []
    for number, group in enumerate(groups):
        start = parts[-1].stop if parts else 0
        stop = groups[number + 1][0][0] if number + 1 < len(groups) else total
        try:
            part_id = api.submit(io, [line for _, line, _ in group], sum(size for _, _, size in group))
        except BaseException as exc:  # a provider error, or Ctrl-C: the parts already submitted run on
            if not parts:
                raise
            for index in range(start, total):  # what was not submitted is refused, the rest goes on
                if index not in refused:
                    refused[index] = refusal(index, NOT_SENT, spec)
            partial = _ref(provider, spec, parts, total, refused, job).encode()
            resume = (f"the parts submitted before it run on at the provider: client.batch_job({partial!r}) resumes "
                      f"them (items {start} and after are not in it)")
            if not isinstance(exc, errors.ProviderError):  # nothing to raise the id with: say it before going
                warnings.warn(f"batch submission interrupted after part {number} of {len(groups)} "
                              f"({type(exc).__name__}); {resume}", RuntimeWarning, stacklevel=4)
                raise
            raise errors.JobError(f"part {number + 1} of {len(groups)} of the batch could not be submitted ({exc}); "
                                  f"{resume}", job_id=partial, state="failed", provider=provider.name,
                                  model=spec.id) from exc
        parts.append(Part(part_id, start, stop))
    return BatchJob(services, _ref(provider, spec, parts, total, refused, job), refused, fmt)


REASON_CHARS = 300  # of a refusal's message kept in the id: enough to say what was wrong, not a whole prompt


def _ref(provider: ProviderSpec, spec: ModelSpec, parts: Sequence[Part], total: int,
         refused: Mapping[int, errors.PepperpyError], job: JobHold) -> JobRef:
    rejected = {index: _param_of(error) for index, error in refused.items()}
    reasons = {index: redact(str(error))[:REASON_CHARS] for index, error in refused.items()
               if not isinstance(error, errors.JobError)}
    return JobRef("batch", provider.name, spec.name, tuple(parts), total, rejected, extra=job_extra(job),
                  reasons=reasons)


def job_extra(job: JobHold) -> dict[str, Any]:
    """What a job id keeps of its reservation (``JobRef.extra``): the day, and the amount and period held."""
    extra: dict[str, Any] = {"d": job.day}
    if job.amount:
        extra.update(b=job.amount, q=job.period)
    return extra


def _param_of(error: errors.PepperpyError) -> str:
    if isinstance(error, errors.ContextLengthError):
        return CONTEXT
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
