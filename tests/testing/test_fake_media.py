"""Users test their media code offline: FakeAdapter (fake_providers) and FakeProviderServer serve the image,
speech and transcription endpoints with the same answers, decided once in pepperpy.testing._play."""

from __future__ import annotations

import base64

import pytest
import requests

import pepperpy
from pepperpy.testing import FakeAdapter, FakeProviderServer, Fault, fake_providers
from pepperpy.testing._media import png, speech_audio


def test_fake_providers_answers_every_media_method_in_process() -> None:
    client = pepperpy.Client(env_file=None)
    with fake_providers(client, replies=["hello world"]) as fake:
        assert client.transcribe(b"ID3" + bytes(97), model="gpt-transcribe").text == "hello world"
        image = client.generate_image("a kite", model="gpt-image-2.6-flare").images[0]
        speech = client.synthesize("hi there", model="gemini-3.8-flash-tts")
        drawn = client.generate_image("a kite", model="grok-imagine-image")  # a URL, downloaded from the fake
    assert image.data == png("a kite/0") and speech.audio[:4] == b"RIFF" and drawn.images[0].data == png("a kite/0")
    paths = [r.path for r in fake.requests]
    assert paths[:3] == ["/v1/audio/transcriptions", "/v1/images/generations",
                         "/v1beta/models/gemini-3.8-flash-tts:generateContent"]
    assert paths[-1].startswith("/fake-files/") and "authorization" not in fake.requests[-1].headers
    assert drawn.images[0].url.startswith("https://files.fake-provider.invalid/")


def test_both_fakes_render_the_same_media_answers() -> None:
    bodies = [("images/generations", {"model": "gpt-image-2.6-flare", "prompt": "a kite", "n": 2}),
              ("audio/speech", {"model": "tts-1", "input": "one two", "voice": "alloy", "response_format": "wav"})]
    adapter = FakeAdapter()
    session = requests.Session()
    session.mount("https://", adapter)
    with FakeProviderServer() as server:
        for path, body in bodies:
            local = session.post(f"https://api.openai.com/v1/{path}", json=body, timeout=5)
            remote = requests.post(f"{server.base_url('openai')}/{path}", json=body, timeout=5)
            assert local.status_code == remote.status_code == 200
            assert local.headers["content-type"] == remote.headers["content-type"]
            if path == "audio/speech":
                assert local.content == remote.content == speech_audio("one two", "wav")
            else:
                assert [d["b64_json"] for d in local.json()["data"]] == [d["b64_json"] for d in remote.json()["data"]]
                assert base64.b64decode(local.json()["data"][1]["b64_json"]) == png("a kite/1")


def test_native_errors_for_bad_media_requests_leave_the_queue_alone() -> None:
    adapter = FakeAdapter()
    session = requests.Session()
    session.mount("https://", adapter)
    adapter.reply("scripted transcript")
    answer = session.post("https://api.openai.com/v1/audio/speech", json={"model": "tts-1", "input": "x"})
    assert answer.status_code == 400 and answer.json()["error"]["message"] == "Missing required parameter: 'voice'."
    no_file = session.post("https://api.openai.com/v1/audio/transcriptions", files={"model": (None, "whisper-1")})
    assert no_file.status_code == 400 and "'file'" in no_file.json()["error"]["message"]
    assert adapter.pending == 1  # the Reply still waits for a good request


def test_faults_and_failures_on_media(monkeypatch: pytest.MonkeyPatch) -> None:
    client = pepperpy.Client(env_file=None, max_retries=0)
    with fake_providers(client) as fake:
        fake.fail(429, headers={"retry-after": "7"})
        with pytest.raises(pepperpy.RateLimitError) as info:
            client.generate_image("x", model="gpt-image-2.6-flare")
        assert info.value.retry_after == 7
        fake.fault(Fault.CUT_STREAM)
        with pytest.raises(pepperpy.StreamError):
            list(client.synthesize_stream("a b c", model="gemini-3.8-flash-tts"))
        fake.fault(Fault.RESET)
        with pytest.raises(pepperpy.ProviderConnectionError):
            client.transcribe(b"ID3" + bytes(10), model="gpt-transcribe")
