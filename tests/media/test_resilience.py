"""Media calls get chat's resilience: retries that resend an upload whole, breakers, fallbacks to a model of
the same mode, total_timeout, the response cache, and audit records with sizes, never bytes."""

from __future__ import annotations

import base64
import io
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import responses

import pepperpy
from pepperpy.resilience.retry import RetryPolicy
from pepperpy.testing import FakeProviderServer, Fault
from pepperpy.testing._media import png
from tests.media.conftest import retiring

MakeClient = Callable[..., pepperpy.Client]


def no_wait(**options: Any) -> RetryPolicy:
    return RetryPolicy(sleep=lambda seconds: None, **options)


@pytest.mark.parametrize("kind", ["path", "file object", "bytes"])
def test_a_retry_resends_the_whole_upload(make_client: MakeClient, server: FakeProviderServer, audio_file: Path,
                                          kind: str) -> None:
    source: Any = {"path": audio_file, "file object": audio_file.open("rb"),
                   "bytes": audio_file.read_bytes()}[kind]
    server.fail(503, times=2)
    result = make_client(retry_policy=no_wait(max_retries=2)).transcribe(source, model="gpt-transcribe")
    bodies = [request.body for request in server.requests]
    assert len(bodies) == 3 and bodies[0] == bodies[1] == bodies[2]  # every attempt sent every byte
    assert server.requests[-1].files("file")[0].data == audio_file.read_bytes()
    assert result.text.startswith("fake transcript")


def test_a_retry_after_a_reset_mid_upload(make_client: MakeClient, server: FakeProviderServer,
                                          tmp_path: Path) -> None:
    image = tmp_path / "in.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(300_000))
    server.fault(Fault.RESET)
    client = make_client(retry_policy=no_wait(max_retries=1))
    result = client.generate_image("edit", model="gpt-image-2.6-flare", image=image)
    assert server.requests[-1].files("image")[0].data == image.read_bytes() and len(result) == 1


def test_the_breaker_opens_on_media_failures(make_client: MakeClient, server: FakeProviderServer) -> None:
    client = make_client(max_retries=0, breaker={"fail_max": 2, "reset_timeout": 60})
    server.fail(500, times=2)
    for _ in range(2):
        with pytest.raises(pepperpy.ProviderUnavailableError):
            client.generate_image("x", model="gpt-image-2.6-flare")
    with pytest.raises(pepperpy.CircuitOpenError):
        client.generate_image("x", model="gpt-image-2.6-flare")
    assert len(server.requests) == 2 and client.breaker_state("openai") == "open"


def test_fallbacks_go_to_a_model_of_the_same_mode(make_client: MakeClient, server: FakeProviderServer) -> None:
    client = make_client(max_retries=0)
    server.fail(503)
    result = client.generate_image("a kite", model="gpt-image-2.6-flare",
                                   fallbacks=["gpt-6.1-terra", "gemini-nano-banana-2.1"])
    assert result.provider == "gemini" and result.model == "gemini-nano-banana-2.1"
    assert [r.path for r in server.requests] == ["/v1/images/generations",
                                                 "/v1beta/models/gemini-nano-banana-2.1:generateContent"]
    server.fail(503)
    speech = client.synthesize("hi", model="gemini-3.8-flash-tts", fallbacks=["gemini-3.8-flash-lite-tts"])
    assert speech.model == "gemini-3.8-flash-lite-tts" and speech.audio[:4] == b"RIFF"


class _Pipe(io.RawIOBase):
    """Audio piped in (not seekable): it can be read once only."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


@pytest.mark.parametrize("kind", ["path", "file object", "pipe", "bytes"])
def test_a_fallback_sends_the_same_upload(make_client: MakeClient, server: FakeProviderServer, audio_file: Path,
                                          kind: str) -> None:
    data = audio_file.read_bytes()
    source: Any = {"path": audio_file, "file object": audio_file.open("rb"), "pipe": _Pipe(data),
                   "bytes": data}[kind]
    server.fail(503)  # the first model's provider is down: the file goes to the fallback, whole
    result = make_client(max_retries=0).transcribe(source, model="gpt-transcribe",
                                                   fallbacks=["groq/whisper-large-v3-turbo"])
    assert result.provider == "groq" and result.text.startswith("fake transcript")
    assert [r.files("file")[0].data for r in server.requests] == [data, data]
    image = audio_file.with_name("in.png")
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(3000))
    source = {"path": image, "file object": image.open("rb"), "pipe": _Pipe(image.read_bytes()),
              "bytes": image.read_bytes()}[kind]
    server.fail(503)
    edited = make_client(max_retries=0).generate_image("edit", model="gpt-image-2.6-flare", image=source,
                                                       fallbacks=["gemini-nano-banana-2.1"])
    assert edited.provider == "gemini"
    sent = server.requests[-1].json["contents"][0]["parts"][1]["inlineData"]["data"]
    assert base64.b64decode(sent) == image.read_bytes()


def test_total_timeout_bounds_a_media_call(make_client: MakeClient, server: FakeProviderServer) -> None:
    server.fault(Fault.hang(3.0))
    client = make_client(total_timeout=0.4, max_retries=3)
    start = time.monotonic()
    with pytest.raises(pepperpy.ProviderTimeoutError):
        client.synthesize("hi", model="gemini-3.8-flash-tts")
    assert time.monotonic() - start < 2.0


def test_identical_image_and_speech_requests_come_from_the_cache(make_client: MakeClient,
                                                                 server: FakeProviderServer, audio_file: Path) -> None:
    client = make_client(cache=True)
    first = client.generate_image("a kite", model="gpt-image-2.6-flare")
    second = client.generate_image("a kite", model="gpt-image-2.6-flare")
    assert (first.cached, second.cached) == (False, True) and second.images[0].data == first.images[0].data
    second.images.clear()  # a caller's change never reaches the cache
    assert len(client.generate_image("a kite", model="gpt-image-2.6-flare")) == 1
    client.synthesize("hello", model="gemini-3.8-flash-tts")
    again = client.synthesize("hello", model="gemini-3.8-flash-tts")
    assert again.cached and len(server.requests) == 2
    client.synthesize("hello", model="gemini-3.8-flash-tts", cache=False)
    assert len(server.requests) == 3
    for _ in range(2):  # uploads are never cached: the file is not in the key
        client.transcribe(audio_file, model="gpt-transcribe")
    assert len(server.requests) == 5 and client.cache_info().hits == 3


def records(caplog: pytest.LogCaptureFixture) -> list[Any]:
    return [r for r in caplog.records if r.name == "pepperpy.audit"]


def test_audit_records_carry_sizes_never_bytes(make_client: MakeClient, server: FakeProviderServer,
                                               audio_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pepperpy")
    client = make_client(log_content=True)
    client.transcribe(audio_file, model="gemini-3.8-flash")  # the audio travels as base64 in the JSON body
    image = client.generate_image("a kite", model="gpt-image-2.6-flare", image=audio_file.read_bytes()[:100])
    with client.synthesize_stream("one two", model="gemini-3.8-flash-tts") as audio:
        received = sum(len(piece) for piece in audio)
    transcribe, draw, speak = records(caplog)
    assert (transcribe.op, transcribe.input_bytes, transcribe.output_bytes) == ("transcribe", 32_010, None)
    assert transcribe.prompt == {"audio": "note.mp3", "audio_bytes": 32_010, "prompt": None}
    assert transcribe.output.startswith("fake transcript")
    assert (draw.op, draw.input_bytes, draw.output_bytes) == ("generate_image", 100, image.size_bytes)
    assert draw.prompt == {"prompt": "a kite", "image_bytes": [100]} and draw.output is None
    assert (speak.op, speak.status, speak.output_bytes) == ("synthesize_stream", "ok", received)
    text = " ".join(str(vars(r)) for r in records(caplog))
    assert "inlineData" not in text and "b64_json" not in text and "SUQz" not in text  # no base64 of the audio


def test_a_speech_stream_left_early_is_audited_as_closed(make_client: MakeClient, server: FakeProviderServer,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pepperpy")
    client = make_client()
    with retiring(lambda: client.synthesize_stream("a b c d e f g h", model="tts-1")) as audio:
        next(audio)
    (record,) = records(caplog)
    assert record.op == "synthesize_stream" and record.status == "closed"


def test_async_twins_and_module_functions(make_client: MakeClient, server: FakeProviderServer,
                                          audio_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    client = make_client()

    async def main() -> tuple[Any, Any, Any]:
        return await asyncio.gather(client.agenerate_image("a kite", model="gpt-image-2.6-flare"),
                                    client.asynthesize("hi", model="gemini-3.8-flash-tts"),
                                    client.atranscribe(io.BytesIO(audio_file.read_bytes()), model="gpt-transcribe"))

    image, speech, text = asyncio.run(main())
    assert len(image) == 1 and speech.format == "wav" and text.text.startswith("fake transcript of audio.mp3")
    pepperpy.reset_default_client()
    assert len(pepperpy.generate_image("a kite", model="gpt-image-2.6-flare")) == 1
    assert pepperpy.synthesize("hi", model="gemini-3.8-flash-tts").audio[:4] == b"RIFF"
    assert pepperpy.transcribe(audio_file, model="gpt-transcribe").text.endswith("(32,010 bytes)")


def test_usage_totals_hooks_and_a_budget_see_media_calls(make_client: MakeClient, server: FakeProviderServer,
                                                         audio_file: Path) -> None:
    client = make_client(budget=1.00)
    seen: list[tuple[str, str, float | None]] = []
    client.on("response", lambda event: seen.append((event.model, event.status, event.cost)))
    image = client.generate_image("a kite", model="gpt-image-2.6-flare")
    text = client.transcribe(audio_file, model="gpt-transcribe")
    with client.synthesize_stream("a b", model="gemini-3.8-flash-tts") as audio:
        list(audio)
    report = client.usage()
    assert report["openai/gpt-image-2.6-flare"].cost == pytest.approx(image.cost)
    assert report["openai/gpt-transcribe"].calls == 1 and report["openai/gpt-transcribe"].cost == pytest.approx(
        text.cost)
    assert report["gemini/gemini-3.8-flash-tts"].calls == 1
    assert [(model, status) for model, status, _ in seen] == [
        ("gpt-image-2.6-flare", "ok"), ("gpt-transcribe", "ok"), ("gemini-3.8-flash-tts", "ok")]


@responses.activate
def test_an_image_url_whose_download_fails_once_is_fetched_again_not_drawn_again() -> None:
    url = "https://imgen.x.ai/xai-imgen/kite.png"  # xAI answers URLs; the download is a request of its own
    responses.post("https://api.x.ai/v1/images/generations", json={"data": [{"url": url}]})
    responses.get(url, status=503)
    responses.get(url, body=png("kite"), content_type="image/png")
    with pepperpy.Client(env_file=None, api_keys={"xai": "xai-test-key", "gemini": "g-test-key"},
                         retry_policy=no_wait(max_retries=2)) as client:
        result = client.generate_image("a kite", model="grok-imagine-image", fallbacks=["gemini-nano-banana-2.1"])
    assert (result.provider, result.images[0].data) == ("xai", png("kite"))  # not a second image, billed again
    assert [call.request.url for call in responses.calls] == ["https://api.x.ai/v1/images/generations", url, url]
    assert all("xai-test-key" not in str(call.request.headers) for call in responses.calls[1:])
