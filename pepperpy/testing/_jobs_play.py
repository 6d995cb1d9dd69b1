"""Which provider plays a job request: the dispatch of ``_play`` for routes whose endpoint is ``job``."""

from __future__ import annotations

from pepperpy.testing._jobs import JobContext, JobReply
from pepperpy.testing._jobs_anthropic import play_anthropic_batch
from pepperpy.testing._jobs_gemini import play_gemini_batch
from pepperpy.testing._jobs_openai import play_openai_batch
from pepperpy.testing._jobs_videos import play_video

__all__ = ["play_job"]


def play_job(dialect: str, ctx: JobContext) -> JobReply:
    if ctx.action.startswith("video.") or ctx.action == "storage":
        return play_video(dialect, ctx)
    if dialect == "anthropic":
        return play_anthropic_batch(ctx)
    if dialect == "gemini":
        return play_gemini_batch(ctx)
    if dialect == "openai":
        return play_openai_batch(ctx)
    return JobReply(404, {"error": {"message": f"no job endpoints for {dialect}", "type": "not_found_error"}})
