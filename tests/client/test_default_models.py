"""Per-mode default models (seed 003's per-feature defaults): ``PEPPERPY_DEFAULT_<MODE>_MODEL`` lets ``model=`` be
left out of a call of that mode, blocking and async alike; with no default, leaving it out is a
ConfigurationError that names the variable, and nothing is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.config import default_model_var
from pepperpy.testing import FakeProviderServer, server_environ

DEFAULTS = {"chat": "gpt-4o-mini", "embedding": "text-embedding-3-small", "image": "gpt-image-2.6-flare",
            "speech": "gemini-3.8-flash-tts", "transcription": "gpt-transcribe",
            "video": "veo-3.1-fast-generate-preview"}


@pytest.fixture
def client(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[pepperpy.Client]:
    for name, value in server_environ(server).items():
        monkeypatch.setenv(name, value)
    with pepperpy.Client(env_file=None, use_keyring=False) as c:
        yield c


@pytest.fixture
def audio(tmp_path: Path) -> Path:
    path = tmp_path / "note.mp3"
    path.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8)
    return path


def calls(client: pepperpy.Client, audio: Path) -> dict[str, list[tuple[str, Callable[[], Any]]]]:
    """Every call that may leave out ``model=``, by mode, with the name of the model it used."""
    def model_of(result: Any) -> str:
        return str(getattr(result, "model", None) or result[0].model)

    return {
        "chat": [
            ("complete", lambda: client.complete("hi").model),
            ("stream", lambda: "".join(c.text for c in client.stream("hi")) and "gpt-4o-mini"),
            ("run", lambda: client.run("hi", tools=[len]).model),
            ("count_tokens", lambda: client.count_tokens("hi").tokens > 0 and "gpt-4o-mini"),
            ("map", lambda: model_of(client.map(["a", "b"]))),
            ("acomplete", lambda: asyncio.run(client.acomplete("hi")).model),
            ("arun", lambda: asyncio.run(client.arun("hi", tools=[len])).model),
            ("astream", lambda: asyncio.run(_drain(client.astream("hi"))) and "gpt-4o-mini"),
        ],
        "embedding": [("embed", lambda: client.embed(["a", "b"]).model),
                      ("aembed", lambda: asyncio.run(client.aembed("a")).model)],
        "image": [("generate_image", lambda: client.generate_image("a kite").model),
                  ("agenerate_image", lambda: asyncio.run(client.agenerate_image("a kite")).model)],
        "speech": [("synthesize", lambda: client.synthesize("hello").model),
                   ("synthesize_stream", lambda: _stream_model(client.synthesize_stream("hello"))),
                   ("asynthesize", lambda: asyncio.run(client.asynthesize("hello")).model)],
        "transcription": [("transcribe", lambda: client.transcribe(audio).model),
                          ("transcribe_stream", lambda: _stream_model(client.transcribe_stream(audio))),
                          ("atranscribe", lambda: asyncio.run(client.atranscribe(audio)).model)],
        "video": [("generate_video", lambda: client.generate_video("waves").id.startswith("video:") and
                   "veo-3.1-fast-generate-preview")],
    }


async def _drain(stream: Any) -> str:
    return "".join([chunk.text async for chunk in stream])


def _stream_model(stream: Any) -> str:
    with stream:
        for _ in stream:
            pass
    return str(stream.model)


def test_every_mode_without_a_default_names_its_variable(client: pepperpy.Client, audio: Path,
                                                         server: FakeProviderServer) -> None:
    for mode, named in calls(client, audio).items():
        for method, call in named:
            with pytest.raises(pepperpy.ConfigurationError,
                               match=f"no model given, and no default {mode} model is set: pass model=.*"
                                     f"{default_model_var(mode)}") as info:
                call()
            assert "defaults." + mode in str(info.value), method
    assert server.requests == []
    with pytest.raises(pepperpy.ConfigurationError, match="PEPPERPY_DEFAULT_CHAT_MODEL"):
        client.batch(["a", "b"])


def test_every_mode_takes_its_default(client: pepperpy.Client, audio: Path, server: FakeProviderServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for mode, model in DEFAULTS.items():
        monkeypatch.setenv(default_model_var(mode), model)
    for mode, named in calls(client, audio).items():
        for method, call in named:
            assert call() in (DEFAULTS[mode], client.model(DEFAULTS[mode]).id), method
    assert {r.json.get("model") for r in server.requests if r.json and "model" in r.json} >= {
        "gpt-4o-mini", "text-embedding-3-small", "gpt-image-2.6-flare"}
    assert client.complete("hi", model="gpt-4.1").model == "gpt-4.1"  # a model given still wins


def test_the_realtime_default_is_read_for_the_realtime_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = pepperpy.Client(env_file=None, use_keyring=False).settings
    assert settings.mode_default("realtime") is None
    monkeypatch.setenv("PEPPERPY_DEFAULT_REALTIME_MODEL", "gpt-realtime")
    assert settings.mode_default("realtime") == ("gpt-realtime", "PEPPERPY_DEFAULT_REALTIME_MODEL")
    with pytest.raises(ValueError, match="no mode 'chatt'"):
        settings.mode_default("chatt")
