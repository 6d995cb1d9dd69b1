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
