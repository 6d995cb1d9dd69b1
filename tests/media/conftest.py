"""Media tests: the packaged catalog's providers pointed at one loopback FakeProviderServer, with fake keys."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FAKE_API_KEY, FakeProviderServer, server_environ

WAV_HEADER = b"RIFF\x24\x00\x00\x00WAVEfmt "


@pytest.fixture
def media(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[pepperpy.Client]:
    """A Client of the packaged catalog whose providers all answer from ``server``."""
    for name, value in server_environ(server).items():
        monkeypatch.setenv(name, value)
    with pepperpy.Client(env_file=None) as client:
        yield client


@pytest.fixture
def make_client(server: FakeProviderServer,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., pepperpy.Client]]:
    """Clients with options (retries, breakers, cache...) on the same fake providers."""
    for name, value in server_environ(server).items():
        monkeypatch.setenv(name, value)
    made: list[pepperpy.Client] = []

    def make(**options: Any) -> pepperpy.Client:
        client = pepperpy.Client(env_file=None, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def audio_file(tmp_path: Path) -> Path:
    """A small mp3-looking file (the fakes read only its size and name)."""
    path = tmp_path / "note.mp3"
    path.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 125)  # 32,010 bytes
    return path


def retiring(call: Callable[[], Any]) -> Any:
    """Call with a model the provider retires (OpenAI's speech and older transcription models): pepperpy warns
    once per Client, which the suite otherwise turns into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return call()


KEY = FAKE_API_KEY
