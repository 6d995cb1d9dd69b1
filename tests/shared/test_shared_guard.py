"""The guard: a call's breaker check and rate-limit slot in one round trip, each refusal taking nothing."""

from __future__ import annotations

from typing import Any

import pytest

import pepperpy
from pepperpy.resilience.breaker import BreakerConfig
from pepperpy.shared import SharedState
from pepperpy.shared.breaker import SharedBreaker
from pepperpy.shared.guard import SharedGuard
from pepperpy.shared.limiter import SharedRateLimiter
from tests.shared.redis_server import TIMEOUT, RedisServer
from tests.shared.test_shared_limiter import Time

SERVER_DOWN = pepperpy.ProviderUnavailableError("500", provider="p", status_code=500)


def counting_client(url: str) -> Any:
    """A redis.Redis that counts the commands it sends (each one a round trip)."""
    import redis

    class Counting(redis.Redis):
        sent = 0

        def execute_command(self, *args: Any, **options: Any) -> Any:
            self.sent += 1
            return super().execute_command(*args, **options)

    return Counting.from_url(url)


def guard(url: str | Any, namespace: str, t: Time | None = None, breaker: bool = True, **limits: Any) -> SharedGuard:
    state = SharedState(url, namespace=namespace, clock=t, timeout=TIMEOUT)
    timing: dict[str, Any] = {"clock": t, "sleep": t.sleep} if t is not None else {}
    b = SharedBreaker(state, "p", BreakerConfig(fail_max=2, reset_timeout=30)) if breaker else None
    lim = SharedRateLimiter(state, "p", limits.get("rpm"), limits.get("tpm"), max_wait=limits.get("max_wait", 10),
                            **timing) if limits else None
    return SharedGuard(state, "p", b, lim)


@pytest.mark.parametrize("config", [{}, {"rpm": 6000}, {"rpm": 6000, "tpm": 10**6}, {"breaker": False, "rpm": 6000}])
def test_a_successful_call_costs_one_round_trip(redis_server: RedisServer, namespace: str,
                                                config: dict[str, Any]) -> None:
    client = counting_client(redis_server.url)
    g = guard(client, namespace, **config)
    g.succeeded(g.enter(100, "m", None))  # the first call also loads the script (NOSCRIPT, then EVAL)
    before = client.sent
    for _ in range(10):
        ticket = g.enter(100, "m", None)
        g.settle(100, 120)  # a settlement travels with the next enter
        g.succeeded(ticket)
    assert client.sent - before == 10


def test_an_open_circuit_takes_no_rate_limit_slot(redis_server: RedisServer, namespace: str) -> None:
    t = Time()
    g = guard(redis_server.url, namespace, t, rpm=60)
    for _ in range(2):
        g.failed(SERVER_DOWN, g.enter(0, "m", None))
    assert t.sleeps == [1.0]
    for _ in range(5):
        with pytest.raises(pepperpy.CircuitOpenError):
            g.enter(0, "m", None)
    assert t.sleeps == [1.0]  # none of the refused calls reserved a slot
    t.now += 30
    trial = g.enter(0, "m", None)
    assert trial is not None and trial.trial and t.sleeps == [1.0]


def test_a_refused_slot_takes_no_trial(redis_server: RedisServer, namespace: str) -> None:
    t = Time()
    g = guard(redis_server.url, namespace, t, rpm=6, max_wait=15)
    for _ in range(2):
        g.failed(SERVER_DOWN, g.enter(0, "m", None))  # the 2nd waited 10 s for its slot
    t.now += 30
    other = guard(redis_server.url, namespace, t, breaker=False, rpm=6, max_wait=15)
    other.enter(0, "m", None)  # another worker takes the slot that was free
    with pytest.raises(pepperpy.RateLimitError, match="total_timeout"):
        g.enter(0, "m", t.now + 1)  # the next slot is 10 s away, past this call's deadline
    t.now += 10
    trial = g.enter(0, "m", None)  # the refused call did not take the trial
    assert trial is not None and trial.trial > 0


def test_redis_down_uses_the_local_breaker_and_limiter(own_redis: RedisServer, namespace: str) -> None:
    t = Time()
    g = guard(own_redis.url, namespace, t, rpm=60)
    g.succeeded(g.enter(0, "m", None))
    own_redis.kill()
    tickets = [g.enter(0, "m", None) for _ in range(2)]
    assert [tk.shared for tk in tickets if tk is not None] == [False, False] and t.sleeps == [1.0]
    for tk in tickets:
        g.failed(SERVER_DOWN, tk)
    with pytest.raises(pepperpy.CircuitOpenError):
        g.enter(0, "m", None)


def test_a_trial_interrupted_while_waiting_for_its_slot_is_released(redis_server: RedisServer,
                                                                    namespace: str) -> None:
    # The trial is admitted in the same script that reserves its slot; a caller interrupted while it sleeps
    # until that slot (Ctrl-C, a cancelled task) must not leave every worker refused until the lease runs out.
    t = Time()
    g = guard(redis_server.url, namespace, t, rpm=6, max_wait=15)
    for _ in range(2):
        g.failed(SERVER_DOWN, g.enter(0, "m", None))
    t.now += 30
    guard(redis_server.url, namespace, t, breaker=False, rpm=6, max_wait=15).enter(0, "m", None)  # the free slot

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    assert g.limiter is not None
    g.limiter._sleep = interrupted
    with pytest.raises(KeyboardInterrupt):
        g.enter(0, "m", None)  # admitted as the trial, then interrupted before its slot was due
    g.limiter._sleep = t.sleep
    t.now += 10
    trial = g.enter(0, "m", None)
    assert trial is not None and trial.trial > 0  # not "busy" for the rest of the 30 s lease


@pytest.mark.parametrize("field", ["state", "failures", "opened", "gen", "trial", "lease"])
def test_garbage_in_the_breaker_never_breaks_a_call(redis_server: RedisServer, namespace: str, redis_client: Any,
                                                    field: str) -> None:
    # A shared Redis is a trust boundary (another app, another version, a hand edit): a value that is not what
    # the scripts wrote reads as its default, and the breaker keeps working from there.
    t = Time()
    g = guard(redis_server.url, namespace, t, rpm=6000, max_wait=15)
    g.succeeded(g.enter(0, "m", None))
    redis_client.hset(f"{namespace}:breaker:p", field, "garbage")
    redis_client.hset(f"{namespace}:limit:p", mapping={"req": "x", "tok": "nan", "stamp": "inf"})
    for _ in range(2):  # fail_max=2: counted from a clean start
        ticket = g.enter(0, "m", None)
        assert ticket is not None and ticket.shared
        g.failed(SERVER_DOWN, ticket)
    assert g.breaker is not None and g.breaker.state == "open"
    with pytest.raises(pepperpy.CircuitOpenError):
        g.enter(0, "m", None)
    t.now += 30
    trial = g.enter(0, "m", None)
    assert trial is not None and trial.trial > 0 and trial.shared
    g.succeeded(trial)
    assert g.breaker.state == "closed"
