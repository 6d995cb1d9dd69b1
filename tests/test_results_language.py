"""Issue 24 item 7: one language for results. Every result carries model, provider, usage, cost, raw, request_id and
cached; the bytes of Image, Speech and Video are ``.data``; streams of every kind end with their whole result, with
usage and cost; one repr style, with right plurals."""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.jobs.helpers import FakeClock, job_client
from tests.observe.test_one_ledger import wav

COMMON = ("model", "provider", "usage", "cost", "raw", "request_id", "cached")
RESULTS = (pepperpy.Completion, pepperpy.Embeddings, pepperpy.Images, pepperpy.Speech, pepperpy.Transcription,
           pepperpy.Video)


@pytest.fixture
def client(server: FakeProviderServer) -> Iterator[pepperpy.Client]:
    clock = FakeClock()
    with job_client(server, retry_policy=pepperpy.RetryPolicy(sleep=clock.sleep, clock=clock)) as c:
        yield c


@pytest.mark.parametrize("kind", RESULTS, ids=lambda kind: kind.__name__)
def test_every_result_carries_the_same_fields(kind: type) -> None:
    names = {field.name for field in dataclasses.fields(kind)}
    assert set(COMMON) <= names, set(COMMON) - names


def test_the_bytes_are_data_everywhere() -> None:
    speech = pepperpy.Speech(b"ID3", "audio/mpeg", "mp3", "tts-1", "openai")
    video = pepperpy.Video(b"\x00\x00\x00\x18ftyp", "video/mp4", "veo", "gemini")
    image = pepperpy.Image(b"\x89PNG")
    assert (image.data, speech.data, video.data) == (b"\x89PNG", b"ID3", b"\x00\x00\x00\x18ftyp")
    assert speech.audio is speech.data  # the name it had first, kept


def test_streams_of_every_kind_end_with_their_whole_result(client: pepperpy.Client) -> None:
    with client.stream("hi", model="gpt-4o-mini") as chat:
        "".join(chunk.text for chunk in chat)
    with client.synthesize_stream("hi there", model="gemini-3.8-flash-tts") as audio:
        pieces = b"".join(audio)
    with client.transcribe_stream(io.BytesIO(wav(1)), model="gemini-3.8-flash") as words:
        "".join(words)
    ends = [chat.completion, audio.speech, words.transcription]
    assert [type(end) for end in ends] == [pepperpy.Completion, pepperpy.Speech, pepperpy.Transcription]
    for end in ends:
        assert end.usage.total_tokens > 0 and end.cost is not None and end.cost > 0, end
    assert audio.speech.data == pieces and audio.speech.request_id is not None


def test_one_repr_style_with_right_plurals(client: pepperpy.Client) -> None:
    one = client.embed(["a"], model="text-embedding-3-small")
    image = client.generate_image("kite", model="gpt-image-2.6-flare", quality="low", size="1024x1024")
    speech = client.synthesize("hi", model="gemini-3.8-flash-tts")
    text = client.transcribe(wav(1), model="gpt-transcribe")
    answer = client.complete("hi", model="gpt-4o-mini")
    job = client.generate_video("kite", model="veo-3.1-fast-generate-preview", seconds=4)
    job.wait(poll=0)
    video = job.result()
    for result in (answer, one, image, speech, text, video):
        shown = repr(result)
        assert re.match(rf"{type(result).__name__}\(", shown), shown  # Name(...), never <Name ...>
        assert f"model={result.model!r}, provider={result.provider!r}" in shown and "cost=" in shown, shown
        assert "usage=Usage(input_tokens=" in shown, shown
    assert "1 vector ×" in repr(one) and "1 vectors" not in repr(one)
    assert repr(image).startswith("Images(1 image of ") and "image(s)" not in repr(image)
    assert repr(image.images[0]).startswith("Image(") and repr(speech).startswith("Speech(")
    assert "bytes of video/mp4, 4 s" in repr(video)
    usage = repr(answer.usage)
    assert usage.startswith("Usage(input_tokens=") and "reasoning_tokens=0" not in usage  # zeros left out
    assert all(isinstance(getattr(result, "raw", None), (dict, str, type(None))) for result in (one, image, video))
    assert isinstance(speech.raw, dict) and "candidates" in speech.raw  # Speech has its raw answer too
    assert repr(client.usage()).startswith("UsageReport(")


def test_an_image_result_says_what_was_made(client: pepperpy.Client) -> Any:
    image = client.generate_image("kite", model="gpt-image-2.6-flare", quality="low", size="1024x1024")
    assert (image.size, image.quality) == ("1024x1024", "low") and image.request_id is not None
