"""Fixtures of the async tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from raw_server import RawServer


@pytest.fixture
def raw() -> Iterator[Callable[..., RawServer]]:
    """``raw(answers, **options)``: a RawServer, closed after the test."""
    made: list[RawServer] = []

    def start(answers: list[bytes], **kw: Any) -> RawServer:
        made.append(RawServer(answers, **kw))
        return made[-1]

    yield start
    for server in made:
        server.close()
