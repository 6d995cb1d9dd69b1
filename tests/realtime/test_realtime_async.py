"""``client.arealtime``: the async twin sends the same messages, answers the same way, fails the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from realtime_helpers import pcm

import pepperpy
from pepperpy.realtime import TurnDone
from pepperpy.testing import FakeRealtimeServer, RealtimeAnswer


def test_the_twins_send_the_same_messages(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    def get_time(zone: str) -> str:
        """The time in a zone."""
        return "12:00"

    def script() -> None:
        fake.reply("First.", usage=(10, 2))
        fake.tool_call("get_time", {"zone": "UTC"})
        fake.reply("Noon.", usage=(20, 2))

    script()
    with client.realtime("gpt-realtime-2", instructions="Be brief.", tools=[get_time]) as s:
        blocking = [s.ask("Hi").text, s.ask("Time?").text, s.ask(audio=pcm(0.2)).text]

    async def main() -> list[str]:
        script()
        async with client.arealtime("gpt-realtime-2", instructions="Be brief.", tools=[get_time]) as s:
            return [(await s.ask("Hi")).text, (await s.ask("Time?")).text, (await s.ask(audio=pcm(0.2))).text]

    awaited = asyncio.run(main())
    assert awaited == blocking == ["First.", "Noon.", "echo: (audio)"]
    first, second = fake.sessions
    assert first.messages == second.messages and len(first.messages) == 10


def test_await_opens_and_iteration_books(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    async def main() -> TurnDone:
        session = await client.arealtime("gpt-realtime-2")
        try:
            await session.send_text("Hello")
            await session.respond()
            async for event in session:
                if isinstance(event, TurnDone):
                    return event
        finally:
            await session.close()
        raise AssertionError("no end of the answer")

    done = asyncio.run(main())
    assert done.status == "completed" and done.usage.input_tokens == 20
    assert client.usage()["openai/gpt-realtime-2"].calls == 1


def test_a_cancel_from_another_task(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    fake.reply("one two three four", pieces=4, pause_after=1)

    async def main() -> pepperpy.realtime.RealtimeReply:
        async with client.arealtime("gpt-realtime-2") as s:
            async def barge_in() -> None:
                while not fake.paused.is_set():
                    await asyncio.sleep(0.005)
                await s.cancel()

            asking = asyncio.ensure_future(s.ask("Count"))
            await barge_in()
            return await asking

    reply = asyncio.run(main())
    assert reply.status == "cancelled" and reply.text == "one t"
    assert fake.sessions[0].messages[-1] == {"type": "response.cancel", "event_id": "pepperpy-cancel-1"}


def test_failures_are_the_same_typed_errors(make_client: Callable[..., pepperpy.Client],
                                            fake: FakeRealtimeServer) -> None:
    client = make_client(budget=0.5)
    fake.drop(after=1, answer=RealtimeAnswer("cut short", pieces=3))

    async def main() -> None:
        async with client.arealtime("gemini-3.8-live", output="audio", max_output_tokens=1000) as s:
            with pytest.raises(pepperpy.StreamError, match="dropped the connection mid-turn"):
                await s.ask("Hello")
        async with client.arealtime("gpt-realtime-2") as s:
            with pytest.raises(pepperpy.BudgetExceededError):
                await s.ask("Hello")

    asyncio.run(main())
    assert [m["type"] for m in fake.sessions[1].messages] == ["session.update"]
    fake.handshake_status = 401
    with pytest.raises(pepperpy.AuthenticationError):
        asyncio.run(client.arealtime("gpt-realtime-2").open())
