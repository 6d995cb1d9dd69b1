"""The media values: saving whole or not at all, Jupyter displays, reprs without bytes, WAV headers, prices."""

from __future__ import annotations

from pathlib import Path

import pytest

import pepperpy
from pepperpy.media import AudioStream, Image, pcm_rate, wav_from_pcm
from pepperpy.types import Pricing, Usage

PNG = b"\x89PNG\r\n\x1a\n" + bytes(20)
JPEG = b"\xff\xd8\xff" + bytes(20)


def test_an_image_saves_with_its_extension_and_shows_inline(tmp_path: Path) -> None:
    png, jpeg = pepperpy.Image(PNG, "image/png"), pepperpy.Image(JPEG, "image/jpeg", revised_prompt='a "kite"')
    assert png.save(tmp_path / "kite") == tmp_path / "kite.png" and (tmp_path / "kite.png").read_bytes() == PNG
    assert jpeg.save(tmp_path / "photo.jpeg").read_bytes() == JPEG  # an extension given is kept
    assert (png._repr_png_(), png._repr_jpeg_()) == (PNG, None)
    assert (jpeg._repr_png_(), jpeg._repr_jpeg_()) == (None, JPEG)
    assert jpeg._repr_html_().startswith('<img src="data:image/jpeg;base64,/9j/') and 'alt="a &quot;kite&quot;"' in \
        jpeg._repr_html_()
    assert repr(png) == "Image(28 bytes, mime_type='image/png')" and "\\x89" not in repr(png)
    assert list(tmp_path.glob(".*part")) == []  # written whole through a temporary file


def test_images_save_one_or_numbered(tmp_path: Path) -> None:
    one = pepperpy.Images([pepperpy.Image(PNG)], model="m", provider="p", cost=0.01)
    two = pepperpy.Images([pepperpy.Image(PNG), pepperpy.Image(JPEG, "image/jpeg")], model="m", provider="p")
    assert one.save(tmp_path / "a.png") == [tmp_path / "a.png"]
    assert two.save(tmp_path / "b.png") == [tmp_path / "b-1.png", tmp_path / "b-2.png"]
    assert (len(two), two[1].mime_type, [i.mime_type for i in two]) == (2, "image/jpeg", ["image/png", "image/jpeg"])
    assert two.size_bytes == 51
    assert repr(two) == ("Images(2 images of 51 bytes, model='m', provider='p', "
                         "usage=Usage(input_tokens=0, output_tokens=0, total_tokens=0), cost=None)")
    assert repr(one).startswith("Images(1 image of 28 bytes,")  # one image, not "1 image(s)"
    assert one._repr_html_().count("<img") == 1 and "$0.010000" in one._repr_html_()


def test_speech_plays_in_jupyter_and_saves(tmp_path: Path) -> None:
    speech = pepperpy.Speech(b"ID3" + bytes(10), "audio/mpeg", "mp3", "tts-1", "openai", cost=0.0001)
    assert speech.save(tmp_path / "hello") == tmp_path / "hello.mp3"
    assert speech._repr_html_().startswith('<audio controls src="data:audio/mpeg;base64,SUQz')
    assert repr(speech) == ("Speech(13 bytes of mp3, model='tts-1', provider='openai', voice=None, "
                            "usage=Usage(input_tokens=0, output_tokens=0, total_tokens=0), cost=0.0001)")
    assert speech.size_bytes == 13
    assert speech.audio is speech.data  # the bytes are .data, as for Image and Video; .audio stays


def test_a_transcription_reads_as_its_text() -> None:
    text = pepperpy.Transcription("Hello.", "whisper-1", "openai", duration=2.5, cost=0.00025,
                                  segments=(pepperpy.Segment(0.0, 2.5, "Hello."),))
    assert str(text) == "Hello." and text._repr_markdown_() == "Hello.\n\n*openai/whisper-1 · 2.5 s · $0.000250*"


def test_wav_headers_and_pcm_rates() -> None:
    wav = wav_from_pcm(b"\x01\x00" * 100, 16000)
    assert wav[:4] == b"RIFF" and int.from_bytes(wav[4:8], "little") == 36 + 200 and wav[44:] == b"\x01\x00" * 100
    assert int.from_bytes(wav[24:28], "little") == 16000 and int.from_bytes(wav[40:44], "little") == 200
    header = wav_from_pcm(b"", streaming=True)
    assert len(header) == 44 and header[40:44] == (0xFFFFFFFF - 36).to_bytes(4, "little")
    assert pcm_rate("audio/L16;codec=pcm;rate=22050") == 22050 and pcm_rate("audio/pcm") == 24000


def test_an_audio_stream_saves_as_it_reads(tmp_path: Path) -> None:
    ended: list[tuple[bytes, bool, object]] = []
    closed: list[bool] = []
    stream = AudioStream(iter([b"ab", b"cd"]), model="m", provider="p", format="mp3", mime_type="audio/mpeg",
                         close=lambda: closed.append(True), on_end=lambda *args: ended.append(args) and None)
    assert stream.save(tmp_path / "out") == tmp_path / "out.mp3" and (tmp_path / "out.mp3").read_bytes() == b"abcd"
    assert ended == [(b"abcd", True, None)] and closed == [True] and repr(stream) == "<AudioStream p/m mp3 done>"
    assert stream.speech.data == b"abcd" and stream.speech.format == "mp3"  # the whole result, at the end


def test_per_image_prices() -> None:
    nested = Pricing(per_image={"low": {"1024x1024": 0.011, "1024x1536": 0.016}, "high": {"1024x1024": 0.167}})
    assert nested.image_price("1024x1536", "low") == 0.016 and nested.image_price("1024x1024", "high") == 0.167
    assert nested.image_price("1024x1024", None) is None  # which quality? unknown, so no price: never guessed
    assert nested.image_price("2048x2048", "low") is None
    flat = Pricing(per_image={"*": 0.02})
    assert flat.image_price(None, None) == 0.02 and flat.image_price("1k", "medium") == 0.02
    assert not flat.per_token and Pricing(input=1.0).per_token


def test_usage_splits_audio_and_image_input_for_pricing() -> None:
    pricing = Pricing(input=0.3, output=2.5, audio_input=1.0)
    usage = Usage(100, 10, input_audio_tokens=60, input_image_tokens=20)
    assert pricing.cost(usage) == pytest.approx((40 * 0.3 + 60 * 1.0 + 10 * 2.5) / 1e6)  # images at the text rate


def test_a_save_that_cannot_write_names_the_path_given_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"No such file or directory: '.*/missing/kite\.png'$"):
        Image(PNG).save(tmp_path / "missing" / "kite.png")  # not the name of a temporary file
    occupied = tmp_path / "kite.png"
    occupied.mkdir()  # the bytes are written, then the rename over the target fails
    with pytest.raises(OSError):
        Image(PNG).save(occupied)
    assert list(tmp_path.iterdir()) == [occupied] and list(occupied.iterdir()) == []
