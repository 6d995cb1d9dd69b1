"""Stream: the Chunks of one chat answer as they arrive, then its Completion; an iterator and a context
manager that reports its end (the completion, an error, or left early) once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from ..errors import StreamError
from ._answer import Chunk, Completion, ToolCall, Usage, created_at
from ._specs import ModelSpec

__all__ = ["Stream"]


class Stream(Iterator[Chunk]):
    """An iterator of Chunks and a context manager; ``.completion`` is the whole answer.

    Closing it early (``close()``, leaving the ``with`` block, or garbage collection) closes the HTTP
    response so the connection is not left half-read.

    >>> with client.stream("Tell a story", model="gpt-4o-mini") as s:   # doctest: +SKIP
    ...     for chunk in s:
    ...         print(chunk.text, end="")
    >>> s.completion.usage                                               # doctest: +SKIP
    """

    def __init__(self, chunks: Iterator[Chunk], *, model: str, provider: str,
                 close: Callable[[], None] | None = None, spec: ModelSpec | None = None,
                 on_end: Callable[[Completion | None, BaseException | None], Completion | None] | None = None,
                 interrupt: Callable[[], None] | None = None, request_id: str | None = None,
                 finish: Callable[[Completion], Completion] | None = None) -> None:
        self.model = model
        self.provider = provider
        self.request_id = request_id
        self._chunks = chunks
        self._close = close
        self._spec = spec  # the model answering (its cost is the pipeline's: ``on_end`` gives it back priced)
        self._on_end = on_end  # called once: (completion, None), (None, error) or (None, None) if left early
        self._interrupt = interrupt
        self._aborted = False
        self._parts: list[str] = []
        self._finish: str | None = None
        self._usage: Usage | None = None
        self._cost: float | None = None
        self._tool_calls: tuple[ToolCall, ...] = ()
        self._last: Any = None
        self._completion: Completion | None = None
        self._finish_with = finish  # completes the answer (``parsed``); what it raises, ``completion`` raises
        self._failure: Exception | None = None
        self._closed = False

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> Chunk:
        if self._closed:
            raise StopIteration
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self._complete()
            raise
        except StreamError as exc:
            self._end(None, exc)
            self.close()
            if self._aborted:
                raise StreamError("the stream was stopped by Stream.abort()", provider=self.provider,
                                  model=self.model) from exc
            raise
        except BaseException as exc:
            self._end(None, exc)
            self.close()
            raise
        if chunk.text:
            self._parts.append(chunk.text)
        if chunk.finish_reason is not None:
            self._finish = chunk.finish_reason
        if chunk.usage is not None:
            self._usage = chunk.usage
        if chunk.cost is not None:
            self._cost = chunk.cost
        if chunk.tool_calls:
            self._tool_calls = chunk.tool_calls
        self._last = chunk.raw
        return chunk

    def _complete(self) -> None:
        usage = self._usage or Usage()
        self._completion = Completion(  # cost: what the provider reported, if it did; else the ledger's, below
            text="".join(self._parts), model=self.model, provider=self.provider,
            finish_reason=self._finish, usage=usage, cost=self._cost, raw=self._last, tool_calls=self._tool_calls,
            request_id=self.request_id, created=created_at())
        if self._finish_with is not None:
            try:
                self._completion = self._finish_with(self._completion)
            except Exception as exc:  # e.g. StructuredOutputError: the text was streamed; completion raises it
                self._failure = exc
        self._end(self._completion, None)
        self.close()

    def _end(self, completion: Completion | None, error: BaseException | None) -> None:
        """Tell ``on_end`` once; a finished stream's completion comes back priced and booked."""
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            booked = on_end(completion, error)
            if booked is not None and completion is not None:
                self._completion = booked

    @property
    def text(self) -> str:
        """The text received so far."""
        return "".join(self._parts)

    @property
    def completion(self) -> Completion:
        """The whole answer; reads the rest of the stream first if needed."""
        if self._completion is None:
            if self._closed:
                raise StreamError("the stream was closed before it finished; no completion is available",
                                  provider=self.provider, model=self.model)
            for _ in self:
                pass
        if self._failure is not None:
            raise self._failure
        assert self._completion is not None
        return self._completion

    def close(self) -> None:
        """Stop reading and release the HTTP connection. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._end(None, None)  # left before the end (no-op once it ended)
        close_chunks = getattr(self._chunks, "close", None)
        if close_chunks is not None:
            close_chunks()
        if self._close is not None:
            self._close()

    def abort(self) -> None:
        """Stop a read under way in another thread (thread-safe, unlike ``close``): the connection is shut
        down, the reading thread sees the stream break, and the stream then closes itself."""
        if self._interrupt is not None and not self._closed:
            self._aborted = True
            self._interrupt()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing left to release
            pass

    def _ipython_display_(self) -> None:
        """Jupyter: a stream left as a cell's last expression prints as it arrives, then the usage line."""
        for chunk in self:
            print(chunk.text, end="", flush=True)
        if self._completion is not None:
            print(f"\n\n{self._completion._repr_markdown_().rsplit(chr(10), 1)[-1]}", flush=True)

    def __repr__(self) -> str:
        state = "done" if self._completion else ("closed" if self._closed else "open")
        return f"<Stream {self.provider}/{self.model} {state}>"
