"""The connection to the shared store, and what a call does when the store fails: it goes on without it.

Every operation is one Lua script (``scripts.py``) with a short socket timeout (``timeout``, 50 ms by default)
and no retry inside the Redis client. When one fails (Redis down, unreachable, slow, refusing writes), ``run``
returns ``UNAVAILABLE`` instead of raising, the caller uses its process-local state, and one warning is logged
on ``pepperpy.resilience``. For ``probe_interval`` seconds no call touches Redis at all; then one call (only
one, whatever the number of threads) tries again, and when Redis answers the shared state is back (logged at
INFO). A call never fails because of Redis.

``redis`` is imported when a ``SharedState`` is built, never at ``import pepperpy``. A forked child (gunicorn
``--preload``) opens its own connections: the Redis client built from a URL is rebuilt in a new process, and
one handed over as an instance relies on redis-py's own pool, which resets its connections after a fork.
The password of a URL is never shown: ``location`` (used in every message and ``repr``) has it as ``***``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

from .._redact import get_logger, redact, safe_url
from ..errors import ConfigurationError
from ._url_options import check_url_connection, check_url_values
from .scripts import Script

DEFAULT_NAMESPACE = "pepperpy"
DEFAULT_TIMEOUT = 0.05          # seconds for one Redis operation (connect included) before going on without it
DEFAULT_PROBE_INTERVAL = 5.0    # seconds between two tries of a Redis that failed
_SCHEMES = ("redis://", "rediss://", "unix://")
_NAMESPACE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
log = get_logger("pepperpy.resilience")


class _Unavailable:
    def __repr__(self) -> str:
        return "UNAVAILABLE"


UNAVAILABLE: Any = _Unavailable()
"""What ``SharedState.run`` returns when Redis did not answer: use the local state."""


def _import_redis() -> Any:
    try:
        import redis
    except ImportError:
        raise ConfigurationError('shared_state needs the redis client library: pip install "pepperpy[redis]"'
                                 ) from None
    return redis


class SharedState:
    """Where the breakers, rate limiters and response cache of every worker meet: Redis, under a namespace.

    ``target`` is a ``redis://`` / ``rediss://`` (TLS) / ``unix://`` URL, a password in it if needed, or a
    ``redis.Redis`` client you built (its own timeouts and retries then apply). ``clock`` is the time the
    scripts use; None (the default) is the Redis server's clock, which every worker shares.

    >>> SharedState("redis://:secret@localhost:6379/0", namespace="shop")      # doctest: +SKIP
    <SharedState redis://***@localhost:6379/0 namespace='shop'>
    """

    def __init__(self, target: Any, *, namespace: str = DEFAULT_NAMESPACE, timeout: float = DEFAULT_TIMEOUT,
                 probe_interval: float = DEFAULT_PROBE_INTERVAL, clock: Callable[[], float] | None = None) -> None:
        if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
            raise ConfigurationError(f"shared_namespace must be 1 to 64 letters, digits or _.:- (got {namespace!r})")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigurationError(f"the shared state timeout must be more than 0 seconds, not {timeout!r}")
        if probe_interval < 0:
            raise ConfigurationError("the shared state probe_interval must be 0 or more seconds")
        self.namespace = namespace
        self.timeout = float(timeout)
        self.probe_interval = float(probe_interval)
        self.clock = clock
        self._secrets: tuple[str, ...] = ()
        self._url: str | None = None
        self._given: Any = None
        if isinstance(target, str):
            url = target.strip()
            if not url.startswith(_SCHEMES):
                raise ConfigurationError(f"shared_state={safe_url(url)!r} is not a redis://, rediss:// or unix:// URL "
                                         f"(e.g. redis://localhost:6379/0)")
            self._url = url
            self.location = safe_url(url)
            try:
                password = urlsplit(url).password
            except ValueError as exc:  # "Invalid IPv6 URL", a port that is not a number
                raise ConfigurationError(f"shared_state={self.location!r} is not a usable Redis URL: {exc}") from None
            if password:  # as written and decoded; redact masks each one's encodings too
                self._secrets = tuple({password, unquote(password)})
        elif callable(getattr(target, "evalsha", None)):
            self._given = target
            self.location = _describe(target)
        else:
            raise ConfigurationError(f"shared_state takes a redis:// or rediss:// URL or a redis.Redis client, not "
                                     f"{type(target).__name__}")
        self._redis = _import_redis()
        if self._url is not None:  # a wrong option is a mistake to fix now, not a run-time fault to ride out
            check_url_values(self._url, self._redis, self.location)
        self._pid = os.getpid()
        self._client: Any = self._connect()
        if self._url is not None:
            check_url_connection(self._url, self._redis, self._client, self.location, self._secrets)
        self._lock = threading.Lock()
        self._down_until: float | None = None  # None: Redis is in use; else when to try it again

    def key(self, *parts: str) -> str:
        """A Redis key under the namespace: ``pepperpy:breaker:openai``."""
        return ":".join((self.namespace, *parts))

    @property
    def available(self) -> bool:
        """Whether calls use Redis now (False from a failure until a probe succeeds)."""
        return self._down_until is None

    def now_arg(self) -> str:
        """The time argument of a script: empty (Redis's clock), or this state's ``clock``."""
        return "" if self.clock is None else repr(self.clock())

    def run(self, script: Script, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """The script's reply, or ``UNAVAILABLE`` when Redis failed (never raises for Redis trouble)."""
        if self._down_until is not None and not self._may_probe():
            return UNAVAILABLE
        client = self._current()
        try:
            try:
                reply = client.evalsha(script.sha, len(keys), *keys, *args)
            except self._redis.exceptions.NoScriptError:
                reply = client.eval(script.source, len(keys), *keys, *args)
        except Exception as exc:  # down, slow, refusing writes, a user client raising its own: never the call's
            self._failed(exc)
            return UNAVAILABLE
        if self._down_until is not None:
            self._recovered()
        return reply

    def after_fork(self) -> None:
        """In a forked child: a fresh lock, and connections of its own."""
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._client = self._connect() if self._url is not None else self._given

    def close(self) -> None:
        """Close the connections this state opened (a client you handed over stays yours to close)."""
        if self._url is not None:
            self._client.close()

    # ------------------------------------------------------------------ internals

    def _connect(self) -> Any:
        if self._given is not None:
            return self._given
        redis = self._redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        assert self._url is not None
        try:
            return redis.Redis.from_url(self._url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout,
                                        retry=Retry(NoBackoff(), 0), health_check_interval=0)
        except (ValueError, TypeError, redis.RedisError) as exc:
            raise ConfigurationError(f"shared_state={self.location!r} is not a usable Redis URL: "
                                     f"{self._scrub(str(exc))}") from None

    def _scrub(self, text: str) -> str:
        text = redact(text, self._secrets)  # every encoding of the password
        for secret in self._secrets:  # and a short one as it is (redact leaves values under 4 characters)
            text = text.replace(secret, "***")
        return text

    def _current(self) -> Any:
        if self._pid != os.getpid():  # forked without the Client's hook (a SharedState used on its own)
            self.after_fork()
        return self._client

    def _may_probe(self) -> bool:
        with self._lock:
            if self._down_until is None:
                return True
            now = time.monotonic()
            if now < self._down_until:
                return False
            self._down_until = now + self.probe_interval  # this caller probes; the others stay local meanwhile
            return True

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            first = self._down_until is None
            self._down_until = time.monotonic() + self.probe_interval
        if first:
            reason = self._scrub(f"{type(exc).__name__}: {exc}")
            log.warning("shared state at %s failed (%s); each process uses its own breakers, rate limits and "
                        "cache until it answers again (next try in %g s)", self.location, reason,
                        self.probe_interval, extra={"shared_state": "local"})

    def _recovered(self) -> None:
        with self._lock:
            was_down, self._down_until = self._down_until is not None, None
        if was_down:
            log.info("shared state at %s answers again; breakers, rate limits and cache are shared again",
                     self.location, extra={"shared_state": "shared"})

    def __repr__(self) -> str:
        return f"<SharedState {self.location} namespace={self.namespace!r}>"


def as_text(value: object) -> str:
    """A script's string reply (bytes from a client without ``decode_responses``, str with it)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _describe(client: Any) -> str:
    """Where a redis.Redis client points, without its password."""
    try:
        kwargs = client.connection_pool.connection_kwargs
    except AttributeError:
        return f"<{type(client).__name__}>"
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
