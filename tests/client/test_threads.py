"""One Client shared by many threads: no errors, no crossed answers, bounded connections, no leaks."""

from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer, Reply
from tests.conftest import wait_until

THREADS = 32
CALLS = 40


def test_32_threads_x_40_calls_share_one_client(local_catalog: Path, server: FakeProviderServer) -> None:
    """Must-show 2: zero errors, every thread gets its own answers, at most 64 distinct connections."""
    client = pepperpy.Client(catalog=local_catalog, env_file=None, pool_maxsize=THREADS)
    errors: list[BaseException] = []
    crossed: list[tuple[str, str]] = []
    start = threading.Barrier(THREADS)

    def worker(t: int) -> None:
        start.wait()  # all threads hit the cold Client at once: runtimes and pools are built under a lock
        for i in range(CALLS):
            prompt = f"t{t}-c{i}"
            try:
                text = client.complete(prompt, model="local-chat").text
            except BaseException as exc:  # counted, then reported by the assertion
                errors.append(exc)
                continue
            if text != f"echo: {prompt}":
                crossed.append((prompt, text))

    started = time.perf_counter()
    with client:
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    elapsed = time.perf_counter() - started
    requests = server.requests
    ports = {r.client_port for r in requests}
    print(f"\n{THREADS} threads x {CALLS} calls: {elapsed:.2f} s, {len(ports)} distinct client ports, "
          f"{server.connections} connections accepted")
    assert errors == []
    assert crossed == []
    assert len(requests) == THREADS * CALLS
    assert server.connections <= 2 * THREADS and len(ports) <= 2 * THREADS
    assert server.errors == []


def test_threads_stream_concurrently_without_mixing(client: pepperpy.Client, server: FakeProviderServer) -> None:
    def one(t: int) -> str:
        with client.stream(f"thread {t} says hello", model="local-chat") as stream:
            return "".join(chunk.text for chunk in stream)

    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(one, range(24)))
    assert texts == [f"echo: thread {t} says hello" for t in range(24)]


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/fd")
def test_open_file_descriptors_stay_flat(client: pepperpy.Client, server: FakeProviderServer) -> None:
    """Must-show 3: 300 completions and 300 streams closed after their first chunk leak no socket."""

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    def rounds(n: int) -> None:
        for i in range(n):
            client.complete(f"c{i}", model="local-chat")
            server.reply(Reply(chunks=[f"w{k} " for k in range(50)]))
            with client.stream(f"s{i}", model="local-chat") as stream:
                next(stream)

    rounds(10)  # warm up the pool
    before = fds()
    rounds(150)
    middle = fds()
    rounds(150)
    assert wait_until(lambda: fds() <= before + 5), (before, middle, fds())
