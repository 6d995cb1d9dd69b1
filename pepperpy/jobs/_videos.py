"""Video generation wire formats: OpenAI's Videos API and Gemini's Veo (``predictLongRunning``).

OpenAI (the ``/videos`` endpoints of openai-python 3.3.1 and its OpenAPI spec): ``POST /videos`` as
multipart/form-data (``prompt``, ``model``, ``seconds`` as a string, ``size``, an ``input_reference`` image),
polled at ``GET /videos/{id}`` (``queued``, ``in_progress`` with ``progress`` 0-100, ``completed``, ``failed``
with ``error``), the MP4 at ``GET /videos/{id}/content``. OpenAI shut its own Videos API down on 2026-09-24;
servers that keep serving these endpoints (OpenAI-compatible gateways) use this module.

Gemini (python-genai's ``generate_videos``): ``POST /models/{m}:predictLongRunning`` with
``{"instances": [{"prompt", "image"}], "parameters": {"durationSeconds", "aspectRatio", "resolution"...}}``,
answered with an operation name polled at ``GET /{name}`` until ``done``; the video is at
``response.generateVideoResponse.generatedSamples[0].video.uri``, a Files API download (fetched, as the SDK does,
at ``/files/{id}:download`` under the provider's base URL) that redirects to storage: ``Transport.download``
sends the key to the provider's host only and follows the redirect without it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from .. import errors
from ..dialects._gemini_config import model_path
from ..http._multipart import Multipart
from ..http._targets import path_segment, path_segments
from ..http._upload import Upload
from ..http.transport import Request
from ._io import ID_FIX, JobIO, PartStatus

__all__ = ["VIDEO_BYTES", "GeminiVideos", "OpenAIVideos", "VideoAPI", "veo_shape"]

VIDEO_BYTES = 1_000_000_000  # the largest video a download takes (it is handed over as bytes)

# size (WIDTHxHEIGHT) -> Veo's aspectRatio and resolution
_VEO_SIZES = {"1280x720": ("16:9", "720p"), "720x1280": ("9:16", "720p"), "1920x1080": ("16:9", "1080p"),
              "1080x1920": ("9:16", "1080p"), "3840x2160": ("16:9", "4k"), "2160x3840": ("9:16", "4k")}
_OPENAI_STATES = {"queued": "queued", "in_progress": "running", "completed": "completed", "failed": "failed"}


class VideoAPI(Protocol):
    """One provider's video endpoints."""

    def create(self, io: JobIO, prompt: str, seconds: int | None, size: str | None, image: Upload | None,
               params: Mapping[str, Any]) -> str: ...

    def poll(self, io: JobIO, video_id: str) -> PartStatus: ...

    def content(self, io: JobIO, video_id: str, status: PartStatus) -> tuple[bytes, str]: ...


def veo_shape(size: str) -> tuple[str, str]:
    """(aspectRatio, resolution) of a ``WIDTHxHEIGHT`` size; ValidationError for one Veo does not make."""
    shape = _VEO_SIZES.get(size)
    if shape is None:
        raise errors.ValidationError(f"size={size!r} is not a Veo size; use one of {', '.join(_VEO_SIZES)}",
                                     param="size", value=size)
    return shape


class OpenAIVideos:
    """The Videos API of the openai dialect."""

    def create(self, io: JobIO, prompt: str, seconds: int | None, size: str | None, image: Upload | None,
               params: Mapping[str, Any]) -> str:
        fields = [("prompt", prompt), ("model", io.model.wire_name)]
        if seconds is not None:
            fields.append(("seconds", str(seconds)))  # a string enum on the wire: "4", "8", "12"
        if size is not None:
            fields.append(("size", size))
        fields.extend((name, value if isinstance(value, str) else json.dumps(value)) for name, value in params.items())
        body = Multipart(fields, [("input_reference", image)] if image is not None else [])
        video = io.json("video.create", Request("POST", "/videos", upload=body), replay=False,
                        **_audited(prompt, image))
        if not isinstance(video, Mapping) or not isinstance(video.get("id"), str):
            raise _shape(io, "a created video without an id")
        return str(video["id"])

    def poll(self, io: JobIO, video_id: str) -> PartStatus:
        video = io.json("video.poll", Request("GET", f"/videos/{_quote(video_id)}"))
        if not isinstance(video, Mapping):
            raise _shape(io, "a video that is not an object")
        state = _OPENAI_STATES.get(str(video.get("status")), "running")
        error = video.get("error")
        message = f"{error.get('code') or 'error'}: {error.get('message') or 'no message'}" \
            if isinstance(error, Mapping) else None
        progress = video.get("progress")
        percent = float(progress) if isinstance(progress, (int, float)) and not isinstance(progress, bool) else None
        return PartStatus(state, video, 1 if state == "completed" else 0, 1 if state == "failed" else 0,
                          error=message, percent=100.0 if state == "completed" else percent)

    def content(self, io: JobIO, video_id: str, status: PartStatus) -> tuple[bytes, str]:
        data = io.content("video.download", f"/videos/{_quote(video_id)}/content", max_bytes=VIDEO_BYTES)
        return data, "video/mp4"


class GeminiVideos:
    """Veo, on the gemini dialect."""

    def create(self, io: JobIO, prompt: str, seconds: int | None, size: str | None, image: Upload | None,
               params: Mapping[str, Any]) -> str:
        instance: dict[str, Any] = {"prompt": prompt}
        if image is not None:
            instance["image"] = {"bytesBase64Encoded": base64.b64encode(image.read()).decode(),
                                 "mimeType": image.mime_type}
        parameters: dict[str, Any] = {}
        if seconds is not None:
            parameters["durationSeconds"] = seconds
        if size is not None:
            parameters["aspectRatio"], parameters["resolution"] = veo_shape(size)
        parameters.update(params)  # Veo's own: negativePrompt, personGeneration, sampleCount...
        body: dict[str, Any] = {"instances": [instance]}
        if parameters:
            body["parameters"] = parameters
        path = f"/{model_path(io.model)}:predictLongRunning"
        operation = io.json("video.create", Request("POST", path, json=body), replay=False,
                            **_audited(prompt, image))
        name = operation.get("name") if isinstance(operation, Mapping) else None
        if not isinstance(name, str) or not name:
            raise _shape(io, "a video operation without a name")
        return name

    def poll(self, io: JobIO, video_id: str) -> PartStatus:
        path = "/" + path_segments(video_id.strip("/"), what="video operation name", param="id", fix=ID_FIX)
        operation = io.json("video.poll", Request("GET", path))
        if not isinstance(operation, Mapping):
            raise _shape(io, "an operation that is not an object")
        progress = (operation.get("metadata") or {}).get("progressPercent")
        percent = float(progress) if isinstance(progress, (int, float)) and not isinstance(progress, bool) else None
        if not operation.get("done"):
            return PartStatus("running" if percent else "queued", operation, percent=percent)
        error = operation.get("error")
        if isinstance(error, Mapping):
            return PartStatus("failed", operation, failed=1,
                              error=f"{error.get('status') or error.get('code') or 'error'}: {error.get('message')}")
        result = (operation.get("response") or {}).get("generateVideoResponse") or {}
        if not _samples(result):
            reasons = result.get("raiMediaFilteredReasons") or ["no video came back"]
            return PartStatus("failed", operation, failed=1,
                              error=f"filtered by the provider's safety checks: {'; '.join(map(str, reasons))}")
        return PartStatus("completed", operation, succeeded=1, percent=100.0)

    def content(self, io: JobIO, video_id: str, status: PartStatus) -> tuple[bytes, str]:
        result = (status.raw.get("response") or {}).get("generateVideoResponse") or {}
        video = _samples(result)[0].get("video") or {}
        mime = str(video.get("mimeType") or "video/mp4")
        if video.get("encodedVideo"):
            try:
                return base64.b64decode(video["encodedVideo"], validate=True), mime
            except (binascii.Error, ValueError) as exc:
                raise _shape(io, "a video whose encodedVideo is not base64") from exc
        uri = video.get("uri")
        if not isinstance(uri, str) or not uri:
            raise _shape(io, "a finished video without its uri")
        return io.content("video.download", _download_path(uri), max_bytes=VIDEO_BYTES), mime


def _audited(prompt: str, image: Upload | None) -> dict[str, Any]:
    """What the audit record of a video's creation says: the prompt and the image's size, never its bytes."""
    size = image.size if image is not None else 0
    return {"content": {"prompt": prompt, "image_bytes": size}, "input_bytes": size}


def _download_path(uri: str) -> str:
    """Where to download a Veo video from: ``/files/{id}:download?alt=media`` under the provider's base URL, the
    id taken from the uri as python-genai's ``t_file_name`` takes it. The uri names the public API's host even
    when a gateway was used, so fetching it as named would skip the gateway (and its key); a uri of another shape
    is fetched as named, without the key unless it is on the provider's own host."""
    match = _FILE_ID.search(uri)
    return f"/files/{match.group(1)}:download?alt=media" if match else uri


_FILE_ID = re.compile(r"/files/([a-z0-9]+)")


def _samples(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    samples = result.get("generatedSamples") or result.get("generated_samples") or []
    return [s for s in samples if isinstance(s, Mapping) and isinstance(s.get("video"), Mapping)]


def _quote(video_id: str) -> str:
    return path_segment(video_id, what="video id", param="id", fix=ID_FIX)


def _shape(io: JobIO, what: str) -> errors.ProviderAPIError:
    return errors.ProviderAPIError(f"{io.provider.name} answered with {what}", provider=io.provider.name,
                                   model=io.model.id)
