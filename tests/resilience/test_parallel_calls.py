"""Must-show 3: the breaker never serialises threads (real time, real loopback server)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import pepperpy
from pepperpy.resilience.breaker import BreakerConfig, ProviderBreaker
from pepperpy.resilience.limiter import RateLimiter
from pepperpy.testing import FakeProviderServer

THREADS = 16
DELAY = 0.25


def test_16_threads_through_one_breaker_run_in_parallel(local_catalog: Path, server: FakeProviderServer,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    server.default_delay = DELAY
    with pepperpy.Client(catalog=local_catalog, env_file=None) as client:  # breaker on, the default
        start = threading.Barrier(THREADS + 1)
        texts: list[str] = []
        errors: list[BaseException] = []

        def call(i: int) -> None:
            start.wait()
            try:
                texts.append(client.complete(f"q{i}", model="local-chat").text)
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        start.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
        assert not errors
        assert sorted(texts) == sorted(f"echo: q{i}" for i in range(THREADS))
        assert client.breaker_state("local") == "closed"
    with capsys.disabled():
        print(f"\n{THREADS} threads x {DELAY} s answers through one breaker: {elapsed:.3f} s "
              f"(serialised: {THREADS * DELAY} s)")
    assert elapsed < 1.5


def test_pybreaker_call_would_serialise_the_same_work() -> None:
    """Why ProviderBreaker exists: pybreaker's call() holds its lock for the whole guarded call."""
    import pybreaker

    naive = pybreaker.CircuitBreaker()
    ours = ProviderBreaker("p", BreakerConfig())

    def guarded_naive() -> None:
        naive.call(time.sleep, 0.05)

    def guarded_ours() -> None:
        trial = ours.admit()
        time.sleep(0.05)
        ours.record_success(trial)

    timings = {}
    for name, work in (("naive", guarded_naive), ("ours", guarded_ours)):
        threads = [threading.Thread(target=work) for _ in range(4)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        timings[name] = time.perf_counter() - began
    assert timings["naive"] >= 0.19  # 4 x 0.05 s, one after another
    assert timings["ours"] < 0.15


def test_limiter_reservations_are_thread_safe_and_evenly_spaced() -> None:
    """20 threads at one frozen instant: each reserves the next slot, 0.1 s apart, none shared."""
    waits: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            waits.append(round(seconds, 6))

    limiter = RateLimiter("p", rpm=600, tpm=None, max_wait=60, clock=lambda: 100.0, sleep=sleep)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # capacity 10 (one second's worth of rpm=600) go at once; the other 10 are spaced 0.1 s apart
    assert sorted(waits) == [round(0.1 * k, 6) for k in range(1, 11)]
