"""The OpenAI Batch API and Files API, as the fakes play them.

``POST /v1/files`` (multipart: ``purpose``, ``file``) -> a FileObject; ``GET /v1/files/{id}`` and
``GET /v1/files/{id}/content``. ``POST /v1/batches`` on an uploaded JSON Lines file -> ``validating``; then
``in_progress``, and at the end ``completed`` (or ``failed`` with the file's ``errors`` when its lines do not
validate, ``expired``, ``cancelled``) with an output file (answers, shuffled) and an error file (HTTP errors as
``response.status_code`` >= 400, expired or cancelled requests as ``error`` objects).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

from pepperpy.testing._jobs import FakeFile, FakeJob, JobContext, JobReply
from pepperpy.testing._openai import OPENAI
from pepperpy.testing._script import parse_multipart
from pepperpy.testing._wire import dumps

__all__ = ["play_openai_batch"]

_ENDPOINTS = ("/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/completions")
_STATUS = {"completed": "completed", "failed": "failed", "expired": "expired", "cancelled": "cancelled"}


def play_openai_batch(ctx: JobContext) -> JobReply:
    if ctx.action.startswith("file."):
        return _files(ctx)
    if ctx.action == "create":
        return _create(ctx)
    job = ctx.jobs.get(ctx.ident)
    if job is None or job.provider != "openai" or job.kind != "batch":
        return _error(ctx, 404, f"No batch found with id '{ctx.ident}'.")
    if ctx.action == "get":
        ctx.jobs.read(job.id)
        return JobReply(200, _batch(ctx, job))
    if ctx.action == "cancel":
        ctx.jobs.cancel(job.id)
        return JobReply(200, _batch(ctx, job))
    return _error(ctx, 404, f"Unknown route: {ctx.method} /v1/batches/{job.id}/{ctx.action}")


def _files(ctx: JobContext) -> JobReply:
    if ctx.action == "file.create":
        parts = {part.name: part for part in parse_multipart(ctx.raw, ctx.headers.get("content-type", ""))}
        upload, purpose = parts.get("file"), parts.get("purpose")
        if upload is None or upload.filename is None:
            return _error(ctx, 400, "Missing required parameter: 'file'.")
        if purpose is None or not purpose.text:
            return _error(ctx, 400, "Missing required parameter: 'purpose'.")
        return JobReply(200, _file(ctx.jobs.add_file(purpose.text, upload.filename, upload.data)))
    found = ctx.jobs.file(ctx.ident)
    if found is None:
        return _error(ctx, 404, f"No such File object: {ctx.ident}")
    if ctx.action == "file.content":
        return JobReply(200, found.data, {"Content-Type": "application/octet-stream"})
    return JobReply(200, _file(found))


def _create(ctx: JobContext) -> JobReply:
    body = ctx.body if isinstance(ctx.body, Mapping) else {}
    for name in ("input_file_id", "endpoint", "completion_window"):
        if not body.get(name):
            return _error(ctx, 400, f"Missing required parameter: '{name}'.")
    if body["endpoint"] not in _ENDPOINTS:
        return _error(ctx, 400, f"Invalid value for 'endpoint': {body['endpoint']!r}.")
    if body["completion_window"] != "24h":
        return _error(ctx, 400, "Invalid value for 'completion_window': only '24h' is supported.")
    source = ctx.jobs.file(str(body["input_file_id"]))
    if source is None or source.purpose != "batch":
        return _error(ctx, 400, f"Invalid 'input_file_id': '{body['input_file_id']}' is not a file with purpose "
                                f"'batch'.")
    lines, problems = _read_input(source.data, str(body["endpoint"]))
    items = [] if problems else [ctx.answer(OPENAI, line["custom_id"], line["body"], str(line["body"]["model"]))
                                 for line in lines]
    model = str(lines[0]["body"].get("model", "")) if lines and not problems else ""
    job = ctx.jobs.create("openai", "batch", model, body, lambda n: f"batch_fake{n:06d}", items)
    if problems:
        job.outcome = "failed"
        job.extra["errors"] = problems
    elif job.outcome == "failed":  # scripted: fail it as a validation failure would
        job.extra["errors"] = [_problem("fake_failure", None, "The fake provider was told to fail this batch.")]
    job.extra["endpoint"] = body["endpoint"]
    return JobReply(200, _batch(ctx, job))


def _read_input(data: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The input file's lines, and what the real API's validation would reject (one error per bad line)."""
    lines: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    models: set[str] = set()
    for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            problems.append(_problem("invalid_json_line", number, "This line is not parseable as valid JSON."))
            continue
        if not isinstance(line, dict) or not isinstance(line.get("body"), dict):
            problems.append(_problem("invalid_request", number, "Each line needs custom_id, method, url and body."))
        elif line.get("url") != endpoint or line.get("method") != "POST":
            problems.append(_problem("mismatched_endpoint", number,
                                     f"The url must be {endpoint} and the method POST, as the batch's endpoint."))
        elif not isinstance(line.get("custom_id"), str) or line["custom_id"] in seen:
            problems.append(_problem("duplicate_custom_id", number, "Each custom_id must be a unique string."))
        else:
            seen.add(line["custom_id"])
            models.add(str(line["body"].get("model")))
            lines.append(line)
    if len(models) > 1:
        problems.append(_problem("mismatched_model", None, "All requests of a batch must use the same model."))
    if not lines and not problems:
        problems.append(_problem("empty_file", None, "The input file has no requests."))
    return lines, problems


def _batch(ctx: JobContext, job: FakeJob) -> dict[str, Any]:
    status = {"queued": "validating", "running": "in_progress", "cancelling": "cancelling"}.get(job.phase) or \
        _STATUS[job.end]
    answered, late = job.answered(), job.unanswered()
    counts = {"total": len(job.items), "completed": 0, "failed": 0}
    if job.finished:
        counts["completed"] = sum(1 for item in answered if item.status == 200)
        counts["failed"] = len(job.items) - counts["completed"]
    with ctx.jobs.lock:  # once, even when two polls arrive together
        if job.finished and job.end != "failed" and "results_written" not in job.extra:
            _write_results(ctx, job, answered, late)
            job.extra["results_written"] = True
    done_at = job.created + job.reads
    problems = job.extra.get("errors")
    return {
        "id": job.id, "object": "batch", "endpoint": job.extra.get("endpoint", "/v1/chat/completions"),
        "model": job.model or None, "errors": {"object": "list", "data": problems} if problems else None,
        "input_file_id": job.request.get("input_file_id") if isinstance(job.request, Mapping) else None,
        "completion_window": "24h", "status": status,
        "output_file_id": job.extra.get("output_file_id"), "error_file_id": job.extra.get("error_file_id"),
        "created_at": job.created, "in_progress_at": job.created if job.reads else None,
        "expires_at": job.created + 86400, "finalizing_at": None,
        "completed_at": done_at if job.end == "completed" else None,
        "failed_at": done_at if job.end == "failed" else None,
        "expired_at": done_at if job.end == "expired" else None,
        "cancelling_at": job.created + 1 if job.phase == "cancelling" or job.end == "cancelled" else None,
        "cancelled_at": done_at if job.end == "cancelled" else None,
        "request_counts": counts, "metadata": (job.request or {}).get("metadata"),
    }


def _write_results(ctx: JobContext, job: FakeJob, answered: list[Any], late: list[Any]) -> None:
    output: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for number, item in enumerate(answered):
        line = {"id": f"batch_req_fake{number:06d}", "custom_id": item.custom_id,
                "response": {"status_code": item.status, "request_id": f"req_{job.id}_{number}", "body": item.body},
                "error": None}
        (output if item.status == 200 else errors).append(line)
    code = "batch_cancelled" if job.end == "cancelled" else "batch_expired"
    message = ("This request was not executed because the batch was cancelled." if job.end == "cancelled" else
               "This request could not be executed before the completion window expired.")
    errors.extend({"id": f"batch_req_fake_late{n:06d}", "custom_id": item.custom_id, "response": None,
                   "error": {"code": code, "message": message}} for n, item in enumerate(late))
    random.Random(job.id).shuffle(errors)
    for key, lines in (("output_file_id", output), ("error_file_id", errors)):
        if lines:
            data = "".join(dumps(line) + "\n" for line in lines).encode()
            job.extra[key] = ctx.jobs.add_file("batch_output", f"{job.id}_{key[:-8]}.jsonl", data).id


def _file(file: FakeFile) -> dict[str, Any]:
    return {"id": file.id, "object": "file", "bytes": len(file.data), "created_at": file.created,
            "filename": file.filename, "purpose": file.purpose, "status": "processed", "status_details": None}


def _problem(code: str, line: int | None, message: str) -> dict[str, Any]:
    return {"code": code, "line": line, "message": message, "param": None}


def _error(ctx: JobContext, status: int, message: str) -> JobReply:
    return JobReply(status, OPENAI.error_body(status, message, ctx.model, ctx.request_id))
