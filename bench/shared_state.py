"""What ``Client(shared_state=...)`` costs per call: a redis-server on loopback, Redis round trips counted.

Part of ``bench/run.py``. When redis-server (or the redis library) is missing, the rows say so and are
skipped: CI runs ``make bench-smoke`` before ``make test`` installs redis-server.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any

Row = tuple[str, str, str, str]
GOAL_ROUND_TRIPS = 1.0  # Redis round trips per successful call (issue 14)


def redis_binary() -> str | None:
    for candidate in (shutil.which("redis-server"), "/usr/bin/redis-server", "/usr/sbin/redis-server"):
        if candidate and os.access(candidate, os.X_OK):  # a path that is not there is no binary
            return candidate
    return None


def start_redis(binary: str, workdir: str) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return proc, port
        except OSError:
            time.sleep(0.01)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def rows(make_client: Callable[..., Any], model: str, raw: Callable[[], object], plain_s: float,
         interleaved: Callable[..., tuple[float, float]], per_call: Callable[[Callable[[], object], int], float],
         rounds: int, n: int) -> list[Row]:
    """The shared-state rows; ``plain_s`` is a call's time without shared state, ``raw`` the raw requests call."""
    binary = redis_binary()
    try:
        import redis
    except ImportError:
        redis = None
    if binary is None or redis is None:
        missing = "redis-server" if binary is None else 'the redis library (pip install "pepperpy[redis]")'
        print(f"bench: shared_state rows skipped: {missing} is not installed (make test installs it)")
        return [("call with shared_state", f"skipped: {missing} not installed", "", "")]

    class Counting(redis.Redis):  # type: ignore[misc,valid-type]
        sent = 0

        def execute_command(self, *args: Any, **options: Any) -> Any:
            Counting.sent += 1
            return super().execute_command(*args, **options)

    with tempfile.TemporaryDirectory() as workdir:
        proc, port = start_redis(binary, workdir)
        try:
            url = f"redis://127.0.0.1:{port}/0"
            counting = Counting.from_url(url, socket_timeout=0.5)
            # the breaker (on by default) and a rate limit high enough never to wait: both in Redis
            shared = make_client(shared_state=counting, rate_limits={"openai": {"rpm": 10**9}})
            shared.complete("hi", model=model)
            raw_s, our_s = interleaved(raw, lambda: shared.complete("hi", model=model), rounds, n)
            before, calls = Counting.sent, 200
            for _ in range(calls):
                shared.complete("hi", model=model)
            trips = (Counting.sent - before) / calls
            cached = make_client(shared_state=url, cache=True)
            cached.complete("hi", model=model)
            hits = [per_call(lambda: cached.complete("hi", model=model), 200) for _ in range(5)]
        finally:
            proc.kill()
            proc.wait(5)
    return [
        ("call with shared_state (Redis on loopback)",
         f"{our_s * 1e6:.0f} µs vs {raw_s * 1e6:.0f} µs; +{(our_s - plain_s) * 1e6:.0f} µs over a call without it; "
         f"{trips:.2f} Redis round trips per call", f"{our_s / raw_s:.3f}×",
         f"≤ {GOAL_ROUND_TRIPS:.0f} round trip per call"),
        ("shared cache hit (Redis on loopback)", f"{statistics.median(hits) * 1e6:.0f} µs, 1 round trip", "",
         "report"),
    ]
