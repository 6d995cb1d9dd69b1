"""The response cache in Redis, shared by every worker: JSON values, digest keys, TTL and size kept by Redis.

A shared Redis is a trust boundary: whoever can write to it can write an entry. So an answer is stored as JSON
(never pickle, which would run code while loading), and read back through a strict decoder that rebuilds the
Completion or Embeddings from plain values it checked one by one; anything else (a value that is not JSON, a
wrong shape, a wrong type) is a miss, and the entry is deleted. Keys are ``<namespace>:cache:<digest>``, the
digest of the request and of the credentials' scope (``ResponseCache.key``, ``credential_scope``): no prompt
text, no key, ever appears in a Redis key, and two apps with different keys on one namespace never share an
answer, while the workers of one app (same key, same base URL) do.

Bounds: each entry expires after ``ttl`` (Redis ``PX``), and a sorted set indexes entries by last use, so a
store beyond ``maxsize`` drops the least recently used (the whole namespace shares one ``maxsize``). Redis's own
``maxmemory`` policy may evict entries earlier; the index then counts them until they are trimmed. Hits and
misses are counted in Redis too, so ``info()`` reports the shared cache, every worker included.

While Redis does not answer, the process-local ``ResponseCache`` takes over.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..resilience.cache import CacheConfig, CacheInfo, ResponseCache
from ..types import Completion, Embeddings, ToolCall, Usage
from ..types._answer import created_at
from .scripts import CACHE_CLEAR, CACHE_DROP, CACHE_GET, CACHE_INFO, CACHE_PUT
from .store import UNAVAILABLE, SharedState

FORMAT = 1  # the version of the stored JSON; another version is a miss


class SharedCache:
    """``ResponseCache``'s interface (``key``, ``get``, ``put``, ``clear``, ``info``) over Redis."""

    key = staticmethod(ResponseCache.key)

    def __init__(self, state: SharedState, config: CacheConfig | None = None,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self.shared = state
        self.config = config or CacheConfig()
        self.local = ResponseCache(self.config, timer)
        self._prefix = state.key("cache", "")
        self._index = state.key("cache-index")
        self._stats = state.key("cache-stats")

    def get(self, key: str) -> Any:
        """A Completion / Embeddings with ``cached=True``, or None on a miss (a malformed entry is a miss)."""
        entry = self._prefix + key
        reply = self.shared.run(CACHE_GET, (entry, self._index, self._stats), (self.shared.now_arg(), key))
        if reply is UNAVAILABLE:
            return self.local.get(key)
        if reply is None:
            return None
        value = decode(reply)
        if value is None:
            self.shared.run(CACHE_DROP, (entry, self._index, self._stats), (key,))
        return value

    def hit(self, key: str) -> tuple[Any, float | None] | None:
        """``(answer, what it cost when it was answered)`` for a hit, the answer costing nothing; None on a miss."""
        value = self.get(key)
        if value is None:
            return None
        saved = value.cost
        return (value if saved is None else replace(value, cost=0.0)), saved

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` as JSON; an answer that JSON cannot hold is not cached."""
        text = encode(value)
        if text is None:
            return
        reply = self.shared.run(CACHE_PUT, (self._prefix + key, self._index),
                                (self.shared.now_arg(), key, text, self.config.ttl, self.config.maxsize, self._prefix))
        if reply is UNAVAILABLE:
            self.local.put(key, value)

    def clear(self) -> None:
        """Drop every entry of the namespace (and the local fallback's)."""
        self.local.clear()
        self.shared.run(CACHE_CLEAR, (self._index, self._stats), (self._prefix,))

    def info(self) -> CacheInfo:
        """Hits and misses of every worker, and the shared size; the local cache's while Redis is down."""
        reply = self.shared.run(CACHE_INFO, (self._index, self._stats), (self.shared.now_arg(), self.config.ttl))
        if reply is UNAVAILABLE:
            return self.local.info()
        size, hits, misses = (int(v) for v in reply)
        return CacheInfo(hits, misses, size, self.config.maxsize)

    def __repr__(self) -> str:
        return (f"<SharedCache maxsize={self.config.maxsize} ttl={self.config.ttl:g} in {self.shared.location} "
                f"namespace={self.shared.namespace!r}>")


# --------------------------------------------------------------------------- the stored JSON

def encode(value: Any) -> str | None:
    """The JSON of a Completion or Embeddings, or None when it holds something JSON cannot."""
    if isinstance(value, Completion):
        data: dict[str, Any] = {
            "format": FORMAT, "type": "completion", "text": value.text, "model": value.model,
            "provider": value.provider, "finish_reason": value.finish_reason, "usage": _usage(value.usage),
            "cost": value.cost, "raw": value.raw, "request_id": value.request_id,
            "created": value.created.timestamp() if value.created is not None else None,
            "tool_calls": [[c.id, c.name, dict(c.arguments)] for c in value.tool_calls]}
    elif isinstance(value, Embeddings):
        data = {"format": FORMAT, "type": "embeddings", "vectors": value.vectors, "model": value.model,
                "provider": value.provider, "usage": _usage(value.usage), "cost": value.cost, "raw": value.raw}
    else:
        return None
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None


def decode(blob: bytes | str) -> Completion | Embeddings | None:
    """The answer a stored JSON describes, ``cached=True``; None for anything malformed (never raises)."""
    try:
        data = json.loads(blob)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        usage = Usage(*_ints(data["usage"], 5))
        model, provider = _str(data["model"]), _str(data["provider"])
        cost = _number_or_none(data["cost"])
        if data["type"] == "completion":
            calls = tuple(ToolCall(_str(c[0]), _str(c[1]), _dict(c[2])) for c in _list(data["tool_calls"]) if
                          len(_list(c)) == 3)
            if len(calls) != len(data["tool_calls"]):
                return None
            created = data.get("created")  # absent from entries written before pepperpy kept it
            return Completion(_str(data["text"]), model, provider, _str_or_none(data["finish_reason"]), usage, cost,
                              data["raw"], True, calls, _str_or_none(data["request_id"]),
                              created=created_at(_number(created)) if created is not None else None)
        if data["type"] == "embeddings":
            vectors = [[_number(x) for x in _list(row)] for row in _list(data["vectors"])]
            return Embeddings(vectors, model, provider, usage, cost, data["raw"], True)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return None
    return None


def _usage(usage: Usage) -> list[int]:
    return [usage.input_tokens, usage.output_tokens, usage.total_tokens, usage.cached_tokens, usage.reasoning_tokens]


def _ints(value: Any, n: int) -> list[int]:
    items = _list(value)
    if len(items) != n or not all(type(v) is int for v in items):
        raise TypeError("not a list of integers")
    return items


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return value


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError("not an object")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _str_or_none(value: Any) -> str | None:
    return None if value is None else _str(value)


def _number(value: Any) -> float:
    if type(value) not in (int, float):
        raise TypeError("not a number")
    return float(value)


def _number_or_none(value: Any) -> float | None:
    return None if value is None else _number(value)
