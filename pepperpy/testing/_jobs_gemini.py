"""Gemini batch mode, as the fakes play it: long-running Operation envelopes, as the live API sends them.

``POST /v1beta/models/{m}:batchGenerateContent`` (requests inlined) -> ``{"name": "batches/...", "metadata":
{... "state": "BATCH_STATE_PENDING"}}``; ``GET /v1beta/batches/{id}`` -> ``BATCH_STATE_RUNNING``, then the end
state with ``done: true``; ``batchStats`` counts are strings and left out when zero; the answers sit under
``response.inlinedResponses.inlinedResponses`` and again under ``metadata.output``, keyed by ``metadata.key``;
``POST /v1beta/batches/{id}:cancel`` -> ``{}``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pepperpy.testing._gemini import GEMINI
from pepperpy.testing._jobs import FakeJob, JobContext, JobReply

__all__ = ["play_gemini_batch"]

_STATES = {"completed": "SUCCEEDED", "failed": "FAILED", "expired": "EXPIRED", "cancelled": "CANCELLED"}
_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"


def play_gemini_batch(ctx: JobContext) -> JobReply:
    if ctx.action == "create":
        return _create(ctx)
    job = ctx.jobs.get(ctx.ident)
    if job is None or job.provider != "gemini" or job.kind != "batch":
        return JobReply(404, GEMINI.error_body(404, f"Batch {ctx.ident} not found.", ctx.model, ctx.request_id))
    if ctx.action == "get":
        ctx.jobs.read(job.id)
        return JobReply(200, _operation(job))
    if ctx.action == "cancel":
        ctx.jobs.cancel(job.id)
        return JobReply(200, {})
    return JobReply(404, GEMINI.error_body(404, f"Unknown method {ctx.action}", ctx.model, ctx.request_id))


def _create(ctx: JobContext) -> JobReply:
    batch = ctx.body.get("batch") if isinstance(ctx.body, Mapping) else None
    source = (batch.get("inputConfig") or batch.get("input_config") or {}) if isinstance(batch, Mapping) else {}
    inner = source.get("requests") if isinstance(source, Mapping) else None
    requests = inner.get("requests") if isinstance(inner, Mapping) else None
    if not isinstance(requests, list) or not requests:
        return _invalid(ctx, "* BatchGenerateContentRequest.batch.input_config: requests is not specified")
    items = []
    for index, entry in enumerate(requests):
        request = entry.get("request") if isinstance(entry, Mapping) else None
        if not isinstance(request, Mapping):
            return _invalid(ctx, f"* batch.input_config.requests.requests[{index}].request: request is not specified")
        key = (entry.get("metadata") or {}).get("key", str(index))
        items.append(ctx.answer(GEMINI, str(key), request, ctx.model))
    job = ctx.jobs.create("gemini", "batch", ctx.model, ctx.body, lambda n: f"batches/fakebatch{n:06d}", items)
    job.extra["displayName"] = str(batch.get("displayName") or batch.get("display_name") or "") if batch else ""
    return JobReply(200, _operation(job))


def _operation(job: FakeJob) -> dict[str, Any]:
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
    output = {"inlinedResponses": {"inlinedResponses": responses}}
    metadata["output"] = output
    operation["response"] = {"@type": _TYPE + "Output", **output}
    return operation


def _time(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime(seconds))


def _invalid(ctx: JobContext, message: str) -> JobReply:
    return JobReply(400, GEMINI.error_body(400, message, ctx.model, ctx.request_id))
