"""State shared by every worker of an app through Redis: circuit breakers, rate limits, the response cache.

Off by default. ``Client(shared_state="redis://host:6379/0")`` (or ``PEPPERPY_SHARED_STATE``) turns it on; the
``redis`` client library (``pip install "pepperpy[redis]"``) is imported then, never at ``import pepperpy``.

- ``store.py``: the connection, the timeouts, and the fallback to process-local state while Redis fails.
- ``scripts.py``: the Lua scripts; every read-modify-write runs inside Redis, atomically.
- ``breaker.py``, ``limiter.py``, ``cache.py``: the shared twins of ``ProviderBreaker``, ``RateLimiter`` and
  ``ResponseCache``, each with the local one inside for when Redis does not answer.
- ``counter.py``: an atomic "add unless past a limit", for budgets.
"""

from .store import DEFAULT_NAMESPACE, DEFAULT_PROBE_INTERVAL, DEFAULT_TIMEOUT, UNAVAILABLE, SharedState

__all__ = ["DEFAULT_NAMESPACE", "DEFAULT_PROBE_INTERVAL", "DEFAULT_TIMEOUT", "UNAVAILABLE", "SharedState"]
