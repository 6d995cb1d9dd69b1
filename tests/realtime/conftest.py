"""Fixtures of the realtime tests: a FakeRealtimeServer on loopback and Clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from realtime_helpers import GEMINI_KEY, OPENAI_KEY

import pepperpy
from pepperpy.testing import FakeRealtimeServer


@pytest.fixture
def fake() -> Iterator[FakeRealtimeServer]:
    with FakeRealtimeServer() as server:
        yield server


@pytest.fixture
def make_client(fake: FakeRealtimeServer) -> Iterator[Callable[..., pepperpy.Client]]:
    made: list[pepperpy.Client] = []

    def make(**options: Any) -> pepperpy.Client:
        providers = {"openai": {"base_url": fake.base_url("openai")}, "gemini": {"base_url": fake.base_url("gemini")}}
        client = pepperpy.Client(env_file=None, api_keys={"openai": OPENAI_KEY, "gemini": GEMINI_KEY},
                                 providers=providers, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., pepperpy.Client]) -> pepperpy.Client:
    return make_client()
