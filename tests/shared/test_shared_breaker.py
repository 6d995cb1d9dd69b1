"""The shared breaker: ProviderBreaker's semantics across workers (here: several breakers on one namespace)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

import pepperpy
from pepperpy.resilience.breaker import BreakerConfig
from pepperpy.shared import SharedState
from pepperpy.shared.breaker import SharedBreaker, Ticket
from tests.shared.redis_server import TIMEOUT, RedisServer

SERVER_DOWN = pepperpy.ProviderUnavailableError("500", provider="p", status_code=500)
BAD_REQUEST = pepperpy.InvalidRequestError("400", provider="p", status_code=400)


class Clock:
    """The time the scripts use (the Redis clock unless a state is given one)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def workers(url: str, namespace: str, n: int = 2, clock: Clock | None = None, **config: Any) -> list[SharedBreaker]:
    """``n`` breakers of one provider, each on its own SharedState (its own connections), as n workers have."""
    cfg = BreakerConfig(**{"fail_max": 3, "reset_timeout": 30.0, **config})
    return [SharedBreaker(SharedState(url, namespace=namespace, clock=clock, timeout=TIMEOUT), "p", cfg)
            for _ in range(n)]


def fail(breaker: SharedBreaker, exc: BaseException = SERVER_DOWN) -> None:
    breaker.record_failure(exc, breaker.admit("m"))


def test_failures_of_all_workers_open_it_for_all(redis_server: RedisServer, namespace: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    a, b = workers(redis_server.url, namespace, clock=clock)
    fail(a)
    fail(b)
    assert a.state == b.state == "closed" and a.fail_counter == 2
    fail(a)
    assert a.state == b.state == "open"
    with pytest.raises(pepperpy.CircuitOpenError) as info:
        b.admit("m")
    assert info.value.retry_after == pytest.approx(30.0) and info.value.provider == "p"
    assert "shared by every worker" in str(info.value)
    clock.now += 10
    with pytest.raises(pepperpy.CircuitOpenError) as info:
        a.admit("m")
    assert info.value.retry_after == pytest.approx(20.0)
    assert [r.breaker_state for r in caplog.records if hasattr(r, "breaker_state")] == ["open"]


def test_a_success_resets_the_count(redis_server: RedisServer, namespace: str) -> None:
    a, b = workers(redis_server.url, namespace)
    fail(a)
    fail(b)
    b.record_success(b.admit("m"))  # admitted with failures counted: it resets them
    fail(a)
    fail(a)
    assert a.state == "closed" and a.fail_counter == 2


def test_client_errors_do_not_count(redis_server: RedisServer, namespace: str) -> None:
    (a,) = workers(redis_server.url, namespace, n=1)
    for _ in range(5):
        fail(a, BAD_REQUEST)
    assert a.state == "closed" and a.fail_counter == 0


def test_exactly_one_trial_across_workers_and_threads(redis_server: RedisServer, namespace: str) -> None:
    clock = Clock()
    breakers = workers(redis_server.url, namespace, n=4, clock=clock)
    for _ in range(3):
        fail(breakers[0])
    clock.now += 31
    assert breakers[3].state == "half-open"
    tickets: list[Ticket] = []
    rejected: list[pepperpy.CircuitOpenError] = []
    barrier = threading.Barrier(16)

    def call(breaker: SharedBreaker) -> None:
        barrier.wait()
        try:
            tickets.append(breaker.admit("m"))
        except pepperpy.CircuitOpenError as exc:
            rejected.append(exc)

    threads = [threading.Thread(target=call, args=(breakers[i % 4],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tickets) == 1 and tickets[0].trial > 0 and len(rejected) == 15
    assert all(e.retry_after == pytest.approx(1.0) and "trial call is in flight" in str(e) for e in rejected)
    breakers[1].record_success(tickets[0])
    assert breakers[2].state == "closed"
    assert not breakers[2].admit("m").trial


def test_a_failed_trial_opens_it_again_for_reset_timeout(redis_server: RedisServer, namespace: str) -> None:
    clock = Clock()
    a, b = workers(redis_server.url, namespace, clock=clock)
    for _ in range(3):
        fail(a)
    clock.now += 31
    trial = b.admit("m")
    b.record_failure(SERVER_DOWN, trial)
    assert a.state == "open"
    with pytest.raises(pepperpy.CircuitOpenError) as info:
        a.admit("m")
    assert info.value.retry_after == pytest.approx(30.0)


def test_a_trial_without_verdict_lets_the_next_call_try(redis_server: RedisServer, namespace: str) -> None:
    clock = Clock()
    a, b = workers(redis_server.url, namespace, clock=clock)
    for _ in range(3):
        fail(a)
    clock.now += 31
    a.record_failure(BAD_REQUEST, a.admit("m"))  # a 4xx says nothing of the provider: the trial slot is free
    trial = b.admit("m")
    assert trial.trial > 0
    b.release(trial)
    assert a.admit("m").trial > 0


def test_a_lost_trial_expires_after_reset_timeout(redis_server: RedisServer, namespace: str) -> None:
    clock = Clock()
    a, b = workers(redis_server.url, namespace, clock=clock)
    for _ in range(3):
        fail(a)
    clock.now += 31
    lost = a.admit("m")  # its worker is killed: no outcome ever comes
    with pytest.raises(pepperpy.CircuitOpenError):
        b.admit("m")
    clock.now += 30.5
    second = b.admit("m")
    assert second.trial > lost.trial
    a.record_success(lost)  # the lost trial reports after all: stale, ignored
    assert b.state == "half-open"
    b.record_success(second)
    assert a.state == "closed"


def test_late_outcomes_of_earlier_calls_are_ignored(redis_server: RedisServer, namespace: str) -> None:
    clock = Clock()
    a, b = workers(redis_server.url, namespace, clock=clock)
    slow = [a.admit("m") for _ in range(3)]  # admitted while closed, answer after the circuit opened
    for _ in range(3):
        fail(b)
    for ticket in slow:
        a.record_failure(SERVER_DOWN, ticket)  # while open: dropped
    clock.now += 31
    b.record_success(b.admit("m"))
    assert a.state == "closed"
    for ticket in slow:  # after it closed again: still stale (an older generation)
        a.record_failure(SERVER_DOWN, ticket)
    assert a.fail_counter == 0


def test_real_time_reset_timeout(redis_server: RedisServer, namespace: str) -> None:
    a, b = workers(redis_server.url, namespace, reset_timeout=0.2)
    for _ in range(3):
        fail(a)
    with pytest.raises(pepperpy.CircuitOpenError):
        b.admit("m")
    time.sleep(0.25)
    assert b.state == "half-open"
    b.record_success(b.admit("m"))
    assert a.state == "closed"


def test_a_success_on_a_clean_count_sends_nothing(redis_server: RedisServer, redis_client: Any,
                                                  namespace: str) -> None:
    (a,) = workers(redis_server.url, namespace, n=1)
    ticket = a.admit("m")
    before = redis_client.info("stats")["total_commands_processed"]
    a.record_success(ticket)
    after = redis_client.info("stats")["total_commands_processed"]
    assert after - before == 1  # the INFO command itself


def test_redis_down_falls_back_to_the_local_breaker(own_redis: RedisServer, namespace: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    (a,) = workers(own_redis.url, namespace, n=1)
    fail(a)
    own_redis.kill()
    for _ in range(3):
        fail(a)  # counted by the local breaker from zero
    assert a.state == "open" and a.local.state == "open"
    with pytest.raises(pepperpy.CircuitOpenError) as info:
        a.admit("m")
    assert "shared by every worker" not in str(info.value)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "shared state" in r.getMessage()]
    assert len(warnings) == 1


def test_an_outcome_goes_back_to_the_breaker_that_admitted_the_call(own_redis: RedisServer,
                                                                    namespace: str) -> None:
    (a,) = workers(own_redis.url, namespace, n=1, fail_max=1)
    ticket = a.admit("m")
    assert ticket.shared
    own_redis.kill()
    a.record_failure(SERVER_DOWN, ticket)  # admitted by Redis, which is gone: dropped, not counted locally
    assert a.local.state == "closed"
