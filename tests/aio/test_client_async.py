"""Client.acomplete / aembed: the blocking core in the Client's worker pool, never blocking the loop."""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import threading
import time
from typing import Any

import pytest
from aio_helpers import linux_only, open_fds

import pepperpy
import pepperpy.aio
from pepperpy.testing import FakeProviderServer, Reply
from tests.conftest import wait_until


def _aio_threads(ignore: frozenset[threading.Thread] = frozenset()) -> list[threading.Thread]:
    """Live pepperpy worker threads, leaving out those that already ran before the test (other Clients)."""
    return [t for t in threading.enumerate() if t.name.startswith("pepperpy-aio") and t not in ignore]


def test_ten_concurrent_acompletes_overlap_and_the_loop_keeps_ticking(
        client: pepperpy.Client, server: FakeProviderServer) -> None:
    """Must-show 1: 10 awaits of a 0.3 s answer finish in under 1.5 s; a ticker never stalls > 0.1 s."""

    async def main() -> tuple[float, float, list[str]]:
        loop = asyncio.get_running_loop()
        server.default_delay = 0.05  # warm up: ten pooled connections and ten worker threads
        await asyncio.gather(*(client.acomplete("warm", model="local-chat") for _ in range(10)))
        server.default_delay = 0.3
        stop = asyncio.Event()
        worst = 0.0

        async def ticker() -> None:
            nonlocal worst
            interval = 0.01
            last = loop.time()
            while not stop.is_set():
                await asyncio.sleep(interval)
                now = loop.time()
                worst = max(worst, now - last - interval)
                last = now

        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.02)
        started = time.perf_counter()
        results = await asyncio.gather(*(client.acomplete(f"q{i}", model="local-chat") for i in range(10)))
        elapsed = time.perf_counter() - started
        stop.set()
        await tick
        return elapsed, worst, [r.text for r in results]

    elapsed, worst_stall, texts = asyncio.run(main())
    print(f"\n10 concurrent acomplete x 0.3 s: {elapsed:.3f} s; worst ticker stall {worst_stall * 1000:.1f} ms")
    assert texts == [f"echo: q{i}" for i in range(10)]
    assert elapsed < 1.5
    assert worst_stall < 0.1


def test_acomplete_and_aembed_match_the_blocking_calls(client: pepperpy.Client,
                                                      server: FakeProviderServer) -> None:
    server.reply(Reply("Hi there", usage=(4, 2)))

    async def main() -> tuple[pepperpy.Completion, pepperpy.Embeddings]:
        return (await client.acomplete("hello", model="local-chat", temperature=0.5),
                await client.aembed(["a", "b"], model="local-embed"))

    completion, embeddings = asyncio.run(main())
    assert completion.text == "Hi there" and completion.usage.total_tokens == 6
    assert completion.cost == pytest.approx((4 * 1.0 + 2 * 2.0) / 1e6)
    assert server.requests[0].json["temperature"] == 0.5
    assert embeddings.vectors == client.embed(["a", "b"], model="local-embed").vectors


def test_errors_come_out_typed_and_validation_needs_no_request(client: pepperpy.Client,
                                                              server: FakeProviderServer) -> None:
    server.fail(401)

    async def main() -> None:
        with pytest.raises(pepperpy.AuthenticationError):
            await client.acomplete("hi", model="local-chat")
        with pytest.raises(pepperpy.ValidationError, match="temperature"):
            await client.acomplete("hi", model="local-chat", temperature=9)
        with pytest.raises(pepperpy.ModelNotFoundError):
            await client.aembed("x", model="no-such-model")

    asyncio.run(main())
    assert len(server.requests) == 1


def test_acomplete_runs_on_the_event_loop_with_the_callers_context(
        client: pepperpy.Client, server: FakeProviderServer) -> None:
    """acomplete runs the pipeline on the loop (no worker thread); hooks see the awaiting task's context."""
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
    seen: list[tuple[str, str]] = []
    client.on("request", lambda e: seen.append((request_id.get(), threading.current_thread().name)))

    async def main() -> str:
        request_id.set("req-42")
        return (await client.acomplete("hi", model="local-chat")).text

    assert asyncio.run(main()) == "echo: hi"
    assert seen == [("req-42", threading.main_thread().name)]  # sent from the loop's thread, in the task


def test_astream_uses_the_callers_context_in_its_worker(client: pepperpy.Client, server: FakeProviderServer) -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
    seen: list[tuple[str, str]] = []
    client.on("request", lambda e: seen.append((request_id.get(), threading.current_thread().name)))

    async def main() -> str:
        request_id.set("req-7")
        async with client.astream("hi", model="local-chat") as s:
            return "".join([chunk.text async for chunk in s])

    assert asyncio.run(main()) == "echo: hi"
    assert seen[0][0] == "req-7" and seen[0][1].startswith("pepperpy-aio")


def test_max_concurrency_bounds_the_calls_in_flight_and_the_workers(
        local_catalog: Any, server: FakeProviderServer) -> None:
    others = frozenset(_aio_threads())
    client = pepperpy.Client(catalog=local_catalog, env_file=None, max_concurrency=2)
    assert (client.max_concurrency, client.pool_maxsize, client.workers.max_workers) == (2, 2, 2)
    server.default_delay = 0.15

    async def main() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(client.acomplete(f"q{i}", model="local-chat") for i in range(4)))
        return time.perf_counter() - started

    async def streams() -> None:
        async def one(i: int) -> None:
            async with client.astream(f"s{i}", model="local-chat") as s:
                async for _ in s:
                    pass

        await asyncio.gather(*(one(i) for i in range(4)))

    try:
        elapsed = asyncio.run(main())
        assert elapsed >= 0.29  # two waves of two: the bound holds
        asyncio.run(streams())
        assert len(_aio_threads(others)) == 2  # the streams' workers: no more than max_concurrency
    finally:
        client.close()
    assert wait_until(lambda: not _aio_threads(others))
    server.default_delay = 0.0
    # a closed Client stays usable: the next await makes a new pool
    assert asyncio.run(client.acomplete("again", model="local-chat")).text == "echo: again"
    client.close()
    assert pepperpy.Client(catalog=local_catalog, env_file=None, max_concurrency=8, pool_maxsize=3).pool_maxsize == 3
    with pytest.raises(pepperpy.ConfigurationError, match="max_concurrency must be a whole number"):
        pepperpy.Client(catalog=local_catalog, env_file=None, max_concurrency=0)


def test_async_with_closes_the_client(local_catalog: Any, server: FakeProviderServer) -> None:
    others = frozenset(_aio_threads())

    async def main() -> str:
        async with pepperpy.Client(catalog=local_catalog, env_file=None) as client:
            return (await client.acomplete("hi", model="local-chat")).text

    assert asyncio.run(main()) == "echo: hi"
    assert wait_until(lambda: not _aio_threads(others))


def test_cancelling_an_await_leaves_the_client_working(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(Reply("slow", delay=0.3))

    async def main() -> str:
        task = asyncio.create_task(client.acomplete("hi", model="local-chat"))
        while not server.requests:  # the request is out; its answer is 0.3 s away
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return (await client.acomplete("next", model="local-chat")).text

    assert asyncio.run(main()) == "echo: next"


def test_blocking_calls_work_inside_a_running_loop(client: pepperpy.Client, server: FakeProviderServer) -> None:
    """What Jupyter does: cells run inside a loop, and the blocking API still just works there."""

    async def cell() -> str:
        asyncio.get_running_loop()  # we are inside a running loop, like a notebook cell
        return client.complete("from a notebook", model="local-chat").text

    assert asyncio.run(cell()) == "echo: from a notebook"


def test_run_refuses_to_stall_a_running_loop(client: pepperpy.Client, server: FakeProviderServer) -> None:
    assert pepperpy.aio.run(client.acomplete("sync caller", model="local-chat")).text == "echo: sync caller"

    async def inside_a_loop() -> None:
        started = time.perf_counter()
        with pytest.raises(pepperpy.ConfigurationError, match=r"await client\.acomplete"):
            pepperpy.aio.run(client.acomplete("nested", model="local-chat"))
        assert time.perf_counter() - started < 0.5  # an error at once, not a deadlock

    asyncio.run(inside_a_loop())
    assert [r.json["messages"][-1]["content"] for r in server.requests] == ["sync caller"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_workers_of_its_own(client: pepperpy.Client, server: FakeProviderServer) -> None:
    """The parent's worker threads do not survive a fork; a child that awaits must not wait for them."""
    assert asyncio.run(client.acomplete("parent", model="local-chat")).text == "echo: parent"
    time.sleep(0.05)  # the parent's worker goes idle: the usual state at a fork, and the one that used to hang
    pid = os.fork()
    if pid == 0:  # the child: answer through the exit code, never return into pytest
        code = 1
        try:
            signal.alarm(5)  # a hang would otherwise be forever
            code = 0 if asyncio.run(client.acomplete("child", model="local-chat")).text == "echo: child" else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@linux_only
def test_open_file_descriptors_stay_flat(client: pepperpy.Client, server: FakeProviderServer) -> None:
    """Must-show 3 (async side): acomplete and early-closed astream calls leak no socket."""

    async def rounds(n: int) -> None:
        for i in range(n):
            await client.acomplete(f"c{i}", model="local-chat")
            server.reply(Reply(chunks=[f"w{k} " for k in range(50)]))
            async with client.astream(f"s{i}", model="local-chat") as stream:
                async for _ in stream:
                    break

    asyncio.run(rounds(10))  # warm up: pool, worker threads
    before = open_fds()
    asyncio.run(rounds(150))
    assert wait_until(lambda: open_fds() <= before + 5), (before, open_fds())


@pytest.mark.parametrize(("model", "error"), [
    ("gpt-image-2.6-flare", pepperpy.ValidationError),      # a model of another mode
    ("gpt-4o-mini", pepperpy.ConfigurationError),           # no key for its provider
])
def test_concurrent_first_calls_that_cannot_be_prepared_each_raise_the_typed_error(model: str,
                                                                                    error: type[Exception]) -> None:
    """Four awaited calls to a model not prepared yet wait for the first one's preparation; when it fails
    every one of them raises the same typed error (the third and fourth raised KeyError: (loop id, model))."""
    client = pepperpy.Client(env_file=None, api_keys={"anthropic": "sk-ant-test-0000"})

    async def main() -> list[BaseException | pepperpy.Completion]:
        return await asyncio.gather(*(client.acomplete("hi", model=model) for _ in range(4)),
                                    return_exceptions=True)

    results = asyncio.run(main())
    assert [type(r) for r in results] == [error] * 4, results
    client.close()
