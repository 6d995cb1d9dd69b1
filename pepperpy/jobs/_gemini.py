"""Gemini batch mode: ``POST /models/{model}:batchGenerateContent`` with the requests inlined, polled at
``GET /batches/{id}``; every answer is a long-running Operation envelope.

The state is ``metadata.state``; the live API says ``BATCH_STATE_*``, its guide ``JOB_STATE_*``: both are read.
``batchStats`` counts are int64 as JSON strings (``"3"``) and absent when zero. The results sit under
``response`` (and the same object under ``metadata.output``), nested as ``inlinedResponses.inlinedResponses``;
each carries the ``metadata.key`` it was sent with.

Inline requests take at most 20 MB; a larger input goes as a JSON Lines file (``{"key", "request"}`` per line,
up to 2 GB) through the Files API's resumable upload: ``POST /upload/v1beta/files`` with ``X-Goog-Upload-Command:
start`` answers the upload URL in its ``x-goog-upload-url`` header, and ``upload, finalize`` there sends the
bytes (``x-goog-upload-status: final`` and ``{"file": {"name": "files/..."}}`` back). Its answers then come as
a ``responsesFile``, downloaded from ``/files/{id}:download?alt=media``, one ``{"key", "response"}`` (or
``"error"``) per line.
"""

from __future__ import annotations

import json
import tempfile
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .. import errors
from ..dialects._gemini_config import model_path
from ..http._targets import path_segments
from ..http._upload import Upload
from ..http.transport import Request
from ..types import Completion
from ._io import ID_FIX, Items, JobIO, PartStatus

__all__ = ["GeminiBatches", "state_of"]

INLINE_BYTES = 20_000_000
FILE_BYTES = 2_000_000_000
_STATES = {"PENDING": "queued", "UNSPECIFIED": "queued", "RUNNING": "running", "SUCCEEDED": "completed",
           "FAILED": "failed", "CANCELLED": "cancelled", "EXPIRED": "expired", "CANCELLING": "cancelling"}


class GeminiBatches:
    """The batch API of the gemini dialect: requests inlined, or in an uploaded file when they are large."""

    max_requests: int | None = None
    max_bytes = FILE_BYTES
    inline_bytes = INLINE_BYTES - 100_000  # room for the envelope around the requests

    def line(self, custom_id: str, request: Request) -> dict[str, Any]:
        return {"request": request.json, "metadata": {"key": custom_id}}

    def submit(self, io: JobIO, lines: Sequence[Mapping[str, Any]], size: int) -> str:
        name = f"pepperpy {io.model.id} ({len(lines)} requests)"
        inline = io.provider.options.get("batch_inline_bytes", self.inline_bytes)
        if isinstance(inline, bool) or not isinstance(inline, int) or inline < 0:
            raise errors.ConfigurationError(f"{io.provider.name} option batch_inline_bytes must be a whole number "
                                            f"of bytes, not {inline!r}")
        if size <= inline:
            source: dict[str, Any] = {"requests": {"requests": list(lines)}}
        else:
            source = {"fileName": _upload(io, lines, name)}
        body = {"batch": {"displayName": name, "inputConfig": source}}
        path = f"/{model_path(io.model)}:batchGenerateContent"
        operation = io.json("batch.create", Request("POST", path, json=body), replay=False,
                            content={"requests": len(lines), "bytes": size},
                            input_bytes=size if "requests" in source else 0)  # else uploaded before
        created = operation.get("name") if isinstance(operation, Mapping) else None
        if not isinstance(created, str) or not created.startswith("batches/"):
            raise _shape(io, "a created batch without a 'batches/...' name")
        return created

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
        entries: Iterable[Any] = (output.get("inlinedResponses") or {}).get("inlinedResponses") or []
        responses = output.get("responsesFile")
        if isinstance(responses, str) and responses:
            entries = io.jsonl("batch.results", f"/{_path(responses)}:download?alt=media")
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            key = entry.get("key") or (entry.get("metadata") or {}).get("key")
            if isinstance(key, str):
                yield key, _outcome(entry, items)


def _outcome(entry: Mapping[str, Any], items: Items) -> Completion | errors.ProviderError:
    if entry.get("response") is not None:
        return items.completion(entry["response"])
    error = entry.get("error") or entry.get("status") or {}
    code = error.get("code") if isinstance(error, Mapping) else None
    return items.error({"error": error}, code if isinstance(code, int) and 400 <= code < 600 else 400)


def _upload(io: JobIO, lines: Sequence[Mapping[str, Any]], name: str) -> str:
    """Upload the requests as a JSON Lines file (resumable upload, one chunk); its ``files/...`` name."""
    with tempfile.TemporaryFile() as handle:
        for line in lines:
            entry = {"key": (line.get("metadata") or {}).get("key"), "request": line.get("request")}
            handle.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        size = handle.tell()
        handle.seek(0)
        start = Request("POST", _upload_base(io.base_url) + "/files", json={"file": {"displayName": name}},
                        headers={"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
                                 "X-Goog-Upload-Header-Content-Length": str(size),
                                 "X-Goog-Upload-Header-Content-Type": "application/jsonl"})
        _, headers = io.answer("batch.upload", start)
        url = headers.get("x-goog-upload-url")
        if not url:
            raise _shape(io, "an upload start without the x-goog-upload-url header")
        if not io.same_origin(url):  # the session carries the key; the upload URL must be the provider's
            raise errors.ProviderAPIError(f"{io.provider.name} gave an upload URL on another host "
                                          f"({urllib.parse.urlsplit(url).hostname}); pepperpy does not send the "
                                          f"key there", provider=io.provider.name, model=io.model.id)
        upload = Upload.of(handle, param="items", name="pepperpy-batch.jsonl", mime_type="application/jsonl")
        finish = Request("POST", url, upload=upload,
                         headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0"})
        answer, headers = io.answer("batch.upload", finish)
    file = answer.get("file") if isinstance(answer, Mapping) else None
    if headers.get("x-goog-upload-status") != "final" or not isinstance(file, Mapping) or not file.get("name"):
        raise _shape(io, "an upload that did not finish (no x-goog-upload-status: final and file name)")
    return str(file["name"])


def _upload_base(base_url: str) -> str:
    """``https://host/v1beta`` -> ``https://host/upload/v1beta``: the Files API's upload address."""
    parts = urllib.parse.urlsplit(base_url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/upload" + parts.path, "", ""))


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
    return path_segments(name.strip("/"), what="batch or file name", param="id", fix=ID_FIX)


def _shape(io: JobIO, what: str) -> errors.ProviderAPIError:
    return errors.ProviderAPIError(f"{io.provider.name} answered with {what}; does its base_url point at the "
                                   f"Gemini API (…/v1beta)?", provider=io.provider.name, model=io.model.id)
