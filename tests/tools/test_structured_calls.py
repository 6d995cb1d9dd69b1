"""Must show 1: structured output on every dialect against the fake server (the request each wire gets is
checked), the repair round, and the final StructuredOutputError with every JSON path; streaming too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.dialects._structured import ANSWER_TOOL
from pepperpy.testing import FakeProviderServer
from tests.conftest import write_provider
from tests.tools.conftest import MODEL, model_of


@dataclass
class City:
    name: str
    population: int
    country: str = "unknown"


def sent(server: FakeProviderServer, index: int = -1) -> Any:
    return server.requests[index].json


def wire_schema(dialect: str, body: Any) -> Any:
    """The schema as each wire carries it (checks the dialect used its own mechanism)."""
    if dialect == "openai":
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["name"] == "City"
        assert body["response_format"]["json_schema"]["strict"] is True
        return body["response_format"]["json_schema"]["schema"]
    if dialect == "anthropic":
        assert "response_format" not in body
        return body["output_config"]["format"]["schema"]
    if dialect == "gemini":
        assert body["generationConfig"]["responseMimeType"] == "application/json"
        return body["generationConfig"]["responseJsonSchema"]
    assert dialect == "ollama"
    return body["format"]


def test_the_answer_is_parsed_into_the_dataclass(fake_client: pepperpy.Client, server: FakeProviderServer,
                                                 dialect: str) -> None:
    server.reply('{"name": "Lima", "population": 10000000, "country": null}')
    r = fake_client.complete("The largest city of Peru?", model=model_of(dialect), response_format=City)
    assert r.parsed == City("Lima", 10_000_000)
    assert r.text == '{"name": "Lima", "population": 10000000, "country": null}'
    schema = wire_schema(dialect, sent(server))
    assert schema["required"] == ["name", "population", "country"]  # strict: every key, optional ones nullable
    assert schema["additionalProperties"] is False
    assert schema["properties"]["country"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_a_schema_dict_and_the_fake_answering_by_itself(fake_client: pepperpy.Client, dialect: str) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer", "enum": [4]}}, "required": ["answer"]}
    r = fake_client.complete("2+2?", model=model_of(dialect), response_format=schema)
    assert r.parsed == {"answer": 4}  # the fake's sample of the schema: nothing was queued


def test_one_repair_round_then_the_answer(fake_client: pepperpy.Client, server: FakeProviderServer,
                                          dialect: str) -> None:
    server.reply('{"name": "Lima", "population": "ten million"}', usage=(10, 5))
    server.reply('{"name": "Lima", "population": 10000000}', usage=(30, 6))
    r = fake_client.complete("Largest city of Peru?", model=model_of(dialect), response_format=City)
    assert r.parsed == City("Lima", 10_000_000)
    assert (r.usage.input_tokens, r.usage.output_tokens) == (40, 11)
    assert len(server.requests) == 2
    repair = json.dumps(sent(server))
    assert "$.population: 'ten million' is not of type 'integer'" in repair
    assert "ten million" in repair  # the first answer is in the conversation


def test_after_the_repair_round_structured_output_error(fake_client: pepperpy.Client, server: FakeProviderServer,
                                                        dialect: str) -> None:
    server.reply('{"name": 1}')
    server.reply('{"name": 2, "population": -1.5, "extra": true}')
    with pytest.raises(pepperpy.StructuredOutputError) as info:
        fake_client.complete("City?", model=model_of(dialect), response_format=City)
    error = info.value
    assert isinstance(error, pepperpy.ValidationError)
    assert error.text == '{"name": 2, "population": -1.5, "extra": true}'
    assert error.errors == [("$", "Additional properties are not allowed ('extra' was unexpected)"),
                            ("$.name", "2 is not of type 'string'"),
                            ("$.population", "-1.5 is not of type 'integer'")]


def test_repair_rounds_zero_disables_the_repair(fake_client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply("not JSON at all")
    with pytest.raises(pepperpy.StructuredOutputError, match="not valid JSON"):
        fake_client.complete("City?", model=model_of("openai"), response_format=City, repair_rounds=0)
    assert len(server.requests) == 1


def test_stream_completion_parsed(fake_client: pepperpy.Client, server: FakeProviderServer, dialect: str) -> None:
    server.reply(chunks=['{"name": "Li', 'ma", "popula', 'tion": 10}'])
    with fake_client.stream("City?", model=model_of(dialect), response_format=City) as stream:
        text = "".join(chunk.text for chunk in stream)
    assert text == '{"name": "Lima", "population": 10}'
    assert stream.completion.parsed == City("Lima", 10)
    wire_schema(dialect, sent(server))

    server.reply(chunks=['{"name": ', '3}'])
    stream = fake_client.stream("City?", model=model_of(dialect), response_format=City)
    assert "".join(chunk.text for chunk in stream) == '{"name": 3}'  # the text streams as usual
    with pytest.raises(pepperpy.StructuredOutputError) as info:
        _ = stream.completion
    assert [path for path, _ in info.value.errors] == ["$", "$.name"]


@pytest.fixture
def tool_only_client(tmp_path: Path, server: FakeProviderServer) -> Iterator[pepperpy.Client]:
    """An Anthropic model with tools but no JSON output mode: its structured answers come through a tool."""
    folder = write_provider(tmp_path / "old", "f-old", "anthropic", server.base_url("anthropic"),
                            models=MODEL.replace("json_output, ", ""))
    with pepperpy.Client(catalog=folder, env_file=None, max_retries=0) as client:
        yield client


def test_anthropic_without_json_output_answers_through_a_forced_tool(tool_only_client: pepperpy.Client,
                                                                     server: FakeProviderServer) -> None:
    r = tool_only_client.complete("City?", model="f-old/fake-chat", response_format=City)
    assert r.parsed == City("City?", 0, "City?")  # the fake called the forced tool with a sample of its schema
    body = sent(server)
    assert body["tool_choice"] == {"type": "tool", "name": ANSWER_TOOL} and "output_config" not in body
    server.reply(tool_calls=[{"name": ANSWER_TOOL, "arguments": {"name": "Lima", "population": 9}}])
    assert tool_only_client.complete("City?", model="f-old/fake-chat", response_format=City).parsed == \
        City("Lima", 9)
    with tool_only_client.stream("City?", model="f-old/fake-chat", response_format=City) as stream:
        assert json.loads("".join(chunk.text for chunk in stream))["name"] == "City?"
    assert stream.completion.parsed.name == "City?"


def test_stackspot_gets_the_schema_in_its_prompt(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"STACKSPOT_CLIENT_ID": "id", "STACKSPOT_CLIENT_SECRET": "secret",
                        "STACKSPOT_REALM": "realm"}.items():
        monkeypatch.setenv(name, value)
    overrides = {"base_url": server.base_url("stackspot"),
                 "options": {"auth_url": server.url + "/{realm}/oidc/oauth/token"}}
    with pepperpy.Client(env_file=None, max_retries=0, providers={"stackspot": overrides}) as client:
        model = "stackspot/01JCITYAGENT"  # an agent's id (the catalog's own entry is a placeholder)
        server.reply('{"name": "Lima", "population": 10}')
        r = client.complete("Largest city of Peru?", model=model, response_format=City)
    assert r.parsed == City("Lima", 10)
    body = sent(server)
    assert "response_format" not in body
    assert "It must match this JSON Schema:\n" in body["user_prompt"] and '"population"' in body["user_prompt"]
    assert body["user_prompt"].endswith("User: Largest city of Peru?")
