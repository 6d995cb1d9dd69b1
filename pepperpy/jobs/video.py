"""Video generation as a job: ``client.generate_video`` submits, ``VideoJob`` polls and downloads.

>>> job = client.generate_video("A calico cat playing a piano", model="veo-3.1-generate-preview",
...                             seconds=8, size="1280x720")                               # doctest: +SKIP
>>> job.wait(progress=True)                                                              # doctest: +SKIP
>>> job.result().save("cat.mp4")                                                         # doctest: +SKIP

Like a batch, the job's ``id`` resumes it in any process (``client.video_job(id)``), and every request goes
through the Client's pipeline. The video comes back as bytes (``Video.data``), downloaded with the provider's
timeouts, bounded in size, the key sent only to the provider's own host. The budget holds seconds × price before
the job is submitted; the ledger books the video when ``result()`` first downloads it (once per job id).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from .. import errors
from ..http._upload import Upload, UploadSource
from ..media import Video
from ..observe.pricing import video_worst
from ._io import Job, JobIO, PartStatus, Services
from ._ref import JobRef, Part
from ._submit import job_extra
from ._videos import GeminiVideos, OpenAIVideos, VideoAPI, veo_shape
from ._wait import JobStatus, Progress, wait_until_finished

__all__ = ["IMAGE_BYTES", "Video", "VideoJob", "submit_video"]  # Video: pepperpy.media's

FIRST_POLL = 1.0   # seconds before the second status check of wait(); doubled each time...
MAX_POLL = 10.0    # ...up to this (a video takes a minute or a few)
IMAGE_BYTES = 20_000_000  # a starting image goes inline (Veo) or in a form: bounded
_RESERVED = {"prompt": "give the prompt as the first argument", "model": "use model=",
             "stream": "videos are not streamed", "image": "use image=", "n": "one video per job"}
_APIS: dict[str, VideoAPI] = {"openai": OpenAIVideos(), "gemini": GeminiVideos()}


class VideoJob(Job):
    """One video being generated at the provider.

    ``id`` resumes it anywhere (``client.video_job(id)``); ``status()`` polls once (``percent`` when the
    provider reports progress); ``wait()`` polls until it has finished; ``result()`` downloads the ``Video``;
    ``cancel()`` raises JobError: neither OpenAI's nor Gemini's video API has a way to stop one.
    """

    def __init__(self, services: Services, ref: JobRef) -> None:
        super().__init__(services, ref)
        self._api = video_api(self._provider.dialect, self._provider.name)
        self._last: PartStatus | None = None
        self._video: Video | None = None

    @property
    def provider_id(self) -> str:
        """The provider's own id (an OpenAI video id, a Gemini operation name)."""
        return self._ref.parts[0].id

    def status(self) -> JobStatus:
        """Poll the provider once."""
        return _summary(self._poll())

    def wait(self, poll: float | None = None, timeout: float | None = None, progress: Progress = None) -> JobStatus:
        """Block until the video is done (or failed); its final status. ``poll``: seconds between checks
        (default: 1 s, doubling up to 10 s); ``timeout``: seconds before JobTimeoutError (the job goes on);
        ``progress``: a tqdm bar of the provider's percentage, or a callable given each JobStatus."""
        policy = self._services.policy
        return wait_until_finished(self, poll=poll, timeout=timeout, progress=progress, clock=policy.clock,
                                   sleep=policy.sleep, first=FIRST_POLL, cap=MAX_POLL,
                                   resume=f"client.video_job({self.id!r})", unit="%", label=self.model)

    def result(self) -> Video:
        """The finished video, downloaded once (then kept). JobError when it failed (the provider's reason)
        or is not finished yet (``wait()`` first)."""
        if self._video is not None:
            return self._video
        status = self._poll()
        if status.state != "completed":
            if status.state == "failed":
                self._ledger().end_job(self.id, self._model, self._hold())  # nothing to bill: the hold back
                failure = errors.JobError(f"{self.provider} could not make the video: {status.error or 'no reason'}",
                                          job_id=self.id, state="failed", provider=self.provider, model=self._model.id)
                raise self._io().runtime.transport.scrub(failure)
            raise errors.JobError(f"the video is still {_summary(status)}; call job.wait() before job.result()",
                                  job_id=self.id, state=status.state, provider=self.provider, model=self._model.id)
        io = self._io()
        data, mime = self._api.content(io, self.provider_id, status)
        seconds = self._ref.extra.get("s") or _reported_seconds(status.raw)
        size = self._ref.extra.get("z")
        made = Video(data, mime, self._model.id, self.provider, seconds, size, None, self.id, status.raw)
        self._video = self._ledger().book_job(self.id, "video", self.provider, self._model, [made],
                                              job=self._hold())[0]
        return self._video

    def cancel(self) -> JobStatus:
        """Always JobError: OpenAI's and Gemini's video APIs have no way to stop a generation (it finishes on
        its own; nothing is downloaded until ``result()``)."""
        raise errors.JobError(f"{self.provider}'s video API cannot cancel a generation under way; it finishes on "
                              f"its own, and nothing is downloaded unless you call job.result()", job_id=self.id,
                              state=self._last.state if self._last else None, provider=self.provider,
                              model=self._model.id)

    def __repr__(self) -> str:
        return f"<VideoJob {self.model} {self.provider_id}>"

    def _poll(self) -> PartStatus:
        if self._last is not None and self._last.finished:
            return self._last
        self._last = self._api.poll(self._io(), self.provider_id)
        return self._last


def _summary(status: PartStatus) -> JobStatus:
    return JobStatus(status.state, status.succeeded, status.failed, 1, status.percent)


def _reported_seconds(raw: Any) -> float | None:
    value = raw.get("seconds") if isinstance(raw, dict) else None  # OpenAI says it, as a string
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def video_api(dialect: str, provider: str) -> VideoAPI:
    api = _APIS.get(dialect)
    if api is None:
        raise errors.ValidationError(f"{provider} ({dialect} dialect) has no video API pepperpy knows; videos go to "
                                     f"providers of the {', '.join(sorted(_APIS))} dialects", param="model",
                                     value=provider)
    return api


def submit_video(services: Services, prompt: str, *, model: str, seconds: int | None, size: str | None,
                 image: UploadSource | None, params: dict[str, Any]) -> VideoJob:
    """Check everything against the catalog, then ask the provider to start the video."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise errors.ValidationError("generate_video() needs a prompt: a non-empty string describing the video",
                                     param="prompt", value=type(prompt).__name__)
    for key, why in _RESERVED.items():
        if key in params:
            raise errors.ValidationError(f"generate_video() does not take {key}=: {why}", param=key)
    provider, spec = services.catalog.resolve(model)
    api = video_api(provider.dialect, provider.name)
    if spec.mode != "video" and not spec.open:
        able = [m.name for m in services.catalog.models(mode="video")][:3]
        raise errors.ValidationError(f"{spec.name} is a {spec.mode} model; generate_video() needs a video model"
                                     + (f" such as {', '.join(able)}" if able else ""), param="model", value=model)
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
            raise errors.ValidationError(f"seconds takes a whole number of seconds, not {seconds!r}", param="seconds",
                                         value=seconds)
        if spec.seconds and seconds not in spec.seconds:
            raise errors.ValidationError(f"seconds={seconds} is not a duration {spec.name} makes; use one of "
                                         f"{', '.join(map(str, spec.seconds))}", param="seconds", value=seconds)
    if size is not None:
        if not isinstance(size, str):
            raise errors.ValidationError(f"size takes 'WIDTHxHEIGHT', e.g. '1280x720', not {size!r}", param="size",
                                         value=size)
        if spec.sizes and size not in spec.sizes:
            raise errors.ValidationError(f"size={size!r} is not a size {spec.name} makes; use one of "
                                         f"{', '.join(spec.sizes)}", param="size", value=size)
        if provider.dialect == "gemini":
            veo_shape(size)
    upload = Upload.of(image, param="image", max_bytes=IMAGE_BYTES, limit_name=provider.name) \
        if image is not None else None
    io = JobIO(services, provider, spec)  # missing credentials fail here, before any request
    ledger = services.pipeline.observer.ledger
    hold, held = ledger.reserve_job("video", spec, partial(video_worst, seconds=seconds, size=size))
    try:
        video_id = api.create(io, prompt, seconds, size, upload, params)
    except BaseException:
        ledger.settle(hold, None)  # not created: nothing to bill
        raise
    extra = {key: value for key, value in (("s", seconds), ("z", size)) if value is not None}
    job = VideoJob(services, JobRef("video", provider.name, spec.name, (Part(video_id),), 1,
                                    extra={**extra, **job_extra(held)}))
    ledger.remember_job(job.id, hold)
    return job
