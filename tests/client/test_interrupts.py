"""Issue 11 item 9: Ctrl-C during ``client.map`` (and ``pepperpy map``) aborts the requests in flight, closing
their connections, and the process exits at once instead of waiting for answers it would be billed for; the
same for cancelling the task that awaits ``acomplete`` / ``astream``.

The provider here is a loopback server that reads each request and never answers, and records when the client
closes each connection: what a provider generating a long answer sees."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import pepperpy

READ_TIMEOUT = 30.0  # what the calls would otherwise wait for before giving up (then retry)


class SilentProvider:
    """Accepts connections, reads each request, answers 400 to a prompt containing FAIL and nothing to the
    others; ``closed[i]`` is when the client closed connection ``i`` (None while open)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.lock = threading.Lock()
        self.requests: list[bytes] = []
        self.closed: list[float | None] = []
        self.hung_closed: list[float | None] = []  # when the connections of unanswered requests were closed
        self.fail_after = 0  # unanswered requests to wait for before answering a FAIL prompt
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                index = len(self.closed)
                self.closed.append(None)
                self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn, index), daemon=True).start()

    def _serve(self, conn: socket.socket, index: int) -> None:
        data, hung = b"", False
        try:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        raise ConnectionResetError
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), b"0"))
                while len(rest) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        raise ConnectionResetError
                    rest += chunk
                body, data = rest[:length], rest[length:]
                with self.lock:
                    self.requests.append(body)
                if b"FAIL" in body:
                    deadline = time.monotonic() + 5
                    while self.unanswered() < self.fail_after and time.monotonic() < deadline:
                        time.sleep(0.01)  # answer the failure once the others are waiting for theirs
                    answer = json.dumps({"error": {"message": "bad request", "type": "invalid_request_error"}})
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(answer)).encode() + b"\r\n\r\n" + answer.encode())
                    continue
                hung = True
                while conn.recv(65536):  # never answer; wait for the client to go
                    pass
                raise ConnectionResetError
        except OSError:
            with self.lock:
                self.closed[index] = time.monotonic()
                if hung:
                    self.hung_closed.append(self.closed[index])

    def unanswered(self) -> int:
        with self.lock:
            return sum(1 for body in self.requests if b"FAIL" not in body)

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if sum(1 for body in self.requests if b"FAIL" not in body) >= n:
                    return
            assert time.monotonic() < deadline, f"only {len(self.requests)} of {n} requests arrived"
            time.sleep(0.01)

    def wait_closed(self, timeout: float) -> list[float | None]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(c is not None for c in self.closed):
                    break
            time.sleep(0.01)
        with self.lock:
            return list(self.closed)

    def close(self) -> None:
        self.sock.close()
        with self.lock:
            for conn in self._connections:
                conn.close()


@pytest.fixture
def provider() -> Iterator[SilentProvider]:
    silent = SilentProvider()
    yield silent
    silent.close()


def client_on(provider: SilentProvider, **options: Any) -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-0000000000"}, timeout=READ_TIMEOUT,
                           providers={"openai": {"base_url": provider.url}}, **options)


MAP_SCRIPT = """
import pepperpy, sys
client = pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-0000000000"}, timeout=30.0,
                         providers={"openai": {"base_url": sys.argv[1]}})
client.map(["one", "two", "three", "four"], model="gpt-4o-mini", max_workers=4)
"""


def interrupt_when_all_arrived(process: subprocess.Popen[str], provider: SilentProvider, n: int) -> float:
    provider.wait_for_requests(n)
    time.sleep(0.2)  # every request waiting for its answer
    start = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail("the process was still running 10 s after Ctrl-C (it waited for the answers in flight)")
    return start


def test_ctrl_c_during_map_closes_the_connections_and_exits_at_once(provider: SilentProvider) -> None:
    process = subprocess.Popen([sys.executable, "-c", MAP_SCRIPT, provider.url], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    start = interrupt_when_all_arrived(process, provider, 4)
    exited = time.monotonic() - start
    closed = provider.wait_closed(timeout=5)
    assert exited < 2.0, f"the process took {exited:.1f} s to exit after Ctrl-C"
    assert len(closed) == 4 and all(c is not None and c - start < 2.0 for c in closed), closed
    assert "KeyboardInterrupt" in process.stderr.read()  # type: ignore[union-attr]
    assert len(provider.requests) == 4  # no retry went out after the interrupt


def test_ctrl_c_during_the_map_command_exits_130_at_once(provider: SilentProvider) -> None:
    env = {**os.environ, "PEPPERPY_PROVIDER_OPENAI_BASE_URL": provider.url,
           "PEPPERPY_PROVIDER_OPENAI_API_KEY": "sk-test-0000000000"}
    process = subprocess.Popen([sys.executable, "-m", "pepperpy.cli", "map", "-m", "gpt-4o-mini", "-"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    assert process.stdin is not None
    process.stdin.write("one\ntwo\nthree\n")
    process.stdin.close()
    start = interrupt_when_all_arrived(process, provider, 3)
    assert time.monotonic() - start < 2.0 and process.returncode == 130
    assert all(c is not None for c in provider.wait_closed(timeout=2))
    assert "interrupted" in process.stderr.read()  # type: ignore[union-attr]


def test_a_failed_item_aborts_its_siblings_in_flight(provider: SilentProvider) -> None:
    client = client_on(provider, max_retries=0)
    provider.fail_after = 2
    start = time.monotonic()
    result: list[BaseException] = []

    def run() -> None:
        try:
            client.map(["one", "two", "FAIL later"], model="gpt-4o-mini", max_workers=3)
        except BaseException as exc:
            result.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=10)
    assert result and isinstance(result[0], pepperpy.InvalidRequestError)
    deadline = time.monotonic() + 3
    while len(provider.hung_closed) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(provider.hung_closed) == 2  # "one" and "two", unanswered, were aborted
    assert all(c is not None and c - start < 3.0 for c in provider.hung_closed)


def test_cancelling_acomplete_closes_its_connection(provider: SilentProvider) -> None:
    client = client_on(provider)

    async def main() -> float:
        task = asyncio.create_task(client.acomplete("hi", model="gpt-4o-mini"))
        while not provider.requests:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return start

    start = asyncio.run(main())
    (closed,) = provider.wait_closed(timeout=3)
    assert closed is not None and closed - start < 1.0
    time.sleep(0.3)
    assert len(provider.requests) == 1  # no retry after the cancellation
    client.close()


def test_cancelling_astream_while_it_opens_closes_its_connection(provider: SilentProvider) -> None:
    client = client_on(provider)

    async def main() -> float:
        async def read() -> None:
            async with client.astream("hi", model="gpt-4o-mini") as s:
                async for _ in s:
                    pass

        task = asyncio.create_task(read())
        while not provider.requests:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        start = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return start

    start = asyncio.run(main())
    (closed,) = provider.wait_closed(timeout=3)
    assert closed is not None and closed - start < 1.0


def test_the_scope_stops_retries_and_waits(provider: SilentProvider) -> None:
    """A call whose scope is cancelled raises Cancelled at its next step: no retry, no backoff wait."""
    from pepperpy.http._cancel import Cancelled, CancelScope

    client = client_on(provider, max_retries=3)
    scope = CancelScope()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            scope.run(lambda: client.complete("hi", model="gpt-4o-mini"))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    provider.wait_for_requests(1)
    scope.cancel()
    thread.join(timeout=2)
    assert not thread.is_alive() and isinstance(outcome[0], Cancelled)
    assert len(provider.requests) == 1
    with pytest.raises(Cancelled):
        scope.sleep(5)  # a retry or rate-limit wait in a cancelled scope ends at once



def test_ctrl_c_during_map_in_a_live_process_has_aborted_its_requests_when_it_raises(
        provider: SilentProvider) -> None:
    """A notebook (or any program that goes on after Ctrl-C): when map raises KeyboardInterrupt its batch has
    finished cancelling, so ``client.close()`` right after it cannot stop the loop half-way, leaving requests
    running (billed) at the provider and "Task was destroyed but it is pending!" on stderr at exit."""
    import _thread

    client = client_on(provider)

    def press_ctrl_c() -> None:
        provider.wait_for_requests(4)
        time.sleep(0.1)
        _thread.interrupt_main()

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        client.map(["one", "two", "three", "four"], model="gpt-4o-mini", max_workers=4, progress=False)

    async def still_running() -> list[str]:
        return [repr(t) for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    left = asyncio.run_coroutine_threadsafe(still_running(), client._map_loop.loop()).result(timeout=5)
    assert left == []  # nothing left for close() to cut off
    client.close()
    assert all(c is not None for c in provider.wait_closed(timeout=2))
