"""Fixtures of the shared-state tests: one real redis-server for the session, and one per fault test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.shared.redis_server import RedisServer, require_client_library


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """The session's redis-server; never killed (fault tests use ``own_redis``). Tests keep apart by namespace."""
    require_client_library()
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server of this test alone, to kill, pause and restart."""
    require_client_library()
    with RedisServer(tmp_path_factory.mktemp("redis-own")) as server:
        yield server


@pytest.fixture
def namespace() -> str:
    """A namespace no other test uses, so tests can share the session's server in any order."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[Any]:
    """A plain client on the session's server, to look at what the shared state stored."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()
