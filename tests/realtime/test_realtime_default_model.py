"""``client.realtime()`` and ``arealtime()`` without a model take ``PEPPERPY_DEFAULT_REALTIME_MODEL`` (the
per-mode defaults of issue 26); with none set, the ConfigurationError names the variable, before connecting."""

from __future__ import annotations

import asyncio

import pytest

import pepperpy
from pepperpy.testing import FakeRealtimeServer


def test_no_model_and_no_default_names_the_variable(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    with pytest.raises(pepperpy.ConfigurationError, match="PEPPERPY_DEFAULT_REALTIME_MODEL"):
        client.realtime()
    with pytest.raises(pepperpy.ConfigurationError, match="PEPPERPY_DEFAULT_REALTIME_MODEL"):
        client.arealtime(instructions="Be brief.")
    assert fake.sessions == []


def test_the_default_realtime_model_serves_both_twins(client: pepperpy.Client, fake: FakeRealtimeServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_DEFAULT_REALTIME_MODEL", "gpt-realtime-2")
    fake.reply("Hi.", usage=(3, 1))
    with client.realtime(instructions="Be brief.") as session:
        assert session.ask("Hello").text == "Hi."

    async def main() -> str:
        fake.reply("Again.", usage=(3, 1))
        async with client.arealtime() as session:
            return (await session.ask("Hello")).text

    assert asyncio.run(main()) == "Again."
    assert [session.path for session in fake.sessions] == ["/v1/realtime?model=gpt-realtime-2"] * 2
