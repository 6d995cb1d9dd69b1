"""``Completion.created``: when the answer was made, from the provider's own timestamp when its answer has one,
else from the clock; kept by both caches."""

from __future__ import annotations

import datetime
from pathlib import Path

import pepperpy
from pepperpy.shared.cache import decode, encode
from pepperpy.testing import FakeProviderServer
from pepperpy.types._answer import created_at
from tests.conftest import write_provider

UTC = datetime.timezone.utc


def test_the_providers_timestamp_or_the_clock() -> None:
    assert created_at(1_700_000_000) == datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)  # OpenAI's created
    assert created_at("2024-05-01T10:00:00.123456789Z") == datetime.datetime(2024, 5, 1, 10, 0, 0, 123456,
                                                                             tzinfo=UTC)  # Ollama's, nanoseconds
    assert created_at("2024-05-01T12:00:00+02:00") == datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)
    before = datetime.datetime.now(UTC)
    for missing in (None, "", "not a date", True, -5):
        moment = created_at(missing)
        assert moment.tzinfo is UTC and before <= moment <= datetime.datetime.now(UTC)


def test_calls_carry_it(client: pepperpy.Client, server: FakeProviderServer, tmp_path: Path) -> None:
    dated = client.complete("hi", model="local-chat")
    assert isinstance(dated.raw["created"], int)  # OpenAI's answer says when, in seconds
    assert dated.created == datetime.datetime.fromtimestamp(dated.raw["created"], UTC)
    before = datetime.datetime.now(UTC)
    streamed = client.stream("hi", model="local-chat")
    for _ in streamed:
        pass
    assert before <= streamed.completion.created <= datetime.datetime.now(UTC)  # type: ignore[operator]
    ollama = write_provider(tmp_path / "ollama-catalog", "lo", "ollama", server.base_url("ollama"),
                            models="- id: llama\n  mode: chat\n")
    with pepperpy.Client(catalog=ollama, env_file=None) as other:
        answer = other.complete("hi", model="lo/llama")
    assert answer.created == created_at(answer.raw["created_at"]) and answer.created.tzinfo is UTC  # Ollama's


def test_the_caches_keep_when_it_was_made(local_catalog: Path, server: FakeProviderServer) -> None:
    with pepperpy.Client(catalog=local_catalog, env_file=None, cache=True) as client:
        first = client.complete("same", model="local-chat")
        again = client.complete("same", model="local-chat")
    assert len(server.requests) == 1 and again.cached and again.created == first.created is not None
    shared = decode(encode(first) or "")
    assert shared is not None and shared.created == first.created and shared.cached
    stamp = first.created.timestamp()  # type: ignore[union-attr]
    old_entry = (encode(first) or "").replace(f',"created":{stamp!r}', "")
    assert decode(old_entry) is not None and decode(old_entry).created is None  # type: ignore[union-attr]
    assert first == pepperpy.Completion(first.text, first.model, first.provider, first.finish_reason, first.usage,
                                        first.cost, first.raw, False, (), first.request_id)  # not part of ==
