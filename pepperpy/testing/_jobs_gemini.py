"""Gemini batch mode, as the fakes play it: long-running Operation envelopes, as the live API sends them.

``POST /v1beta/models/{m}:batchGenerateContent`` (requests inlined) -> ``{"name": "batches/...", "metadata":
{... "state": "BATCH_STATE_PENDING"}}``; ``GET /v1beta/batches/{id}`` -> ``BATCH_STATE_RUNNING``, then the end
state with ``done: true``; ``batchStats`` counts are strings and left out when zero; the answers sit under
``response.inlinedResponses.inlinedResponses`` and again under ``metadata.output``, keyed by ``metadata.key``;
``POST /v1beta/batches/{id}:cancel`` -> ``{}``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from pepperpy.testing._gemini import GEMINI
from pepperpy.testing._jobs import FakeFile, FakeJob, JobContext, JobReply
from pepperpy.testing._jobs_videos import storage_redirect
from pepperpy.testing._wire import dumps

__all__ = ["play_gemini_batch"]

_STATES = {"completed": "SUCCEEDED", "failed": "FAILED", "expired": "EXPIRED", "cancelled": "CANCELLED"}
_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"


def play_gemini_batch(ctx: JobContext) -> JobReply:
    if ctx.action == "upload":
        return _upload(ctx)
    if ctx.action == "download":
        return _download(ctx)
    if ctx.action == "create":
        return _create(ctx)
    job = ctx.jobs.get(ctx.ident)
    if job is None or job.provider != "gemini" or job.kind != "batch":
        return JobReply(404, GEMINI.error_body(404, f"Batch {ctx.ident} not found.", ctx.model, ctx.request_id))
    if ctx.action == "get":
        ctx.jobs.read(job.id)
        return JobReply(200, _operation(ctx, job))
    if ctx.action == "cancel":
        ctx.jobs.cancel(job.id)
        return JobReply(200, {})
    return JobReply(404, GEMINI.error_body(404, f"Unknown method {ctx.action}", ctx.model, ctx.request_id))


def _create(ctx: JobContext) -> JobReply:
    batch = ctx.body.get("batch") if isinstance(ctx.body, Mapping) else None
    source = (batch.get("inputConfig") or batch.get("input_config") or {}) if isinstance(batch, Mapping) else {}
    file_name = source.get("fileName") or source.get("file_name") if isinstance(source, Mapping) else None
    entries: Any = None
    if file_name:
        entries = _file_requests(ctx, str(file_name))
        if isinstance(entries, JobReply):
            return entries
    elif isinstance(source, Mapping) and isinstance(source.get("requests"), Mapping):
        entries = source["requests"].get("requests")
    if not isinstance(entries, list) or not entries:
        return _invalid(ctx, "* BatchGenerateContentRequest.batch.input_config: requests is not specified")
    items = []
    for index, entry in enumerate(entries):
        request = entry.get("request") if isinstance(entry, Mapping) else None
        if not isinstance(request, Mapping):
            return _invalid(ctx, f"* batch.input_config.requests.requests[{index}].request: request is not specified")
        key = entry.get("key") or (entry.get("metadata") or {}).get("key", str(index))
        items.append(ctx.answer(GEMINI, str(key), request, ctx.model))
    job = ctx.jobs.create("gemini", "batch", ctx.model, ctx.body, lambda n: f"batches/fakebatch{n:06d}", items)
    job.extra["displayName"] = str(batch.get("displayName") or batch.get("display_name") or "") if batch else ""
    job.extra["file_input"] = bool(file_name)
    return JobReply(200, _operation(ctx, job))


def _file_requests(ctx: JobContext, name: str) -> list[Any] | JobReply:
    file = ctx.jobs.file(name)
    if file is None:
        return JobReply(404, GEMINI.error_body(404, f"File {name} not found.", ctx.model, ctx.request_id))
    try:
        return [json.loads(line) for line in file.data.decode("utf-8").splitlines() if line.strip()]
    except ValueError:
        return _invalid(ctx, f"* batch.input_config.file_name: {name} is not a JSON Lines file")


def _upload(ctx: JobContext) -> JobReply:
    """The Files API's resumable upload, both steps: ``start`` answers the upload URL in a header, ``upload,
    finalize`` takes the bytes and answers the File."""
    command = ctx.headers.get("x-goog-upload-command", "")
    if command == "start":
        if ctx.headers.get("x-goog-upload-protocol") != "resumable":
            return _invalid(ctx, "Only the resumable upload protocol is supported (X-Goog-Upload-Protocol).")
        declared = ctx.headers.get("x-goog-upload-header-content-length", "")
        file = (ctx.body or {}).get("file") if isinstance(ctx.body, Mapping) else None
        with ctx.jobs.lock:
            session = f"fakeupload{len(ctx.jobs.uploads) + 1:06d}"
            ctx.jobs.uploads[session] = {"size": int(declared) if declared.isdigit() else None,
                                         "mime": ctx.headers.get("x-goog-upload-header-content-type", ""),
                                         "displayName": (file or {}).get("displayName", "")}
        url = f"{ctx.origin}/upload/v1beta/files?upload_id={session}&upload_protocol=resumable"
        return JobReply(200, {}, {"x-goog-upload-url": url, "x-goog-upload-status": "active"})
    pending = ctx.jobs.uploads.pop(ctx.query.get("upload_id", ""), None)
    if pending is None or "finalize" not in command or ctx.headers.get("x-goog-upload-offset") != "0":
        return _invalid(ctx, "Unknown upload session, or not 'upload, finalize' at offset 0.")
    if pending["size"] is not None and pending["size"] != len(ctx.raw):
        return _invalid(ctx, f"Declared {pending['size']} bytes, received {len(ctx.raw)}.")
    stored = ctx.jobs.add_file("upload", str(pending["displayName"]), ctx.raw, prefix="files/",
                               mime_type=str(pending["mime"]))
    return JobReply(200, {"file": _file(ctx, stored)}, {"x-goog-upload-status": "final"})


def _download(ctx: JobContext) -> JobReply:
    file = ctx.jobs.file(ctx.ident)
    if file is None:
        return JobReply(404, GEMINI.error_body(404, f"File {ctx.ident} not found.", ctx.model, ctx.request_id))
    if ctx.query.get("alt") != "media":
        return JobReply(200, _file(ctx, file))
    if file.purpose == "video":  # generated videos are served from storage, on another host
        return storage_redirect(ctx, file.id)
    return JobReply(200, file.data, {"Content-Type": file.mime_type})


def _file(ctx: JobContext, file: FakeFile) -> dict[str, Any]:
    return {"name": file.id, "displayName": file.filename, "mimeType": file.mime_type,
            "sizeBytes": str(len(file.data)), "createTime": _time(file.created), "updateTime": _time(file.created),
            "uri": f"{ctx.origin}/v1beta/{file.id}", "state": "ACTIVE",
            "source": "GENERATED" if file.purpose != "upload" else "UPLOADED"}


def _operation(ctx: JobContext, job: FakeJob) -> dict[str, Any]:
    state = "BATCH_STATE_" + (_STATES[job.end] if job.finished else ("RUNNING" if job.reads else "PENDING"))
    answered = job.answered()
    stats = {"requestCount": len(job.items),
             "successfulRequestCount": sum(1 for item in answered if item.status == 200),
             "failedRequestCount": sum(1 for item in answered if item.status != 200),
             "pendingRequestCount": 0 if job.finished else len(job.items)}
    metadata: dict[str, Any] = {
        "@type": _TYPE, "model": f"models/{job.model}", "displayName": job.extra.get("displayName", ""),
        "createTime": _time(job.created), "updateTime": _time(job.created + job.reads),
        "batchStats": {name: str(count) for name, count in stats.items() if count},  # int64 as strings
        "state": state, "name": job.id,
    }
    operation: dict[str, Any] = {"name": job.id, "metadata": metadata}
    if not job.finished:
        return operation
    metadata["endTime"] = _time(job.created + job.reads)
    operation["done"] = True
    if job.end == "failed":
        operation["error"] = {"code": 13, "message": "Batch failed: the fake provider was told to fail it."}
        return operation
    responses = []
    for item in answered:
        entry: dict[str, Any] = {"metadata": {"key": item.custom_id}}
        if item.status == 200:
            entry["response"] = item.body
        else:
            entry["error"] = (item.body or {}).get("error", {"code": item.status, "message": "error"})
        responses.append(entry)
    output: dict[str, Any] = {"inlinedResponses": {"inlinedResponses": responses}}
    if job.extra.get("file_input"):  # answers to a file input come as a file too
        with ctx.jobs.lock:
            if "responsesFile" not in job.extra:
                lines = [{"key": entry["metadata"]["key"], **{k: v for k, v in entry.items() if k != "metadata"}}
                         for entry in responses]
                data = "".join(dumps(line) + "\n" for line in lines).encode()
                job.extra["responsesFile"] = ctx.jobs.add_file("batch_output", f"{job.id} responses", data,
                                                               prefix="files/batch-", mime_type="application/jsonl").id
        output = {"responsesFile": job.extra["responsesFile"]}
    metadata["output"] = output
    operation["response"] = {"@type": _TYPE + "Output", **output}
    return operation


def _time(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(seconds))


def _invalid(ctx: JobContext, message: str) -> JobReply:
    return JobReply(400, GEMINI.error_body(400, message, ctx.model, ctx.request_id))
