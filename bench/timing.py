"""Timing helpers shared by the benchmark scripts; standard library only, so the peers' virtualenv can use them."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable


def per_call(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def interleaved(raw: Callable[[], object], ours: Callable[[], object], rounds: int, n: int) -> tuple[float, float]:
    """Median seconds per call of each, alternating which goes first."""
    raw(), ours()  # warm connections
    raw_times, our_times = [], []
    for i in range(rounds):
        if i % 2:
            our_times.append(per_call(ours, n))
            raw_times.append(per_call(raw, n))
        else:
            raw_times.append(per_call(raw, n))
            our_times.append(per_call(ours, n))
    return statistics.median(raw_times), statistics.median(our_times)


def subprocess_seconds(code: str, python: str = sys.executable) -> float:
    start = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, cwd="/")
    return time.perf_counter() - start
