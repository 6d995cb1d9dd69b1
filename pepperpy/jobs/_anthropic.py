"""Anthropic Message Batches: ``POST /v1/messages/batches``, polled at ``GET /v1/messages/batches/{id}``, the
results a JSON Lines file at the batch's ``results_url``.

While a batch runs every item counts as ``processing``; the succeeded / errored / canceled / expired counts
appear only once it has ``ended``. Results come in any order and are matched by ``custom_id``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .. import errors
from ..http._targets import path_segment
from ..http.transport import Request
from ..types import Completion
from ._io import ERROR_STATUS, ID_FIX, Items, JobIO, PartStatus

__all__ = ["AnthropicBatches"]

_PATH = "/v1/messages/batches"


class AnthropicBatches:
    """The batch API of the anthropic dialect."""

    max_requests: int | None = 100_000
    max_bytes = 256_000_000

    def line(self, custom_id: str, request: Request) -> dict[str, Any]:
        return {"custom_id": custom_id, "params": request.json}

    def submit(self, io: JobIO, lines: Sequence[Mapping[str, Any]], size: int) -> str:
        batch = io.json("batch.create", Request("POST", _PATH, json={"requests": list(lines)}), replay=False,
                        content={"requests": len(lines), "bytes": size}, input_bytes=size)
        return _id_of(batch, io)

    def poll(self, io: JobIO, part_id: str) -> PartStatus:
        return status_of(io.json("batch.poll", Request("GET", f"{_PATH}/{_quote(part_id)}")), io)

    def cancel(self, io: JobIO, part_id: str) -> None:
        io.json("batch.cancel", Request("POST", f"{_PATH}/{_quote(part_id)}/cancel"))

    def results(self, io: JobIO, status: PartStatus,
                items: Items) -> Iterator[tuple[str, Completion | errors.ProviderError]]:
        url = status.raw.get("results_url") if isinstance(status.raw, Mapping) else None
        if not url:
            return
        for line in io.jsonl("batch.results", str(url)):  # the key goes only to the provider's own host
            result = line.get("result") if isinstance(line, Mapping) else None
            custom_id = line.get("custom_id") if isinstance(line, Mapping) else None
            if not isinstance(custom_id, str) or not isinstance(result, Mapping):
                continue
            yield custom_id, _outcome(result, items)


def _outcome(result: Mapping[str, Any], items: Items) -> Completion | errors.ProviderError:
    kind = result.get("type")
    if kind == "succeeded":
        message = result.get("message")
        return items.completion(message, message.get("id") if isinstance(message, Mapping) else None)
    if kind == "errored":
        body = result.get("error")
        inner = body.get("error") if isinstance(body, Mapping) else None
        status = ERROR_STATUS.get(str(inner.get("type"))) if isinstance(inner, Mapping) else None
        return items.error(body, status or 400)
    if kind == "expired":
        return items.ended("expired", f"the {items.provider.name} batch expired (24 hours) before this item ran; "
                                      f"submit it again")
    if kind == "canceled":
        return items.ended("cancelled", f"the {items.provider.name} batch was cancelled before this item ran")
    return items.ended("failed", f"{items.provider.name} returned a result of unknown type {kind!r} for this item")


def status_of(batch: Any, io: JobIO) -> PartStatus:
    if not isinstance(batch, Mapping):
        raise _shape(io, "a message batch that is not an object")
    counts = batch.get("request_counts") or {}
    succeeded = int(counts.get("succeeded") or 0)
    failed = sum(int(counts.get(key) or 0) for key in ("errored", "canceled", "expired"))
    phase = batch.get("processing_status")
    if phase == "ended":
        state = "cancelled" if batch.get("cancel_initiated_at") else (
            "expired" if int(counts.get("expired") or 0) else "completed")
    elif phase == "canceling":
        state = "cancelling"
    else:
        state = "running"  # in_progress: Anthropic has no queued state
    return PartStatus(state, batch, succeeded, failed)


def _id_of(batch: Any, io: JobIO) -> str:
    if not isinstance(batch, Mapping) or not isinstance(batch.get("id"), str):
        raise _shape(io, "a created batch without an id")
    return str(batch["id"])


def _quote(part_id: str) -> str:
    return path_segment(part_id, what="batch id", param="id", fix=ID_FIX)


def _shape(io: JobIO, what: str) -> errors.ProviderAPIError:
    return errors.ProviderAPIError(f"{io.provider.name} answered with {what}; does its base_url point at the "
                                   f"Anthropic API?", provider=io.provider.name, model=io.model.id)
