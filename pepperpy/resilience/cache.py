"""The response cache: a cachetools LRU with a time-to-live, behind one lock.

Opt-in (``Client(cache=True)`` or ``Client(cache=CacheConfig(maxsize=..., ttl=...))``), for non-stream
``complete`` and ``embed``, and for ``generate_image`` and ``synthesize``; never for uploads (a transcription
or an image edit: the key would not see the file). The key is a digest of the canonical JSON of (the
credentials' scope, provider, wire model, method, path, request body), so two calls share an entry only when
the same account at the same address would receive the same request.

The scope (``credential_scope``) is a fingerprint of the provider's base URL and credentials: an HMAC of the
base URL whose secret is derived from the credentials themselves (the static headers, which carry the API key,
the OAuth client id and token URL, never the rotating token, and a password in the base URL). Every process
holding the same key computes the same fingerprint, so the workers of one app share their answers through
Redis; two apps with different keys never do, even in one namespace; and nothing in it can be turned back into
the key. A server without credentials is scoped by its base URL alone.

A hit returns a copy of the stored answer with ``cached=True`` and touches neither the network nor the breaker.
cachetools is imported when the first cache is built, never at ``import pepperpy``.

Entries are never shared with callers: a caller may scale ``Embeddings.vectors`` in place or edit
``Completion.raw`` without changing what the next hit returns. The frozen part of an answer (text, usage,
model, ...) is stored once and shared, since nothing can change it; its mutable fields (``raw``,
``vectors``, ``tool_calls`` with their ``arguments``) are pickled once when stored, which snapshots them,
and unpickled on every hit, which is a deep copy made in C: ~2 µs for a chat completion's ``raw``, 5x
faster than ``copy.deepcopy``, and it keeps the types (tuples stay tuples) and the sharing inside one answer
(OpenAI's ``vectors`` are the lists in ``raw``) that a JSON round trip would lose. The pickles are made
and read in this process only, never from outside data. An answer that cannot be pickled is not cached.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..errors import ConfigurationError
from ..http.transport import Request
from ..types._value import Value

__all__ = ["DEFAULT_CACHE_MAXSIZE", "DEFAULT_CACHE_TTL", "CacheConfig", "CacheInfo", "ResponseCache",
           "make_cache"]

DEFAULT_CACHE_MAXSIZE = 1024   # entries; the least recently used goes first
DEFAULT_CACHE_TTL = 600.0      # seconds an answer stays fresh
# fields of a Completion / Embeddings / Images / Transcription a caller could change
_MUTABLE_FIELDS = ("raw", "vectors", "tool_calls", "images")


class CacheConfig(Value):
    """How big the cache grows and how long an answer stays in it."""

    maxsize: int = DEFAULT_CACHE_MAXSIZE
    ttl: float = DEFAULT_CACHE_TTL

    def __post_init__(self) -> None:
        if self.maxsize < 1 or self.ttl <= 0:
            raise ConfigurationError("cache maxsize must be 1 or more and ttl more than 0 seconds")


class CacheInfo(NamedTuple):
    """``client.cache_info()``: hits and misses since the Client was built, current and maximum size."""

    hits: int
    misses: int
    size: int
    maxsize: int


# One encoder for every key (json.dumps would build one per call: a tenth of a cache hit's time).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class _Entry(NamedTuple):
    """A stored answer: its class, its field values (the mutable ones None) and the pickle of those."""

    cls: Callable[..., Any]      # makes the answer from ``args`` (``builder`` of its class)
    args: tuple[Any, ...]        # every field in order, ``cached`` True, ``cost`` as billed when it was answered
    mutable: tuple[int, ...]     # positions in ``args`` of the fields kept in ``blob``
    blob: bytes
    cost_at: int                 # the position of ``cost`` in ``args``

    @classmethod
    def of(cls, value: Any) -> _Entry:
        from ..types._evolve import builder, field_names

        names = field_names(value)  # Completion, Embeddings, Images, Transcription: every field is in __init__
        args = [getattr(value, name) for name in names]
        args[names.index("cached")] = True
        mutable = tuple(i for i, name in enumerate(names) if name in _MUTABLE_FIELDS and args[i] not in (None, ()))
        blob = pickle.dumps(tuple(args[i] for i in mutable), pickle.HIGHEST_PROTOCOL)
        for i in mutable:
            args[i] = None  # the cache keeps the snapshot only, not the caller's objects
        return cls(builder(type(value)), tuple(args), mutable, blob, names.index("cost"))

    def thaw(self, *, free: bool = False) -> Any:
        """A copy of the stored answer that shares nothing mutable with the cache or earlier hits; ``free``: as a
        hit hands it out, costing nothing (``cost`` 0.0, or None for a model without a price)."""
        if not self.mutable and not free:
            return self.cls(*self.args)  # only frozen values: nothing to copy
        args = list(self.args)
        if self.mutable:
            for i, value in zip(self.mutable, pickle.loads(self.blob), strict=True):
                args[i] = value
        if free and args[self.cost_at] is not None:
            args[self.cost_at] = 0.0
        return self.cls(*args)


class ResponseCache:
    """Thread-safe LRU + TTL map from request keys to Completions / Embeddings; see the module docstring."""

    def __init__(self, config: CacheConfig | None = None, timer: Callable[[], float] = time.monotonic) -> None:
        from cachetools import TTLCache

        self.config = config or CacheConfig()
        self._data: TTLCache[str, Any] = TTLCache(self.config.maxsize, self.config.ttl, timer=timer)
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    @staticmethod
    def key(provider: str, model: str, request: Request, scope: str = "") -> str:
        """A digest of the canonical JSON of what the provider would receive, and from whom (``scope``: the
        ``credential_scope`` of the provider's base URL and credentials)."""
        text = _CANONICAL.encode([scope, provider, model, request.method, request.path, request.json,
                                  request.params])
        return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()

    def get(self, key: str) -> Any:
        """A private copy of the stored answer, with ``cached=True``; None on a miss."""
        entry = self._find(key)
        return entry.thaw() if entry is not None else None  # outside the lock: the entry never changes

    def hit(self, key: str) -> tuple[Any, float | None] | None:
        """``(answer, what it cost when it was answered)`` for a hit, the answer a private copy with ``cached=True``
        and no cost (a hit bills nothing); None on a miss."""
        entry = self._find(key)
        return (entry.thaw(free=True), entry.args[entry.cost_at]) if entry is not None else None

    def _find(self, key: str) -> _Entry | None:
        """The stored entry, counted as a hit or a miss."""
        with self._lock:
            try:  # TTLCache's own lookup: .get() would add a membership test and a timer context (~15 % of a hit)
                entry: _Entry = self._data[key]
            except KeyError:  # absent or expired
                self._misses += 1
                return None
            self._hits += 1
        return entry

    def put(self, key: str, value: Any) -> None:
        """Store a snapshot of ``value`` (a Completion or Embeddings); later changes to it are not seen."""
        try:
            entry = _Entry.of(value)
        except Exception:  # any object's __reduce__ may raise anything
            return  # an answer holding something unpicklable cannot be copied safely: it is not cached
        with self._lock:
            self._data[key] = entry

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def info(self) -> CacheInfo:
        with self._lock:
            self._data.expire()
            return CacheInfo(self._hits, self._misses, len(self._data), self.config.maxsize)

    def __repr__(self) -> str:
        return f"<ResponseCache maxsize={self.config.maxsize} ttl={self.config.ttl:g}>"


def make_cache(option: Any, timer: Callable[[], float] = time.monotonic) -> ResponseCache | None:
    """The cache for ``Client(cache=...)``: False/None none, True the defaults, a CacheConfig or a mapping."""
    if option is None or option is False:
        return None
    if option is True:
        return ResponseCache(CacheConfig(), timer)
    if isinstance(option, CacheConfig):
        return ResponseCache(option, timer)
    if isinstance(option, Mapping):
        unknown = set(option) - {"maxsize", "ttl"}
        if unknown:
            raise ConfigurationError(f"unknown cache setting {sorted(unknown)[0]!r} (use maxsize, ttl)")
        return ResponseCache(CacheConfig(**option), timer)
    raise ConfigurationError(f"cache= takes True, False, a CacheConfig or {{'maxsize': ..., 'ttl': ...}}, "
                             f"not {type(option).__name__}")
