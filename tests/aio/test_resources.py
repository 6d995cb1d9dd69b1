"""What the event loop's connections hold, and when they let go: at the end of ``asyncio.run``, on ``close()`` /
``aclose()`` (from the loop or another thread, with calls in flight), across loops and threads, in a forked
child, and under the process's file-descriptor limit. Counted from outside pepperpy: /proc's descriptors and
TCP states."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aio_helpers import established_to, linux_only, open_fds
from tls_helpers import TLSFront

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.conftest import LOCAL_MODELS, wait_until, write_provider


@pytest.fixture
def no_unclosed_transports() -> Iterator[None]:
    """The test must leave no socket for the garbage collector to close ("unclosed transport" warnings)."""
    gc.collect()  # earlier tests' garbage first (some leave a loop's sockets on purpose): only this test's counts
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        gc.collect()
    unclosed = [str(w.message) for w in caught if "unclosed" in str(w.message)]
    assert unclosed == []


async def fan_out(client: pepperpy.Client, n: int, at_once: int = 1000) -> list[str]:
    gate = asyncio.Semaphore(at_once)

    async def one(i: int) -> str:
        async with gate:
            return (await client.acomplete(f"q{i}", model="local-chat")).text

    return await asyncio.gather(*(one(i) for i in range(n)))


@linux_only
@pytest.mark.usefixtures("no_unclosed_transports")
def test_asyncio_run_closes_its_connections_before_the_loop_closes(client: pepperpy.Client,
                                                                   server: FakeProviderServer) -> None:
    for _ in range(3):
        assert asyncio.run(fan_out(client, 20)) == [f"echo: q{i}" for i in range(20)]
        assert established_to(server.port) == 0  # not left open until the next loop's first call, or the GC


@linux_only
@pytest.mark.usefixtures("no_unclosed_transports")
def test_thousands_of_calls_leave_no_file_descriptor_behind(client: pepperpy.Client,
                                                            server: FakeProviderServer) -> None:
    asyncio.run(fan_out(client, 10))  # warm up: the worker that prepares a model, the server's threads
    before = open_fds()
    assert len(asyncio.run(fan_out(client, 2000, at_once=200))) == 2000
    for _ in range(20):
        asyncio.run(fan_out(client, 10))
    assert wait_until(lambda: open_fds() <= before), (before, open_fds())  # the server's sockets close after ours


@linux_only
@pytest.mark.usefixtures("no_unclosed_transports")
def test_calls_over_tls_leave_no_file_descriptor_behind(server: FakeProviderServer, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    trustme = pytest.importorskip("trustme")
    import ssl

    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    front = TLSFront(server.port, context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    folder = write_provider(tmp_path / "tls", "local", "openai", f"https://localhost:{front.port}/v1",
                            models=LOCAL_MODELS)
    client = pepperpy.Client(catalog=folder, env_file=None)
    try:
        asyncio.run(fan_out(client, 5))
        before = open_fds()
        for _ in range(5):
            assert len(asyncio.run(fan_out(client, 40))) == 40
        assert established_to(front.port) == 0
        assert wait_until(lambda: open_fds() <= before), (before, open_fds())
    finally:
        front.close()


class LoopThread:
    """An event loop running in a thread of its own, as Jupyter's does: it never ends between calls."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@linux_only
def test_close_from_another_thread_closes_a_running_loops_connections(client: pepperpy.Client,
                                                                      server: FakeProviderServer) -> None:
    jupyter = LoopThread()
    try:
        jupyter.run(fan_out(client, 10))
        jupyter.run(fan_out(client, 10))
        assert server.connections == 10  # kept between cells
        client.close()
        assert wait_until(lambda: established_to(server.port) == 0)
        assert jupyter.run(fan_out(client, 3)) == ["echo: q0", "echo: q1", "echo: q2"]  # usable after close
    finally:
        jupyter.stop()


@linux_only
def test_a_connection_in_flight_when_the_client_closes_is_closed_once_answered(client: pepperpy.Client,
                                                                               server: FakeProviderServer) -> None:
    server.reply("late", delay=0.3)

    async def main() -> tuple[str, int]:
        call = asyncio.ensure_future(client.acomplete("hi", model="local-chat"))
        await asyncio.sleep(0.1)
        await client.aclose()  # the request is in flight: its connection must not go back to an idle pool
        text = (await call).text
        await asyncio.sleep(0.05)
        return text, established_to(server.port)

    assert asyncio.run(main()) == ("late", 0)


@pytest.mark.usefixtures("no_unclosed_transports")
def test_several_event_loops_at_once_each_have_their_own_connections(client: pepperpy.Client,
                                                                     server: FakeProviderServer) -> None:
    results: dict[int, list[str]] = {}
    barrier = threading.Barrier(4)

    def worker(n: int) -> None:
        barrier.wait()  # the four loops make their pools at the same moment
        results[n] = [text for _ in range(3) for text in asyncio.run(fan_out(client, 15))]

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [results[n] for n in range(4)] == [[f"echo: q{i}" for i in range(15)] * 3] * 4
    assert len(server.requests) == 4 * 3 * 15


@linux_only
def test_a_loop_closed_without_asyncio_run_gives_its_sockets_up_at_the_next_loop(client: pepperpy.Client,
                                                                                server: FakeProviderServer) -> None:
    loop = asyncio.new_event_loop()
    loop.run_until_complete(fan_out(client, 5))
    loop.close()  # no shutdown_asyncgens: the pool cannot know
    assert established_to(server.port) == 5
    asyncio.run(fan_out(client, 1))
    assert established_to(server.port) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_leaves_the_parents_connections_alone(client: pepperpy.Client,
                                                             server: FakeProviderServer) -> None:
    """client.map keeps its loop and connections between batches; a child opens its own and never closes the
    parent's: closing an inherited event-loop socket in the child unregisters it from the parent's epoll (one
    instance, shared across the fork), and the parent's loop no longer hears that connection."""
    assert client.map(["a", "b"], model="local-chat")[0].text == "echo: a"
    kept = server.connections
    pid = os.fork()
    if pid == 0:  # the child: answer through the exit code, never return into pytest
        code = 1
        try:
            import signal

            signal.alarm(5)
            gc.collect()  # whatever the child dropped of the parent's is collected now
            texts = [r.text for r in client.map(["c"], model="local-chat")]
            texts.append(asyncio.run(client.acomplete("d", model="local-chat")).text)
            code = 0 if texts == ["echo: c", "echo: d"] else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    opened_by_child = server.connections - kept
    assert opened_by_child >= 1
    assert [r.text for r in client.map(["e", "f"], model="local-chat")] == ["echo: e", "echo: f"]
    assert server.connections == kept + opened_by_child  # the parent's kept connections still served it


_UNDER_A_LIMIT = textwrap.dedent("""
    import asyncio, resource, subprocess, sys
    from pathlib import Path
    import pepperpy
    from tests.conftest import LOCAL_MODELS, write_provider

    server = subprocess.Popen([sys.executable, "-c", "import sys, time\\n"
        "from pepperpy.testing import FakeProviderServer\\n"
        "s = FakeProviderServer().start(); s.default_delay = 0.2\\n"
        "print(s.port, flush=True); sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    folder = Path(sys.argv[1])
    write_provider(folder, "first", "openai", f"http://127.0.0.1:{port}/v1", models=LOCAL_MODELS)
    write_provider(folder, "second", "openai", f"http://localhost:{port}/v1", models=LOCAL_MODELS)
    client = pepperpy.Client(catalog=folder, env_file=None, max_retries=0)

    async def burst(provider):
        calls = (client.acomplete(f"q{i}", model=f"{provider}/local-chat") for i in range(400))
        return [type(r).__name__ for r in await asyncio.gather(*calls, return_exceptions=True)
                if isinstance(r, Exception)]

    async def main():
        return await burst("first") + await burst("second")  # the first's connections stay idle meanwhile

    errors = asyncio.run(main())
    server.stdin.close(); server.wait()
    print(errors)
""")


@pytest.mark.skipif(sys.platform != "linux", reason="counts descriptors in /proc under a lowered RLIMIT_NOFILE")
def test_bursts_to_two_providers_stay_under_the_file_descriptor_limit(tmp_path: Path) -> None:
    """A soft limit of 256 descriptors (macOS's default): 400 calls to one provider leave up to ~180 connections
    idle; 400 more to another provider must close some of those rather than fail with "Too many open files"."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _UNDER_A_LIMIT, str(tmp_path / "catalog")], cwd=root,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"

