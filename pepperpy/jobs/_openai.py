"""The OpenAI Batch API: the requests as a JSON Lines file uploaded to ``POST /files`` (``purpose=batch``), then
``POST /batches`` on it; polled at ``GET /batches/{id}``; answers in the output file and failures in the error
file, both read from ``GET /files/{id}/content``.

Statuses: validating (queued), in_progress and finalizing (running), completed, failed (the input file did not
validate: ``errors``), expired (24 hours passed: partial output, the rest ``batch_expired`` in the error file),
cancelling, cancelled. Output lines come in any order: they are matched by ``custom_id``. An error file line is
either an HTTP answer (``response.status_code`` >= 400, the usual error body) or a non-HTTP ``error`` object.
OpenAI-compatible servers with the same endpoints (Groq's batch API, for one) use this module too.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .. import errors
from ..http._multipart import Multipart
from ..http._targets import path_segment
from ..http._upload import Upload
from ..http.transport import Request
from ..types import Completion
from ._io import ID_FIX, Items, JobIO, PartStatus

__all__ = ["ENDPOINT", "OpenAIBatches"]

ENDPOINT = "/v1/chat/completions"
_STATES = {"validating": "queued", "in_progress": "running", "finalizing": "running", "completed": "completed",
           "failed": "failed", "expired": "expired", "cancelling": "cancelling", "cancelled": "cancelled"}


class OpenAIBatches:
    """The batch API of the openai dialect."""

    max_requests: int | None = 50_000
    max_bytes = 200_000_000

    def line(self, custom_id: str, request: Request) -> dict[str, Any]:
        return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": request.json}

    def submit(self, io: JobIO, lines: Sequence[Mapping[str, Any]], size: int) -> str:
        with tempfile.TemporaryFile() as handle:  # streamed from disk, and again whole on a retry
            for line in lines:
                handle.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            handle.flush()
            handle.seek(0)
            upload = Upload.of(handle, param="items", name="pepperpy-batch.jsonl", mime_type="application/jsonl")
            body = Multipart([("purpose", "batch")], [("file", upload)])
            uploaded = io.json("batch.upload", Request("POST", "/files", upload=body),
                               content={"requests": len(lines), "bytes": upload.size})
        file_id = uploaded.get("id") if isinstance(uploaded, Mapping) else None
        if not isinstance(file_id, str):
            raise _shape(io, "an uploaded file without an id")
        create = {"input_file_id": file_id, "endpoint": ENDPOINT, "completion_window": "24h",
                  "metadata": {"created_by": "pepperpy"}}
        batch = io.json("batch.create", Request("POST", "/batches", json=create), replay=False)
        if not isinstance(batch, Mapping) or not isinstance(batch.get("id"), str):
            raise _shape(io, "a created batch without an id")
        return str(batch["id"])

    def poll(self, io: JobIO, part_id: str) -> PartStatus:
        batch = io.json("batch.poll", Request("GET", f"/batches/{_quote(part_id)}"))
        if not isinstance(batch, Mapping):
            raise _shape(io, "a batch that is not an object")
        counts = batch.get("request_counts") or {}
        state = _STATES.get(str(batch.get("status")), "running")
        return PartStatus(state, batch, int(counts.get("completed") or 0), int(counts.get("failed") or 0),
                          error=_errors_of(batch))

    def cancel(self, io: JobIO, part_id: str) -> None:
        io.json("batch.cancel", Request("POST", f"/batches/{_quote(part_id)}/cancel"))

    def results(self, io: JobIO, status: PartStatus,
                items: Items) -> Iterator[tuple[str, Completion | errors.ProviderError]]:
        batch = status.raw if isinstance(status.raw, Mapping) else {}
        for key in ("output_file_id", "error_file_id"):
            file_id = batch.get(key)
            if not isinstance(file_id, str) or not file_id:
                continue
            for line in io.jsonl("batch.results", f"/files/{_quote(file_id)}/content"):
                custom_id = line.get("custom_id") if isinstance(line, Mapping) else None
                if isinstance(custom_id, str):
                    yield custom_id, _outcome(line, items)


def _outcome(line: Mapping[str, Any], items: Items) -> Completion | errors.ProviderError:
    response = line.get("response")
    if isinstance(response, Mapping) and isinstance(response.get("status_code"), int):
        code = int(response["status_code"])
        if code < 400:
            request_id = response.get("request_id")
            return items.completion(response.get("body"), request_id if isinstance(request_id, str) else None)
        return items.error(response.get("body"), code)
    error = line.get("error")
    kind = str(error.get("code") or "") if isinstance(error, Mapping) else ""
    message = str(error.get("message") or "no message") if isinstance(error, Mapping) else "no message"
    name = items.provider.name
    if kind == "batch_expired":
        return items.ended("expired", f"the {name} batch expired before this item ran ({message}); submit it again")
    if "cancel" in kind:
        return items.ended("cancelled", f"the {name} batch was cancelled before this item ran ({message})")
    return items.ended("failed", f"{name} could not run this item ({kind or 'error'}: {message})")


def _errors_of(batch: Mapping[str, Any]) -> str | None:
    """Why a batch failed validation: its ``errors``, each with the input line it names."""
    data = (batch.get("errors") or {}).get("data") if isinstance(batch.get("errors"), Mapping) else None
    if not data:
        return None
    texts = []
    for error in data[:5]:
        if isinstance(error, Mapping):
            line = f"line {error['line']}: " if error.get("line") is not None else ""
            texts.append(f"{line}{error.get('code') or 'error'}: {error.get('message') or 'no message'}")
    more = f" (and {len(data) - 5} more)" if len(data) > 5 else ""
    return "; ".join(texts) + more


def _quote(part_id: str) -> str:
    return path_segment(part_id, what="batch or file id", param="id", fix=ID_FIX)


def _shape(io: JobIO, what: str) -> errors.ProviderAPIError:
    return errors.ProviderAPIError(f"{io.provider.name} answered with {what}; does its base_url point at an "
                                   f"OpenAI-compatible API with batches (…/v1)?", provider=io.provider.name,
                                   model=io.model.id)
