"""A chat stream's start: its request sent and its events read up to the first chunk with content, while the
attempt may still be retried or handed to a fallback.

Until a chunk with content (text, a tool call, a finish reason) has reached the caller, nothing has been handed
over, so a stream that breaks then (the connection drops before any byte of the body, the stream ends without
content or terminator, its first event is corrupt) is a failed request like any other: ``start`` raises it
marked retryable, and the pipeline retries it within ``max_retries`` and then falls back, as for an answer that
never came. Events without content (an OpenAI role-only delta, Anthropic's ``message_start`` and ``ping``) are
read here and handed over in order before the first chunk with content; they do not count. Once that chunk is
out, a break is the caller's ``StreamError``, as before.

A broken attempt may already be billed: Anthropic states the input tokens in ``message_start``. The parser's
``reported_usage`` is then booked (``booked``), so ``client.usage()`` and the budget count it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple

from ..errors import ProviderError, StreamError
from ..http import _cancel
from ..types import Chunk, Usage

if TYPE_CHECKING:
    import requests

    from ..dialects.base import StreamParser

__all__ = ["Started", "has_content", "is_unstarted", "start"]


class Started(NamedTuple):
    """An open stream whose first chunk with content was read: ``head`` holds it (after any chunk without
    content that came first), ``rest`` the events after it."""

    response: requests.Response
    head: tuple[Chunk, ...]
    rest: Iterator[Chunk]

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self.response.headers

    def chunks(self) -> Iterator[Chunk]:
        """Every chunk, ``head`` first (closing it closes ``rest``, which closes the response)."""
        yield from self.head
        yield from self.rest


def has_content(chunk: Chunk) -> bool:
    """Whether handing ``chunk`` over commits the call: text, a tool call or a finish reason."""
    return bool(chunk.text or chunk.tool_calls) or chunk.finish_reason is not None


def is_unstarted(exc: BaseException) -> bool:
    """A stream that broke before its first chunk with content (``start`` marked it retryable): a failed request
    like any other, for the retry policy and the fallbacks."""
    return isinstance(exc, StreamError) and exc.retryable


def start(response: requests.Response, chunks: Iterator[Chunk], parser: StreamParser,
          booked: Callable[[Usage], None]) -> Started:
    """Read ``chunks`` (the parsed events of ``response``, read by ``parser``) up to the first one with content.
    A StreamError before it is raised retryable; ``booked`` gets the usage the provider reported for the broken
    attempt, if it did."""
    head: list[Chunk] = []
    try:
        for chunk in chunks:
            head.append(chunk)
            if has_content(chunk):
                break
    except ProviderError as exc:  # the events iterator closed the response on its way out
        scope = _cancel.current()
        if scope is not None and scope.cancelled:  # the caller left (a cancelled astream): no retry
            raise _cancel.Cancelled from exc
        usage = getattr(parser, "reported_usage", None)
        if usage is not None:
            booked(usage)
        if isinstance(exc, StreamError):
            exc.retryable = True
            exc.message = f"{exc.message} (before its first chunk: nothing had reached the caller)"
            exc.args = (exc.message, *exc.args[1:])
        raise
    return Started(response, tuple(head), chunks)
