"""``pepperpy.testing`` covers realtime sessions: ``fake_providers(client)`` (and ``Client(transport=
FakeAdapter())``) send them to a fake realtime server, and ``FakeProviderServer`` takes their WebSocket
upgrades on its own port, so apps pointed at it by ``server_environ`` test their voice code offline."""

from __future__ import annotations

import os

import pytest

import pepperpy
from pepperpy.testing import FakeAdapter, FakeProviderServer, fake_providers, server_environ


def test_fake_providers_covers_realtime_sessions() -> None:
    client = pepperpy.Client(env_file=None)
    with fake_providers(client) as fake:
        fake.realtime.reply("Paris.")
        with client.realtime("gpt-realtime-2") as s:
            assert s.ask("Capital of France?").text == "Paris."
        with client.realtime("gemini-3.8-live", output="audio") as s:
            assert s.ask("Capital of Italy?").transcript == "echo: Capital of Italy?"
        assert [session.provider for session in fake.realtime.sessions] == ["openai", "gemini"]
        realtime = fake.realtime
    assert realtime._server is None  # stopped with the block
    with pytest.raises(pepperpy.ConfigurationError):  # afterwards: real providers again, which need keys
        client.realtime("gpt-realtime-2")


def test_a_client_built_on_a_fake_adapter_talks_to_its_realtime_fake() -> None:
    adapter = FakeAdapter()
    try:
        client = pepperpy.Client(env_file=None, api_keys={"openai": "sk-fake"}, transport=adapter)
        adapter.realtime.reply("Hi!")
        with client.realtime("gpt-realtime-2") as s:
            assert s.ask("Hello").text == "Hi!"
    finally:
        adapter.stop_realtime()


def test_fake_provider_server_takes_realtime_upgrades_on_its_port(server: FakeProviderServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in server_environ(server).items():
        monkeypatch.setenv(name, value)
    client = pepperpy.Client(env_file=None)
    server.realtime.reply("Over the same port.")
    with client.realtime("gpt-realtime-2") as s:
        assert s.ask("Hello").text == "Over the same port."
    assert client.complete("and HTTP still", model="gpt-4o-mini").text == "echo: and HTTP still"
    assert server.realtime.sessions[0].path == "/v1/realtime?model=gpt-realtime-2"
    assert os.environ["PEPPERPY_PROVIDER_OPENAI_BASE_URL"] == server.url + "/v1"
