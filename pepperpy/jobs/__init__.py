"""Long-running provider jobs: batches of chat requests at batch price, and video generation.

A job is submitted, then runs at the provider for minutes to hours; its ``id`` is one string that finds it again
in any process (``client.batch_job(id)``). Every request a job makes (submit, poll, download, cancel) goes
through the Client's pipeline: the provider's breaker, rate limiter, retries and timeouts, as for chat.

- ``batch``: ``BatchJob`` (``client.batch`` / ``client.batch_job``) over ``_anthropic``, ``_gemini`` and
  ``_openai``'s batch endpoints; ``_submit``: checking, splitting and submitting a batch's items.
- ``video``: ``VideoJob`` and ``Video`` (``client.generate_video`` / ``client.video_job``) over ``_videos``
  (OpenAI's Videos API, Gemini's Veo).
- ``_ref``: the job id; ``_wait``: ``JobStatus`` and the polling loop; ``_io``: requests through the pipeline.
"""

from ._io import Services
from ._ref import JobRef
from ._submit import submit_batch
from ._wait import JobStatus
from .batch import BatchJob
from .video import Video, VideoJob, submit_video

__all__ = ["BatchJob", "JobRef", "JobStatus", "Services", "Video", "VideoJob", "submit_batch", "submit_video"]
