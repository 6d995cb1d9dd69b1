"""Anthropic Message Batches, as the fakes play them.

``POST /v1/messages/batches`` -> a MessageBatch ``in_progress``; ``GET .../{id}`` -> every item counts as
``processing`` until the batch has ``ended`` (the real API gives the other counts only then); ``POST .../cancel``
-> ``canceling``; ``GET .../{id}/results`` -> JSON Lines, shuffled, at the absolute ``results_url``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from pepperpy.testing._anthropic import ANTHROPIC
from pepperpy.testing._jobs import FakeJob, JobContext, JobReply
from pepperpy.testing._wire import dumps

__all__ = ["play_anthropic_batch"]

_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_PATH = "/v1/messages/batches"


def play_anthropic_batch(ctx: JobContext) -> JobReply:
    if ctx.action == "create":
        return _create(ctx)
    job = ctx.jobs.get(ctx.ident)
    if job is None or job.provider != "anthropic":
        return _error(ctx, 404, f"message_batch_id: no batch {ctx.ident!r}")
    if ctx.action == "get":
        ctx.jobs.read(job.id)
        return JobReply(200, _batch(job, ctx.origin))
    if ctx.action == "cancel":
        ctx.jobs.cancel(job.id)
        return JobReply(200, _batch(job, ctx.origin))
    if ctx.action == "results":
        if not job.finished:
            return _error(ctx, 400, f"Batch {job.id} has not ended; results are available once it has ended")
        return JobReply(200, _results(job), {"Content-Type": "application/binary"})
    return _error(ctx, 404, f"Unknown route: {ctx.method} {_PATH}/{job.id}/{ctx.action}")


def _create(ctx: JobContext) -> JobReply:
    requests = ctx.body.get("requests") if isinstance(ctx.body, Mapping) else None
    if not isinstance(requests, list) or not requests:
        return _error(ctx, 400, "requests: Field required (a non-empty list)")
    seen: set[str] = set()
    for index, entry in enumerate(requests):
        custom_id = entry.get("custom_id") if isinstance(entry, Mapping) else None
        if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
            pattern = "^[a-zA-Z0-9_-]{1,64}$"
            return _error(ctx, 400, f"requests.{index}.custom_id: String should match pattern '{pattern}'")
        if custom_id in seen:
            return _error(ctx, 400, f"requests.{index}.custom_id: duplicate custom_id {custom_id!r}")
        seen.add(custom_id)
        params = entry.get("params")
        if not isinstance(params, Mapping):
            return _error(ctx, 400, f"requests.{index}.params: Field required")
        if params.get("stream"):
            return _error(ctx, 400, f"requests.{index}.params.stream: streaming is not supported in batches")
    items = [ctx.answer(ANTHROPIC, e["custom_id"], e["params"], str(e["params"].get("model", ""))) for e in requests]
    model = str(requests[0]["params"].get("model", ""))
    job = ctx.jobs.create("anthropic", "batch", model, ctx.body, lambda n: f"msgbatch_fake{n:06d}", items)
    return JobReply(200, _batch(job, ctx.origin))


def _batch(job: FakeJob, origin: str) -> dict[str, Any]:
    counts = {"processing": len(job.items), "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
    if job.finished:
        counts["processing"] = 0
        for item in job.answered():
            counts["succeeded" if item.status == 200 else "errored"] += 1
        counts["canceled" if job.end == "cancelled" else "expired"] += len(job.unanswered())
        if job.end == "failed":
            counts["errored"] = len(job.items)
    phase = {"finished": "ended", "cancelling": "canceling"}.get(job.phase, "in_progress")
    cancelled = job.phase == "cancelling" or job.end == "cancelled"
    return {
        "id": job.id, "type": "message_batch", "processing_status": phase, "request_counts": counts,
        "ended_at": _time(job.created + 60) if job.finished else None, "created_at": _time(job.created),
        "expires_at": _time(job.created + 86400), "cancel_initiated_at": _time(job.created + 1) if cancelled else None,
        "archived_at": None, "results_url": f"{origin}{_PATH}/{job.id}/results" if job.finished else None,
    }


def _results(job: FakeJob) -> bytes:
    lines = []
    if job.end == "failed":  # Anthropic has no failed batch: every item errors
        for item in job.items:
            error = ANTHROPIC.error_body(500, "Internal server error", job.model, "req_fake")
            lines.append({"custom_id": item.custom_id, "result": {"type": "errored", "error": error}})
    for item in job.answered():
        if item.status == 200:
            result: dict[str, Any] = {"type": "succeeded", "message": item.body}
        else:
            result = {"type": "errored", "error": item.body}
        lines.append({"custom_id": item.custom_id, "result": result})
    kind = "canceled" if job.end == "cancelled" else "expired"
    lines.extend({"custom_id": item.custom_id, "result": {"type": kind}} for item in job.unanswered())
    return "".join(dumps(line) + "\n" for line in lines).encode()


def _time(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(seconds))


def _error(ctx: JobContext, status: int, message: str) -> JobReply:
    return JobReply(status, ANTHROPIC.error_body(status, message, ctx.model, ctx.request_id))
