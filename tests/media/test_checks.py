"""Bad media calls fail before anything is sent or uploaded, with a typed error that says how to fix them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.media.conftest import retiring


@pytest.mark.parametrize(("call", "needs", "example"), [
    (lambda c: c.generate_image("x", model="gpt-6.1-terra"), "generate_image\\(\\) needs an image model",
     "openai/gpt-image"),
    (lambda c: c.synthesize("x", model="gpt-image-2.6-flare"), "is an image model; synthesize\\(\\) needs a speech",
     "openai/tts-1"),
    (lambda c: c.transcribe(b"ID3....", model="text-embedding-3-small"),
     "is an embedding model; transcribe\\(\\) needs a transcription", "openai/gpt-transcribe"),
    (lambda c: c.transcribe(b"ID3....", model="gemini-nano-banana-2.1"), "is an image model", "transcription"),
    (lambda c: c.generate_image("x", model="gemini-3.8-flash-tts"), "is a speech model", "gemini/gemini-nano-banana"),
])
def test_a_model_of_another_mode_is_refused_naming_one_that_fits(media: pepperpy.Client, server: FakeProviderServer,
                                                                call: object, needs: str, example: str) -> None:
    with pytest.raises(pepperpy.ValidationError, match=needs) as info:
        call(media)  # type: ignore[operator]
    assert example in str(info.value) and info.value.param == "model"
    assert server.requests == []


def test_chat_models_cannot_be_told_to_draw_or_speak(media: pepperpy.Client) -> None:
    with pytest.raises(pepperpy.ValidationError, match="is a chat model"):
        media.synthesize("x", model="gemini-3.8-flash")
    with pytest.raises(pepperpy.ValidationError, match=r"an image model; use client\.generate_image\(\), or a chat"):
        media.complete("x", model="gpt-image-2.6-flare")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"voice": "Bob"}, r"voice='Bob' is not available for openai/tts-1; allowed: alloy, ash, .*cedar"),
    ({"voice": "ALLOY"}, r"did you mean 'alloy'\?"),
    ({"format": "ogg"}, r"format='ogg' is not available for openai/tts-1; allowed: mp3, opus, aac, flac, wav, pcm"),
    ({"speed": 9}, r"speed=9 is out of range for openai/tts-1: allowed 0.25..4"),
    ({"instructions": "whisper"}, "does not accept instructions"),
])
def test_speech_values_outside_the_catalog(media: pepperpy.Client, server: FakeProviderServer,
                                           kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(pepperpy.ValidationError, match=message):
        retiring(lambda: media.synthesize("hi", model="tts-1", **kwargs))
    assert server.requests == []


def test_image_sizes_qualities_and_counts(media: pepperpy.Client, server: FakeProviderServer) -> None:
    with pytest.raises(pepperpy.ValidationError, match=r"size='512x512' is not available.*auto, 1024x1024"):
        retiring(lambda: media.generate_image("x", model="gpt-image-1-mini", size="512x512"))
    with pytest.raises(pepperpy.ValidationError, match=r"quality='hd'.*auto, low, medium, high"):
        retiring(lambda: media.generate_image("x", model="gpt-image-1-mini", quality="hd"))
    with pytest.raises(pepperpy.ValidationError, match=r"size='1024x1024' is not available.*1K, 2K, 4K"):
        media.generate_image("x", model="gemini-nano-banana-2.1", size="1024x1024")
    with pytest.raises(pepperpy.ValidationError, match=r"n=2 is out of range for gemini/gemini-nano-banana-2.1"):
        media.generate_image("x", model="gemini-nano-banana-2.1", n=2)
    with pytest.raises(pepperpy.ValidationError, match="does not accept size"):
        media.generate_image("x", model="grok-imagine-image", size="1024x1024")
    with pytest.raises(pepperpy.ValidationError, match="n must be a whole number of at least 1"):
        media.generate_image("x", model="gpt-image-2.6-flare", n=0)
    with pytest.raises(pepperpy.ValidationError, match="prompt must be a non-empty string"):
        media.generate_image("  ", model="gpt-image-2.6-flare")
    assert server.requests == []


@pytest.mark.parametrize(("call", "message"), [
    (lambda c: c.synthesize("x", model="gemini-3.8-flash-tts", format=["wav"]),
     r"format must be a string such as 'wav'"),
    (lambda c: c.synthesize("x", model="tts-1", voice=3), r"voice must be a string such as 'alloy'"),
    (lambda c: c.generate_image("x", model="gpt-image-1-mini", size=1024), r"size must be a string such as 'auto'"),
    (lambda c: c.generate_image("x", model="gpt-image-1-mini", quality=1), r"quality must be a string such as 'auto'"),
])
def test_values_that_are_not_strings_are_refused(media: pepperpy.Client, server: FakeProviderServer, call: object,
                                                 message: str) -> None:
    with pytest.raises(pepperpy.ValidationError, match=message):
        retiring(lambda: call(media))  # type: ignore[operator]
    assert server.requests == []  # once sent as they were, a list format even came back as a broken Speech


def test_a_custom_voice_object_still_goes_through(media: pepperpy.Client, server: FakeProviderServer) -> None:
    retiring(lambda: media.synthesize("x", model="gpt-4o-mini-tts", voice={"id": "voice_1234"}))  # OpenAI's VoiceID
    assert server.requests[-1].json["voice"] == {"id": "voice_1234"}


def test_files_are_checked_before_anything_is_sent(media: pepperpy.Client, server: FakeProviderServer,
                                                   tmp_path: Path) -> None:
    with pytest.raises(pepperpy.ValidationError, match=r"audio '.*missing.m4a': no such file"):
        media.transcribe(tmp_path / "missing.m4a", model="gpt-transcribe")
    big = tmp_path / "meeting.wav"
    with big.open("wb") as handle:
        handle.truncate(25_000_001)  # one byte over, without writing 25 MB
    with pytest.raises(pepperpy.ValidationError, match=r"audio meeting.wav is 25.0 MB, over the openai upload "
                                                       r"limit of 25.0 MB") as info:
        media.transcribe(big, model="gpt-transcribe")
    assert info.value.param == "audio"
    with pytest.raises(pepperpy.ValidationError, match=r"over the gemini upload limit of 15\.0 MB"):
        media.transcribe(big, model="gemini-3.8-flash")  # inline audio: a 20 MB request, base64 included
    with pytest.raises(pepperpy.ValidationError, match=r"image '.*nope.png': no such file"):
        media.generate_image("x", model="gpt-image-2.6-flare", image=tmp_path / "nope.png")
    with pytest.raises(pepperpy.ValidationError, match="text-mode file"):
        media.transcribe(open(big, encoding="latin-1"), model="gpt-transcribe")  # noqa: SIM115
    assert server.requests == []


def test_an_unknown_model_and_client_options_per_call(media: pepperpy.Client, server: FakeProviderServer) -> None:
    with pytest.raises(pepperpy.ModelNotFoundError, match=r"gpt-image-2\.6-flare"):
        media.generate_image("x", model="gpt-image-2.6-flair")
    with pytest.raises(pepperpy.ValidationError, match="api_key is not a request parameter"):
        media.generate_image("x", model="gpt-image-2.6-flare", api_key="sk-secret-abcdefgh")
    assert server.requests == []


def test_a_retiring_model_warns_once_naming_current_ones(media: pepperpy.Client) -> None:
    with pytest.warns(FutureWarning, match=r"openai/whisper-1 is deprecated: its provider retires it on 2027-02-26; "
                                           r"consider openai/gpt-transcribe"):
        media.transcribe(b"ID3" + bytes(100), model="whisper-1")


@pytest.mark.parametrize(("call", "typo", "meant"), [
    (lambda c, **kw: c.synthesize("hi", model="gemini-3.8-flash-tts", **kw), "voic", "voice"),
    (lambda c, **kw: c.synthesize("hi", model="gemini-3.8-flash-tts", **kw), "fromat", "format"),
    (lambda c, **kw: c.synthesize_stream("hi", model="gemini-3.8-flash-tts", **kw), "speakrs", "speakers"),
    (lambda c, **kw: c.transcribe(b"ID3....", model="gpt-transcribe", **kw), "langauge", "language"),
    (lambda c, **kw: c.transcribe(b"ID3....", model="gpt-transcribe", **kw), "promt", "prompt"),
    (lambda c, **kw: c.transcribe(b"ID3....", model="gpt-transcribe", **kw), "respone_format", "response_format"),
    (lambda c, **kw: c.transcribe_stream(b"ID3....", model="gpt-transcribe", **kw), "langage", "language"),
    (lambda c, **kw: c.generate_image("kite", model="gpt-image-2.6-flare", **kw), "szie", "size"),
    (lambda c, **kw: c.generate_image("kite", model="gpt-image-2.6-flare", **kw), "qualty", "quality"),
    (lambda c, **kw: c.generate_image("kite", model="gpt-image-2.6-flare", **kw), "backgound", "background"),
    (lambda c, **kw: c.generate_image("kite", model="gemini-nano-banana-2.1", **kw), "aspect_ration", "aspect_ratio"),
])
def test_a_misspelt_media_parameter_is_refused_with_the_suggestion(media: pepperpy.Client, server: FakeProviderServer,
                                                                   call: Any, typo: str, meant: str) -> None:
    with pytest.raises(pepperpy.ValidationError, match=f"'{typo}' is not a parameter of .*did you mean '{meant}'"):
        call(media, **{typo: "x"})
    assert server.requests == []


def test_the_media_parameters_providers_take_are_sent_as_they_are(media: pepperpy.Client,
                                                                  server: FakeProviderServer) -> None:
    retiring(lambda: media.synthesize("hi", model="gpt-4o-mini-tts", voice="alloy", speed=1.2,
                                      instructions="calm", stream_format="audio"))
    media.synthesize("hi", model="gemini-3.8-flash-tts", speakers={"A": "Kore", "B": "Puck"}, seed=3)
    media.transcribe(b"ID3....", model="gpt-transcribe", response_format="json", temperature=0.2,
                     include=["logprobs"], chunking_strategy="auto")
    media.generate_image("kite", model="gpt-image-2.6-flare", background="transparent", output_format="png",
                         moderation="low", output_compression=80, user="u1")
    media.generate_image("kite", model="gemini-nano-banana-2.1", aspect_ratio="16:9")
    assert len(server.requests) == 5
