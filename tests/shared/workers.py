"""Worker processes for the multi-process tests: real processes (spawned, as gunicorn's workers are separate
interpreters), each with its own Client, started together and reporting what they saw through a queue."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

SPAWN = multiprocessing.get_context("spawn")


def make_client(catalog: str, shared: dict[str, Any] | None, **options: Any) -> Any:
    import pepperpy

    if shared is not None:
        from pepperpy.shared import SharedState

        # a generous timeout: this 2-core machine runs other tests too, and a Redis operation that times out
        # sends its process to local state (the fault tests kill the server to show that)
        options["shared_state"] = SharedState(shared["url"], namespace=shared["namespace"], timeout=2.0,
                                              probe_interval=shared.get("probe_interval", 5.0))
    return pepperpy.Client(catalog=catalog, env_file=None, **options)


class Warnings(logging.Handler):
    """Counts the warnings of pepperpy.resilience in this process."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        logging.getLogger("pepperpy.resilience").addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run(workers: int, target: Callable[..., None], *args: Any, timeout: float = 60.0,
        during: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Start ``workers`` processes of ``target(ready, go, results, *args)``, let them all go at once when each
    has built its Client (then run ``during()`` here), and return their reports."""
    ready, results = SPAWN.Queue(), SPAWN.Queue()
    go = SPAWN.Event()
    procs = [SPAWN.Process(target=target, args=(ready, go, results, *args), daemon=True) for _ in range(workers)]
    for p in procs:
        p.start()
    try:
        for _ in procs:
            ready.get(timeout=timeout)
        go.set()
        if during is not None:
            during()
        reports = [results.get(timeout=timeout) for _ in procs]
    finally:
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
    return reports


def breaker_loop(ready: Any, go: Any, results: Any, catalog: str, shared: dict[str, Any] | None, fail_max: int,
                 reset: float, threads: int, seconds: float, stop_when_open: bool) -> None:
    """Each thread calls in a loop (one call at a time) a provider that always answers 500.

    Reports the times of the calls that were sent (not refused by the breaker), how many each thread sent before
    its first CircuitOpenError, and any error that is neither of the two typed ones."""
    import pepperpy

    client = make_client(catalog, shared, max_retries=0, breaker={"fail_max": fail_max, "reset_timeout": reset})
    client.check_credentials("local")  # the connection pool, before the start
    ready.put(1)
    go.wait()
    end = time.monotonic() + seconds
    lock = threading.Lock()
    report: dict[str, Any] = {"sent": [], "before_open": 0, "trials": [], "others": []}

    def loop() -> None:
        opened = False
        while time.monotonic() < end:
            started = time.time()
            try:
                client.complete("hi", model="local-chat")
                outcome = "ok"
            except pepperpy.ProviderUnavailableError:
                outcome = "sent"
            except pepperpy.CircuitOpenError:
                if stop_when_open:
                    return
                opened = True
                time.sleep(0.005)
                continue
            except Exception as exc:
                with lock:
                    report["others"].append(repr(exc))
                return
            with lock:
                report["sent"].append(started)
                if opened:
                    report["trials"].append(started)
                else:
                    report["before_open"] += 1
                if outcome == "ok":
                    report["others"].append("a call succeeded against an always-500 provider")

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    results.put(report)


def rate_loop(ready: Any, go: Any, results: Any, catalog: str, shared: dict[str, Any] | None, rpm: int,
              seconds: float) -> None:
    """Calls in a loop, one at a time, under ``rpm``, for ``seconds``."""
    client = make_client(catalog, shared, rate_limits={"local": {"rpm": rpm}})
    client.check_credentials("local")
    ready.put(1)
    go.wait()
    end = time.monotonic() + seconds
    calls, errors = 0, []
    while time.monotonic() < end:
        try:
            client.complete("hi", model="local-chat")
            calls += 1
        except Exception as exc:
            errors.append(repr(exc))
    results.put({"calls": calls, "errors": errors})


def cache_call(ready: Any, go: Any, results: Any, catalog: str, shared: dict[str, Any], prompt: str) -> None:
    client = make_client(catalog, shared, cache=True)
    ready.put(1)
    go.wait()
    r = client.complete(prompt, model="local-chat")
    results.put({"text": r.text, "cached": r.cached, "info": tuple(client.cache_info())})


def outage_loop(ready: Any, go: Any, results: Any, catalog: str, shared: dict[str, Any], seconds: float) -> None:
    """Calls in a loop while the test kills and restarts redis-server; counts failures and warnings."""
    warnings = Warnings()
    client = make_client(catalog, shared, rate_limits={"local": {"rpm": 600_000}},
                         breaker={"fail_max": 3, "reset_timeout": 30})
    client.check_credentials("local")
    ready.put(1)
    go.wait()
    end = time.monotonic() + seconds
    calls, errors, slowest = 0, [], 0.0
    while time.monotonic() < end:
        started = time.perf_counter()
        try:
            client.complete("hi", model="local-chat")
            calls += 1
        except Exception as exc:
            errors.append(repr(exc))
        slowest = max(slowest, time.perf_counter() - started)
        time.sleep(0.002)
    results.put({"calls": calls, "errors": errors, "warnings": warnings.messages, "slowest": slowest})
