"""Video generation, as the fakes play it: OpenAI's Videos API and Gemini's Veo, with Veo's redirecting download.

OpenAI: ``POST /v1/videos`` (multipart) -> a Video ``queued``; ``GET /v1/videos/{id}`` -> ``in_progress`` with a
rising ``progress``, then ``completed`` (or ``failed`` with ``error``); ``GET /v1/videos/{id}/content`` -> the MP4.

Gemini: ``POST /v1beta/models/{m}:predictLongRunning`` -> ``{"name": "models/{m}/operations/..."}``; ``GET`` on
that name -> ``metadata.progressPercent`` while it runs, then ``done`` with
``response.generateVideoResponse.generatedSamples[0].video.uri``, a Files API download. That download answers
``302`` to a storage URL on another host (``localhost`` for the loopback server), which refuses any request
carrying an API key: a client that forwards its key there fails, as it should.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pepperpy.testing._gemini import GEMINI
from pepperpy.testing._jobs import FakeJob, JobContext, JobReply
from pepperpy.testing._openai import OPENAI
from pepperpy.testing._script import parse_multipart

__all__ = ["KEY_HEADERS", "fake_video", "play_video", "storage_redirect"]

KEY_HEADERS = ("x-goog-api-key", "authorization", "x-api-key")
_MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def fake_video(prompt: str, seconds: int) -> bytes:
    """The bytes of a fake MP4: an ``ftyp`` box, then the prompt and length (so tests can tell videos apart)."""
    return _MP4_HEAD + f"fake video, {seconds} s: {prompt}".encode()


def play_video(dialect: str, ctx: JobContext) -> JobReply:
    if ctx.action == "storage":
        return _storage(ctx)
    return _openai(ctx) if dialect == "openai" else _veo(ctx)


# --------------------------------------------------------------------------- OpenAI


def _openai(ctx: JobContext) -> JobReply:
    if ctx.action == "video.create":
        form = {part.name: part for part in parse_multipart(ctx.raw, ctx.headers.get("content-type", ""))}
        prompt = form.get("prompt")
        if prompt is None or not prompt.text:
            return _error(ctx, OPENAI, 400, "Missing required parameter: 'prompt'.")
        seconds = form["seconds"].text if "seconds" in form else "4"
        if seconds not in ("4", "8", "12"):
            return _error(ctx, OPENAI, 400, f"Invalid value for 'seconds': {seconds!r}; supported: '4', '8', '12'.")
        model = form["model"].text if "model" in form else "sora-2"
        created = ctx.jobs.create("openai", "video", model, {name: part.text for name, part in form.items()
                                                             if part.filename is None}, lambda n: f"video_fake{n:06d}")
        created.extra.update(seconds=seconds, size=form["size"].text if "size" in form else "720x1280",
                             prompt=prompt.text, reference=form["input_reference"].data if "input_reference" in form
                             else None)
        return JobReply(200, _openai_video(created))
    job = ctx.jobs.get(ctx.ident)
    if job is None or job.provider != "openai" or job.kind != "video":
        return _error(ctx, OPENAI, 404, f"Video with id '{ctx.ident}' not found.")
    if ctx.action == "video.get":
        ctx.jobs.read(job.id)
        return JobReply(200, _openai_video(job))
    if not job.finished or job.end != "completed":
        return _error(ctx, OPENAI, 400, f"Video '{job.id}' is not completed; its content cannot be downloaded.")
    data = fake_video(str(job.extra["prompt"]), int(job.extra["seconds"]))
    return JobReply(200, data, {"Content-Type": "video/mp4"})


def _openai_video(job: FakeJob) -> dict[str, Any]:
    status = {"queued": "queued", "running": "in_progress", "cancelling": "in_progress"}.get(job.phase) or (
        "completed" if job.end == "completed" else "failed")
    error = {"code": "video_generation_failed", "message": "The fake provider was told to fail this video."}
    return {"id": job.id, "object": "video", "model": job.model, "status": status, "progress": job.percent,
            "created_at": job.created, "completed_at": job.created + job.reads if status == "completed" else None,
            "expires_at": job.created + 86400, "prompt": job.extra["prompt"], "size": job.extra["size"],
            "seconds": job.extra["seconds"], "remixed_from_video_id": None,
            "error": error if status == "failed" else None}


# --------------------------------------------------------------------------- Gemini Veo


def _veo(ctx: JobContext) -> JobReply:
    if ctx.action == "video.create":
        instances = ctx.body.get("instances") if isinstance(ctx.body, Mapping) else None
        instance = instances[0] if isinstance(instances, list) and instances else None
        if not isinstance(instance, Mapping) or not (instance.get("prompt") or instance.get("image")):
            return _error(ctx, GEMINI, 400, "* PredictLongRunningRequest.instances: a prompt or an image is required")
        parameters = ctx.body.get("parameters") or {}
        created = ctx.jobs.create("gemini", "video", ctx.model, ctx.body,
                                  lambda n: f"models/{ctx.model}/operations/fakevideo{n:06d}")
        created.extra.update(prompt=str(instance.get("prompt") or ""),
                             seconds=int(parameters.get("durationSeconds") or 8))
        return JobReply(200, {"name": created.id})
    job = ctx.jobs.get(ctx.ident)
    if job is None or job.provider != "gemini" or job.kind != "video":
        return _error(ctx, GEMINI, 404, f"Operation {ctx.ident} not found.")
    ctx.jobs.read(job.id)
    operation: dict[str, Any] = {"name": job.id}
    if not job.finished:
        operation["metadata"] = {"progressPercent": job.percent}
        return JobReply(200, operation)
    operation["done"] = True
    if job.end != "completed":
        operation["error"] = {"code": 3, "message": "The fake provider was told to fail this video.",
                              "status": "INVALID_ARGUMENT"}
        return JobReply(200, operation)
    with ctx.jobs.lock:
        if "file" not in job.extra:
            data = fake_video(str(job.extra["prompt"]), int(job.extra["seconds"]))
            job.extra["file"] = ctx.jobs.add_file("video", f"{job.id}.mp4", data, prefix="files/",
                                                  mime_type="video/mp4").id
    uri = f"{ctx.jobs.file_origin or ctx.origin}/v1beta/{job.extra['file']}:download?alt=media"
    operation["response"] = {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
        "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]}}
    return JobReply(200, operation)


def storage_redirect(ctx: JobContext, file_id: str) -> JobReply:
    """A Files API download of a video: 302 to storage on another host, under a one-time token."""
    token = secrets.token_hex(8)
    with ctx.jobs.lock:
        ctx.jobs.storage[token] = file_id
    parts = urlsplit(ctx.origin or "https://generativelanguage.googleapis.com")
    host = _other_name(parts.hostname or "")
    netloc = f"{host}:{parts.port}" if parts.port else host
    location = urlunsplit((parts.scheme, netloc, f"/storage/{token}", "", ""))
    return JobReply(302, b"", {"Location": location, "Content-Type": "text/html"})


def _other_name(host: str) -> str:
    """Another host name for storage: ``localhost`` for the loopback server (when it resolves to 127.0.0.1,
    else the same address), a made-up host for FakeAdapter, which answers every host."""
    if host != "127.0.0.1":
        return "storage.fake-provider.test"
    try:
        found = {info[4][0] for info in socket.getaddrinfo("localhost", None, socket.AF_INET)}
    except OSError:
        found = set()
    return "localhost" if "127.0.0.1" in found else host


def _storage(ctx: JobContext) -> JobReply:
    carried = [name for name in KEY_HEADERS if name in ctx.headers] + (["key"] if "key" in ctx.query else [])
    if carried:
        return JobReply(403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message":
                        f"the fake storage host refuses requests carrying an API key ({', '.join(carried)}): a "
                        f"client must not forward the provider's key to a redirect target"}})
    with ctx.jobs.lock:
        file_id = ctx.jobs.storage.get(ctx.ident)
    file = ctx.jobs.file(file_id) if file_id else None
    if file is None:
        return JobReply(404, {"error": {"code": 404, "message": "No such object.", "status": "NOT_FOUND"}})
    return JobReply(200, file.data, {"Content-Type": file.mime_type})


def _error(ctx: JobContext, dialect: Any, status: int, message: str) -> JobReply:
    return JobReply(status, dialect.error_body(status, message, ctx.model, ctx.request_id))
