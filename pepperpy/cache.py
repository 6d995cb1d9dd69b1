"""The response cache: a cachetools LRU with a time-to-live, behind one lock.

Opt-in (``Client(cache=True)`` or ``Client(cache=CacheConfig(maxsize=..., ttl=...))``), for non-stream
``complete`` and ``embed``. The key is a digest of the canonical JSON of (provider, wire model, method,
path, request body), so two calls share an entry only when the provider would receive the same request.
A hit returns the stored value with ``cached=True`` and touches neither the network nor the breaker.
cachetools is imported when the first cache is built, never at ``import pepperpy``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .errors import ConfigurationError
from .transport import Request

DEFAULT_CACHE_MAXSIZE = 1024   # entries; the least recently used goes first
DEFAULT_CACHE_TTL = 600.0      # seconds an answer stays fresh


@dataclass(frozen=True)
class CacheConfig:
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


class ResponseCache:
    """Thread-safe LRU + TTL map from request keys to Completions / Embeddings."""

    def __init__(self, config: CacheConfig | None = None, timer: Callable[[], float] = time.monotonic) -> None:
        from cachetools import TTLCache

        self.config = config or CacheConfig()
        self._data: TTLCache[str, Any] = TTLCache(self.config.maxsize, self.config.ttl, timer=timer)
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    @staticmethod
    def key(provider: str, model: str, request: Request) -> str:
        """A digest of the canonical JSON of what the provider would receive."""
        text = json.dumps([provider, model, request.method, request.path, request.json, request.params],
                          sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()

    def get(self, key: str) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self._misses += 1
            else:
                self._hits += 1
            return value

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value

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
