"""Where a stream's time goes, per event, without the network: the same 2,000 OpenAI events parsed by raw
line splitting + ``json.loads`` and by each layer of pepperpy's stream path.

    python bench/stream_profile.py
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterator

import pepperpy
from pepperpy.dialects.base import decode_json
from pepperpy.dialects.openai import DIALECT
from pepperpy.http.transport import iter_sse
from pepperpy.types import Chunk, Stream

EVENT = (b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",'
         b'"choices":[{"index":0,"delta":{"content":"w "},"finish_reason":null}]}\n\n')
FRAMES = [EVENT] * 2000 + [
    b'data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n', b"data: [DONE]\n\n"]
SPEC = pepperpy.Client(env_file=None).model("gpt-4o-mini")


def raw_lines() -> None:
    """What requests' iter_lines + json.loads do with the same bytes."""
    pending = b""
    for chunk in FRAMES:
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                json.loads(line[6:])


def sse_only() -> None:
    for _ in iter_sse(iter(FRAMES)):
        pass


def sse_and_json() -> None:
    for _, data in iter_sse(iter(FRAMES)):
        if data != b"[DONE]":
            decode_json(data)


def sse_and_dialect() -> None:
    feed = DIALECT.stream_parser(SPEC).feed
    for event, data in iter_sse(iter(FRAMES)):
        feed(event, data)


def whole_stream() -> None:
    parser = DIALECT.stream_parser(SPEC)

    def chunks() -> Iterator[Chunk]:
        for event, data in iter_sse(iter(FRAMES)):
            chunk = parser.feed(event, data)
            if chunk is not None:
                yield chunk

    for _ in Stream(chunks(), model=SPEC.id, provider=SPEC.provider, spec=SPEC):
        pass


def per_event(fn: Callable[[], None]) -> float:
    times = []
    for _ in range(30):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) / len(FRAMES) * 1e6


if __name__ == "__main__":
    for fn in (raw_lines, sse_only, sse_and_json, sse_and_dialect, whole_stream):
        print(f"{fn.__name__:16} {per_event(fn):5.2f} µs/event")
