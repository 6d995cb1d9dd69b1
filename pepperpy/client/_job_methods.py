"""The long-running jobs of a :class:`pepperpy.Client`: provider batches (``batch``, ``batch_job``) and video
generation (``generate_video``, ``video_job``). The work itself is in ``pepperpy.jobs``, imported on first use;
this half hands it the Client's catalog, pipeline, runtimes, chat checks and retry policy (``_jobs``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..catalog._registry import Catalog
    from ..http._upload import UploadSource
    from ..jobs import BatchJob, Services, VideoJob
    from ..pipeline._blocking import Pipeline
    from ..pipeline._runtimes import Runtimes
    from ..resilience.retry import RetryPolicy
    from ..types import ModelSpec, ProviderSpec

__all__ = ["JobsClientMixin"]


class JobsClientMixin:
    """Batches and video jobs for :class:`pepperpy.Client` (see the module docstring)."""

    if TYPE_CHECKING:
        catalog: Catalog
        retry_policy: RetryPolicy
        _pipeline: Pipeline
        _runtimes: Runtimes

        def _prepare(self, model: str, prompt: str | None, messages: Sequence[Mapping[str, Any]] | None,
                     system: str | None, params: dict[str, Any], *, preflight: bool = True
                     ) -> tuple[ProviderSpec, ModelSpec, list[dict[str, Any]], dict[str, Any]]: ...

    # ------------------------------------------------------------------ long-running jobs

    def batch(self, items: Iterable[Any], *, model: str, **params: Any) -> BatchJob:
        """Submit many chat requests to the provider's batch API (about half price, results within hours).

        Each item is a prompt, a message list, or a dict of ``complete`` arguments (its own ``max_tokens``,
        ``system``...); ``params`` apply to every item. Items are checked against the catalog before anything
        is uploaded: one that fails is kept as its error in ``results()`` and the others go. See docs/jobs.md.

        >>> job = client.batch(["2+2?", "3+3?"], model="claude-haiku-4-5", max_tokens=20)   # doctest: +SKIP
        >>> job.id                                        # keep it: client.batch_job(id) resumes the job
        >>> [str(r) for r in job.wait() and job.results()]                                # doctest: +SKIP
        """
        from ..jobs import submit_batch

        return submit_batch(self._jobs(), items, model=model, params=params)

    def batch_job(self, id: str, *, response_format: Any = None) -> BatchJob:
        """The batch job with this id (``job.id``), from this process or another, today or later.

        ``response_format``: the one the batch was submitted with, for ``results()`` to parse the answers into
        it again (a Python type cannot travel in the id).

        >>> client.batch_job("batch:anthropic:eyJ2Ijox...").wait()   # doctest: +SKIP
        """
        from ..jobs import BatchJob, JobRef
        from ..tools.structured import ResponseFormat

        fmt = ResponseFormat.of(response_format) if response_format is not None else None
        return BatchJob(self._jobs(), JobRef.decode(id, "batch"), response_format=fmt)

    def generate_video(self, prompt: str, *, model: str, seconds: int | None = None, size: str | None = None,
                       image: UploadSource | None = None, **params: Any) -> VideoJob:
        """Start generating a video; returns at once with a ``VideoJob`` (``wait()``, then ``result()``).

        ``seconds`` and ``size`` (``"1280x720"``...) are checked against the model's catalog entry; ``image`` (a
        path, bytes or a binary file) is the first frame to start from; ``params`` go to the provider as given
        (Veo's ``negativePrompt``, ``personGeneration``...). See docs/jobs.md.

        >>> job = client.generate_video("A red kite over the sea", model="veo-3.1-fast-generate-preview",
        ...                             seconds=8, size="1280x720")                           # doctest: +SKIP
        >>> job.wait(); job.result().save("kite.mp4")                                        # doctest: +SKIP
        """
        from ..jobs import submit_video

        return submit_video(self._jobs(), prompt, model=model, seconds=seconds, size=size, image=image,
                            params=params)

    def video_job(self, id: str) -> VideoJob:
        """The video job with this id (``job.id``), from this process or another.

        >>> client.video_job("video:gemini:eyJ2Ijox...").result().save("clip.mp4")   # doctest: +SKIP
        """
        from ..jobs import JobRef, VideoJob

        return VideoJob(self._jobs(), JobRef.decode(id, "video"))

    def _jobs(self) -> Services:
        from ..jobs import Services

        return Services(self.catalog, self._pipeline, self._runtimes.get, self._prepare, self.retry_policy)
