"""Params and messages are refused before any request, with the param, the value and the range."""

from __future__ import annotations

import pytest
import responses

import pepperpy


@pytest.fixture
def client() -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-abcdefgh12345"})


@responses.activate
@pytest.mark.parametrize(("kwargs", "words"), [
    ({"temperature": 3.5}, "temperature=3.5 is out of range for openai/gpt-4o: allowed 0..2"),
    ({"top_p": -0.1}, "top_p=-0.1 is out of range"),
    ({"temperature": "hot"}, "temperature must be a number"),
    ({"max_tokens": 0}, "max_tokens must be a positive integer"),
    ({"max_tokens": 10**7}, "allowed 1..16384"),
    ({"stop": [1]}, "stop must be a string or a list"),
])
def test_out_of_range_params(client: pepperpy.Client, kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(pepperpy.ValidationError) as info:
        client.complete("hi", model="gpt-4o", **kwargs)  # type: ignore[arg-type]
    assert words in str(info.value)
    assert info.value.param == next(iter(kwargs))
    assert len(responses.calls) == 0


@responses.activate
def test_unsupported_param_is_refused(client: pepperpy.Client) -> None:
    reasoning = next(m for m in client.models(provider="openai")
                     if m.params.get("temperature") is not None and not m.params["temperature"].supported)
    with pytest.raises(pepperpy.ValidationError, match="does not accept temperature"):
        client.complete("hi", model=reasoning.name, temperature=0.5)
    assert len(responses.calls) == 0


@pytest.mark.parametrize(("kwargs", "words"), [
    ({}, "nothing to answer"),
    ({"messages": [{"content": "x"}]}, "messages[0] must be a mapping"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "role 'robot'"),
    ({"prompt": ["a"]}, "prompt must be a string"),
])
def test_bad_messages(client: pepperpy.Client, kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(pepperpy.ValidationError) as info:
        client.complete(model="gpt-4o", **kwargs)  # type: ignore[arg-type]
    assert words in str(info.value)


def test_wrong_mode(client: pepperpy.Client) -> None:
    with pytest.raises(pepperpy.ValidationError, match="embedding model"):
        client.complete("hi", model="text-embedding-3-small")
    with pytest.raises(pepperpy.ValidationError, match="chat model"):
        client.embed("hi", model="gpt-4o")
    with pytest.raises(pepperpy.ValidationError, match="non-empty list"):
        client.embed([], model="text-embedding-3-small")


# --------------------------------------------------------------------------- issue 11 item 2: near-miss names

@pytest.mark.parametrize(("kwargs", "suggestion"), [
    ({"max_token": 5}, "max_tokens"),
    ({"temprature": 0.1}, "temperature"),
    ({"top-p": 0.5}, "top_p"),
    ({"maxTokens": 5}, "max_tokens"),
    ({"fallback": ["gpt-4o"]}, "fallbacks"),            # pepperpy's own argument
    ({"sytem": "Be brief"}, "system"),
    ({"presense_penalty": 0.2}, "presence_penalty"),    # a param the openai wire knows
    ({"resoning_effort": "low"}, "reasoning_effort"),
])
def test_a_near_miss_of_a_known_name_is_refused_with_the_suggestion(
        kwargs: dict[str, object], suggestion: str, server: pepperpy.testing.FakeProviderServer) -> None:
    client = pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-abcdefgh12345"},
                             providers={"openai": {"base_url": server.base_url("openai")}})
    with pytest.raises(pepperpy.ValidationError, match=f"did you mean '{suggestion}'") as info:
        client.complete("hi", model="gpt-4o", **kwargs)
    assert info.value.param == next(iter(kwargs))
    with pytest.raises(pepperpy.ValidationError, match=f"did you mean '{suggestion}'"):
        client.stream("hi", model="gpt-4o", **kwargs)
    assert server.requests == []


def test_names_nobody_knows_still_pass_through(server: pepperpy.testing.FakeProviderServer) -> None:
    client = pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-abcdefgh12345"},
                             providers={"openai": {"base_url": server.base_url("openai")}})
    client.complete("hi", model="gpt-4o", max_tokens=5, top_k=3, logprobs=True, my_gateway_flag="x")
    body = server.requests[0].json
    assert (body["top_k"], body["logprobs"], body["my_gateway_flag"]) == (3, True, "x")


def test_near_misses_per_dialect_and_for_embeddings(server: pepperpy.testing.FakeProviderServer) -> None:
    overrides = {name: {"base_url": server.base_url(name)} for name in ("anthropic", "ollama", "openai")}
    client = pepperpy.Client(env_file=None, api_keys={"anthropic": "sk-ant-test-1234", "openai": "sk-test-12345"},
                             providers=overrides)
    with pytest.raises(pepperpy.ValidationError, match="did you mean 'top_k'"):
        client.complete("hi", model="claude-haiku-4-5", topk=3)
    with pytest.raises(pepperpy.ValidationError, match="did you mean 'num_ctx'"):
        client.complete("hi", model="ollama/llama3.2", num_ctxx=4096)
    with pytest.raises(pepperpy.ValidationError, match="did you mean 'dimensions'"):
        client.embed("hi", model="text-embedding-3-small", dimension=256)
    assert server.requests == []
    client.embed("hi", model="text-embedding-3-small", dimensions=256)
    client.complete("hi", model="ollama/llama3.2", num_ctx=4096)
    assert server.requests[0].json["dimensions"] == 256 and server.requests[1].json["options"]["num_ctx"] == 4096
