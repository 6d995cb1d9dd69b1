"""Client.astream: an async iterator whose close or cancellation closes the HTTP response."""

from __future__ import annotations

import asyncio

import pytest
from aio_helpers import established_to, linux_only

import pepperpy
from pepperpy.testing import FakeProviderServer, Fault, Reply
from tests.conftest import wait_until


def test_astream_yields_chunks_and_the_completion(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["Hel", "lo", " world"], usage=(3, 3)))

    async def main() -> tuple[list[str], pepperpy.Completion, str]:
        stream = client.astream("hi", model="local-chat")
        pieces = [chunk.text async for chunk in stream if chunk.text]
        return pieces, stream.completion, repr(stream)

    pieces, completion, state = asyncio.run(main())
    assert pieces == ["Hel", "lo", " world"]
    assert completion.text == "Hello world" and completion.usage.output_tokens == 3
    assert state == "<AsyncStream done>"


def test_the_request_is_sent_on_first_read_and_errors_are_typed(client: pepperpy.Client,
                                                                server: FakeProviderServer) -> None:
    server.fail(401)

    async def main() -> None:
        stream = client.astream("hi", model="local-chat")
        assert server.requests == []
        with pytest.raises(pepperpy.AuthenticationError):
            await stream.__anext__()
        assert [chunk async for chunk in stream] == []  # closed after the error
        server.fault(Fault.CUT_STREAM)
        with pytest.raises(pepperpy.StreamError):
            async for _ in client.astream("again", model="local-chat"):
                pass

    asyncio.run(main())


def test_completion_needs_the_whole_stream_and_sync_iteration_is_refused(client: pepperpy.Client,
                                                                         server: FakeProviderServer) -> None:
    async def main() -> None:
        async with client.astream("one two three", model="local-chat") as stream:
            first = await stream.__anext__()
            assert first.text and stream.text == first.text
            with pytest.raises(pepperpy.StreamError, match="async for"):
                _ = stream.completion
        with pytest.raises(TypeError, match="async for"):
            iter(client.astream("hi", model="local-chat"))

    asyncio.run(main())


def test_two_tasks_cannot_read_one_stream_at_once(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["a", "b"], delay=0.2))

    async def main() -> None:
        async with client.astream("hi", model="local-chat") as stream:
            first = asyncio.create_task(stream.__anext__())
            await asyncio.sleep(0.05)
            with pytest.raises(RuntimeError, match="already reading"):
                await stream.__anext__()
            first.cancel()
            with pytest.raises(asyncio.CancelledError):
                await first

    asyncio.run(main())


@linux_only
def test_cancelling_the_consumer_closes_the_connection(client: pepperpy.Client, server: FakeProviderServer) -> None:
    """Must-show 4: the task reading an astream is cancelled mid-stream; its TCP connection closes."""
    server.reply(Reply(chunks=[f"w{i} " for i in range(500)], chunk_delay=0.02))  # 10 s if read to the end

    async def main() -> tuple[int, bool, int]:
        first = asyncio.Event()
        received = 0
        stream = client.astream("hi", model="local-chat")  # held here, so garbage collection cannot close it

        async def consume() -> None:
            nonlocal received
            async for _ in stream:
                received += 1
                first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        while_streaming = established_to(server.port)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert repr(stream) == "<AsyncStream closed>"
        closed = await asyncio.to_thread(wait_until, lambda: established_to(server.port) == 0, 2.0)
        return while_streaming, closed, received

    while_streaming, closed, received = asyncio.run(main())
    assert while_streaming == 1
    assert closed
    assert received < 100
    assert client.complete("still fine", model="local-chat").text == "echo: still fine"


@linux_only
def test_aclose_and_leaving_async_with_close_the_connection(client: pepperpy.Client,
                                                            server: FakeProviderServer) -> None:
    async def main() -> None:
        server.reply(Reply(chunks=[f"w{i} " for i in range(500)], chunk_delay=0.02))
        stream = client.astream("hi", model="local-chat")
        await stream.__anext__()
        assert established_to(server.port) == 1
        await stream.aclose()
        await stream.aclose()  # twice is fine
        assert wait_until(lambda: established_to(server.port) == 0, timeout=2.0)
        assert [chunk async for chunk in stream] == []

        server.reply(Reply(chunks=[f"w{i} " for i in range(500)], chunk_delay=0.02))
        async with client.astream("again", model="local-chat") as stream:
            async for _ in stream:
                break
        assert wait_until(lambda: established_to(server.port) == 0, timeout=2.0)

    asyncio.run(main())


@linux_only
def test_cancelling_during_a_stalled_read_closes_at_once(client: pepperpy.Client, server: FakeProviderServer) -> None:
    """The provider stalls between chunks: cancelling must not wait for the next chunk or the read timeout."""
    server.reply(Reply(chunks=["first ", "second"], chunk_delay=5.0))  # the first text comes after 5 s

    async def main() -> float:
        stream = client.astream("hi", model="local-chat")
        task = asyncio.create_task(stream.__anext__())
        await asyncio.sleep(0.3)  # the stream is open and its worker blocked on the socket
        started = asyncio.get_running_loop().time()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        closed = await asyncio.to_thread(wait_until, lambda: established_to(server.port) == 0, 2.0)
        assert closed
        return asyncio.get_running_loop().time() - started

    assert asyncio.run(main()) < 1.0
    assert client.complete("still fine", model="local-chat").text == "echo: still fine"
