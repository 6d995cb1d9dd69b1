"""Event streams from body bytes: lines, server-sent events and newline-delimited JSON, as the chunks arrive.

Pure functions over an iterable of ``bytes`` (no I/O, no requests): ``transport.iter_body`` feeds them a response's
bytes, tests feed them lists. Re-exported by ``pepperpy.transport``, where they have always been imported from.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

__all__ = ["iter_lines", "iter_ndjson", "iter_sse"]


def iter_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines without their terminator; CR, LF and CRLF all end a line (as the SSE spec says)."""
    pending = b""
    for chunk in chunks:
        if pending:
            chunk = pending + chunk
        lines = chunk.splitlines(True)
        last = lines[-1]
        if last.endswith(b"\n"):
            pending = b""
        else:  # incomplete, or ends with "\r" that may be half of "\r\n"
            pending = lines.pop()
        for line in lines:
            yield line.rstrip(b"\r\n")
    if pending:
        yield pending.rstrip(b"\r\n")


def iter_sse(chunks: Iterable[bytes]) -> Iterator[tuple[str, bytes]]:
    """Server-sent events as ``(event name, data)``; comments skipped, multi-line ``data:`` joined.

    CR, LF and CRLF all end a line, as the spec says. An event still open when the body ends is delivered
    too (some servers omit the last blank line). Lines are split here rather than by ``iter_lines`` to keep
    one generator hop per event on the hot path of long streams.

    A bare JSON object among the events (a line starting with ``{``, which no SSE field does) is delivered
    as a ``message`` event once its braces balance: Gemini sends a mid-stream error that way, possibly
    pretty-printed over several lines (python-genai reads it alike).
    """
    event = ""
    data: list[bytes] = []
    bare: list[bytes] = []  # the lines of a bare JSON object still open
    depth = 0  # its unclosed braces
    pending = b""
    for chunk in itertools.chain(chunks, (b"\n",)):  # a last newline ends a line the body left open
        if pending:
            chunk = pending + chunk
        lines = chunk.splitlines(True)
        if not lines:
            continue
        if lines[-1].endswith(b"\n"):
            pending = b""
        else:  # incomplete, or ends with "\r" that may be half of "\r\n"
            pending = lines.pop()
        for line in lines:
            if line[:6] == b"data: ":  # the common case first
                data.append(line[6:].rstrip(b"\r\n"))
                continue
            line = line.rstrip(b"\r\n")
            if bare:
                bare.append(line)
                depth += line.count(b"{") - line.count(b"}")
                if depth <= 0:
                    yield "message", b"\n".join(bare)
                    bare = []
                continue
            if not line:
                if data:
                    yield event or "message", data[0] if len(data) == 1 else b"\n".join(data)
                    data = []
                event = ""
                continue
            if line[0] == 58:  # ":" comment / keep-alive
                continue
            if line[0] == 123:  # "{": not a field but a bare JSON object (see above)
                if data:  # an event left open comes first
                    yield event or "message", b"\n".join(data)
                    data, event = [], ""
                depth = line.count(b"{") - line.count(b"}")
                if depth <= 0:
                    yield "message", line
                else:
                    bare = [line]
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                data.append(value)
            elif name == b"event":
                event = value.decode("utf-8", "replace")
    if bare:  # cut short: the dialect's decoder reports it
        yield "message", b"\n".join(bare)
    if data:
        yield event or "message", b"\n".join(data)


def iter_ndjson(chunks: Iterable[bytes]) -> Iterator[tuple[str, bytes]]:
    """Newline-delimited JSON lines, shaped like SSE events so dialects see one kind of input."""
    for line in iter_lines(chunks):
        if line.strip():
            yield "message", line
