"""The in-process fake (FakeAdapter, fake_providers) and server_environ for the loopback server."""

from __future__ import annotations

import doctest
import os
import sys
import time
from collections.abc import Iterator

import pytest
import requests

import pepperpy
import pepperpy.testing.adapter
from pepperpy.testing import FAKE_API_KEY, FakeAdapter, FakeProviderServer, Fault, Reply, fake_providers, server_environ

CHAT_MODELS = ["gpt-4o-mini", "claude-haiku", "gemini-flash", "ollama/llama3.2", "stackspot/agent-1"]
EMBED_MODELS = ["text-embedding-3-small", "gemini-embedding-001", "ollama/nomic-embed-text"]


@pytest.fixture
def client() -> Iterator[pepperpy.Client]:
    with pepperpy.Client(env_file=None, max_retries=0, use_keyring=False) as c:
        yield c


def test_importing_pepperpy_testing_does_not_load_requests() -> None:
    import subprocess

    code = "import sys, pepperpy.testing; print('requests' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_module_examples() -> None:
    assert doctest.testmod(pepperpy.testing.adapter).failed == 0


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_every_dialect_completes_and_streams_without_keys_or_sockets(client: pepperpy.Client, model: str) -> None:
    with fake_providers(client) as fake:
        fake.reply("Hello there", usage=(7, 2))
        r = client.complete("Say hi", model=model)
        assert (r.text, r.finish_reason, r.usage.input_tokens, r.usage.output_tokens) == ("Hello there", "stop", 7, 2)
        fake.reply(Reply(chunks=["Hel", "lo"]))
        with client.stream("Say hi", model=model) as s:
            assert [c.text for c in s if c.text] == ["Hel", "lo"]
        assert s.completion.text == "Hello"
        assert client.complete("ping", model=model).text == "echo: ping"
        chat = [r for r in fake.requests if not r.path.endswith("/oauth/token")]
        assert len(chat) == 3 and fake.pending == 0
        tokens = len(fake.requests) - len(chat)  # a token scheme (StackSpot's) fetches its token once, faked too
        assert tokens == (1 if model.startswith("stackspot/") else 0)


@pytest.mark.parametrize("model", EMBED_MODELS)
def test_embeddings_are_deterministic(client: pepperpy.Client, model: str) -> None:
    with fake_providers(client):
        first = client.embed(["a", "b"], model=model)
        again = client.embed(["a", "b"], model=model)
    assert len(first.vectors) == 2 and first.vectors == again.vectors and first.vectors[0] != first.vectors[1]


def test_real_keys_are_never_sent_and_everything_is_restored(client: pepperpy.Client,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-secret-key-123456")
    with fake_providers(client) as fake:
        client.complete("hi", model="gpt-4o-mini")
        assert os.environ["PEPPERPY_PROVIDER_OPENAI_API_KEY"] == FAKE_API_KEY
    assert fake.requests[0].headers["authorization"] == f"Bearer {FAKE_API_KEY}"
    assert "PEPPERPY_PROVIDER_OPENAI_API_KEY" not in os.environ
    assert client.transport is None  # the transport it had before is back
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(pepperpy.ConfigurationError, match="OPENAI_API_KEY"):  # the fake is gone
        client.complete("hi", model="gpt-4o-mini")


def test_scripted_errors_are_typed_like_real_ones(client: pepperpy.Client) -> None:
    with fake_providers(client) as fake:
        fake.fail(401)
        with pytest.raises(pepperpy.AuthenticationError, match="PEPPERPY_PROVIDER_ANTHROPIC_API_KEY"):
            client.complete("hi", model="claude-haiku")
        fake.fail(429, headers={"retry-after": "7"})
        with pytest.raises(pepperpy.RateLimitError) as caught:
            client.complete("hi", model="gpt-4o-mini")
        assert caught.value.retry_after == 7.0 and caught.value.request_id == "req_2"
        fake.fail(400, message="prompt is too long: 300000 tokens > 200000 maximum")
        with pytest.raises(pepperpy.ContextLengthError):
            client.complete("hi", model="claude-haiku")


def test_transport_faults(client: pepperpy.Client) -> None:
    with fake_providers(client) as fake:
        fake.fault(Fault.RESET)
        with pytest.raises(pepperpy.ProviderConnectionError):
            client.complete("hi", model="gpt-4o-mini")
        fake.fault(Fault.hang(3600))
        started = time.monotonic()
        with pytest.raises(pepperpy.ProviderTimeoutError):
            client.complete("hi", model="gpt-4o-mini")
        assert time.monotonic() - started < 1.0  # never slept
        fake.fault(Fault.hang(0.5))  # shorter than the read timeout: answered at once
        assert client.complete("hi", model="gpt-4o-mini").text == "echo: hi"
        fake.fault(Fault.cut_stream(after=1))
        with pytest.raises(pepperpy.StreamError), client.stream("one two three", model="claude-haiku") as s:
            list(s)
        assert s.text == "echo: "  # one content event arrived before the cut
        fake.fault(Fault.cut_stream(after=2, clean=True))
        with pytest.raises(pepperpy.StreamError, match="terminator"):
            list(client.stream("x", model="gpt-4o-mini"))
        fake.fault(Fault.stream_error(after=1, message="overloaded"))
        with pytest.raises(pepperpy.ProviderError):
            list(client.stream("x", model="gemini-flash"))
        fake.fault(Fault.CUT_STREAM)
        with pytest.raises(pepperpy.ProviderError):
            client.complete("x", model="gpt-4o-mini")
        assert fake.pending == 0


def test_default_client_is_faked_when_no_client_is_given() -> None:
    with fake_providers(replies=["Paris."]) as fake:
        assert pepperpy.complete("Capital of France?", model="gpt-4o-mini").text == "Paris."
    assert fake.requests[0].json["messages"][-1]["content"] == "Capital of France?"


def test_adapter_on_a_plain_session_lists_models_and_answers_unknown_routes() -> None:
    adapter = FakeAdapter()
    session = requests.Session()
    session.mount("http://", adapter)
    assert [m["id"] for m in session.get("http://x/v1/models").json()["data"]] == adapter.models
    assert session.get("http://x/nowhere").status_code == 404
    adapter.reply("queued")
    adapter.clear()
    assert adapter.pending == 0 and adapter.requests == []


def test_server_environ_points_providers_at_the_loopback_server(server: FakeProviderServer,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    environ = server_environ(server)
    assert environ["PEPPERPY_PROVIDER_OPENAI_BASE_URL"] == server.url + "/v1"
    assert environ["PEPPERPY_PROVIDER_GEMINI_BASE_URL"] == server.url + "/v1beta"
    assert not any(name.startswith("PEPPERPY_PROVIDER_STACKSPOT_") for name in environ)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    server.reply("from the loopback server")
    assert pepperpy.complete("hi", model="claude-haiku").text == "from the loopback server"
    assert server.requests[0].headers["x-api-key"] == FAKE_API_KEY


def test_async_calls_go_through_the_fake_too(client: pepperpy.Client) -> None:
    import asyncio

    with fake_providers(client, replies=["async answer"]):
        assert asyncio.run(client.acomplete("hi", model="gpt-4o-mini")).text == "async answer"
