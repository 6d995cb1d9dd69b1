"""Gemini batch mode: ``POST /models/{model}:batchGenerateContent`` with the requests inlined, polled at
``GET /batches/{id}``; every answer is a long-running Operation envelope.

The state is ``metadata.state``; the live API says ``BATCH_STATE_*``, its guide ``JOB_STATE_*``: both are read.
``batchStats`` counts are int64 as JSON strings (``"3"``) and absent when zero. The results sit under
``response`` (and the same object under ``metadata.output``), nested as ``inlinedResponses.inlinedResponses``;
each carries the ``metadata.key`` it was sent with. An inline batch takes at most 20 MB of requests, so a larger
input becomes several provider batches.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .. import errors
from ..transport import Request
from ..types import Completion
from ._io import Items, JobIO, PartStatus

__all__ = ["GeminiBatches", "state_of"]

INLINE_BYTES = 20_000_000
_STATES = {"PENDING": "queued", "UNSPECIFIED": "queued", "RUNNING": "running", "SUCCEEDED": "completed",
           "FAILED": "failed", "CANCELLED": "cancelled", "EXPIRED": "expired", "CANCELLING": "cancelling"}


class GeminiBatches:
    """The batch API of the gemini dialect (inlined requests)."""

    max_requests: int | None = None
    max_bytes = INLINE_BYTES - 100_000  # room for the envelope around the requests

    def line(self, custom_id: str, request: Request) -> dict[str, Any]:
        return {"request": request.json, "metadata": {"key": custom_id}}

    def submit(self, io: JobIO, lines: Sequence[Mapping[str, Any]], size: int) -> str:
        body = {"batch": {"displayName": f"pepperpy {io.model.id} ({len(lines)} requests)",
                          "inputConfig": {"requests": {"requests": list(lines)}}}}
        path = f"/models/{urllib.parse.quote(io.model.wire_name, safe='')}:batchGenerateContent"
        operation = io.json("batch.create", Request("POST", path, json=body), replay=False)
        name = operation.get("name") if isinstance(operation, Mapping) else None
        if not isinstance(name, str) or not name.startswith("batches/"):
            raise _shape(io, "a created batch without a 'batches/...' name")
        return name

    def poll(self, io: JobIO, part_id: str) -> PartStatus:
        operation = io.json("batch.poll", Request("GET", "/" + _path(part_id)))
        if not isinstance(operation, Mapping):
            raise _shape(io, "a batch that is not an object")
        metadata = operation.get("metadata") or {}
        state = state_of(metadata.get("state"))
        error = operation.get("error")
        if operation.get("done") and error and state not in ("cancelled", "expired"):
            state = "failed"
        elif operation.get("done") and state in ("queued", "running"):
            state = "completed"
        stats = metadata.get("batchStats") or {}
        message = error.get("message") if isinstance(error, Mapping) else None
        return PartStatus(state, operation, _count(stats.get("successfulRequestCount")),
                          _count(stats.get("failedRequestCount")), error=str(message) if message else None)

    def cancel(self, io: JobIO, part_id: str) -> None:
        io.json("batch.cancel", Request("POST", f"/{_path(part_id)}:cancel"))

    def results(self, io: JobIO, status: PartStatus,
                items: Items) -> Iterator[tuple[str, Completion | errors.ProviderError]]:
        operation = status.raw if isinstance(status.raw, Mapping) else {}
        output = operation.get("response") or (operation.get("metadata") or {}).get("output") or {}
        inlined = (output.get("inlinedResponses") or {}).get("inlinedResponses") or []
        for entry in inlined:
            if not isinstance(entry, Mapping):
                continue
            key = (entry.get("metadata") or {}).get("key")
            if not isinstance(key, str):
                continue
            if entry.get("response") is not None:
                yield key, items.completion(entry["response"])
            else:
                error = entry.get("error") or {}
                code = error.get("code") if isinstance(error, Mapping) else None
                status_code = code if isinstance(code, int) and 400 <= code < 600 else 400
                yield key, items.error({"error": error}, status_code)


def state_of(raw: Any) -> str:
    """pepperpy's word for a Gemini job state, ``BATCH_STATE_X`` or ``JOB_STATE_X`` alike."""
    text = str(raw or "")
    for prefix in ("BATCH_STATE_", "JOB_STATE_"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return _STATES.get(text, "running" if text else "queued")


def _count(value: Any) -> int:
    try:
        return int(value or 0)  # int64 counts come as strings: "3"
    except (TypeError, ValueError):
        return 0


def _path(name: str) -> str:
    return "/".join(urllib.parse.quote(piece, safe="") for piece in name.strip("/").split("/"))


def _shape(io: JobIO, what: str) -> errors.ProviderAPIError:
    return errors.ProviderAPIError(f"{io.provider.name} answered with {what}; does its base_url point at the "
                                   f"Gemini API (…/v1beta)?", provider=io.provider.name, model=io.model.id)
