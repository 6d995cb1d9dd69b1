"""Files both ways: uploads checked before sending and streamed from their source, downloads bounded and never
carrying the key away from the provider."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import responses

from pepperpy import errors
from pepperpy.http._multipart import Multipart
from pepperpy.http._upload import Upload, sniff_type
from pepperpy.http.transport import Request, Transport
from pepperpy.testing._script import parse_multipart

KEY = "sk-test-abcdefghijklmnop"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(200)


def transport(base_url: str = "https://api.example.com/v1") -> Transport:
    return Transport("openai", base_url, {"Authorization": f"Bearer {KEY}"}, secrets=[KEY])


# --------------------------------------------------------------------------- Upload.of


def test_a_path_is_checked_not_read(tmp_path: Path) -> None:
    path = tmp_path / "note.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(100))
    upload = Upload.of(path, param="audio")
    assert (upload.name, upload.mime_type, upload.size, upload.path) == ("note.m4a", "audio/mp4", 112, path)
    assert upload.data is None  # nothing kept in memory


def test_missing_directory_empty_and_wrong_kind(tmp_path: Path) -> None:
    with pytest.raises(errors.ValidationError, match=r"audio '.*nope.mp3': no such file") as info:
        Upload.of(tmp_path / "nope.mp3", param="audio")
    assert info.value.param == "audio"
    with pytest.raises(errors.ValidationError, match="is not a file"):
        Upload.of(tmp_path, param="audio")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(errors.ValidationError, match="is empty"):
        Upload.of(tmp_path / "empty.wav")
    with pytest.raises(errors.ValidationError, match="path, bytes or a binary file object, not int"):
        Upload.of(3)  # type: ignore[arg-type]
    with pytest.raises(errors.ValidationError, match="text-mode file"):
        Upload.of(io.StringIO("hello"))  # type: ignore[arg-type]


def test_an_unreadable_file_fails_before_sending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.mp3"
    path.write_bytes(b"ID3" + bytes(10))

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(errors.ValidationError, match="cannot be read: Permission denied"):
        Upload.of(path, param="audio")


def test_the_limit_is_in_the_message(tmp_path: Path) -> None:
    path = tmp_path / "long.mp3"
    with path.open("wb") as handle:
        handle.truncate(26_000_000)  # sparse: no 26 MB written
    with pytest.raises(errors.ValidationError, match=r"26\.0 MB, over the OpenAI upload limit of 25\.0 MB"):
        Upload.of(path, param="audio", max_bytes=25_000_000, limit_name="OpenAI")


def test_bytes_and_file_objects_get_a_name_the_provider_can_read() -> None:
    assert Upload.of(WAV, param="audio").name == "audio.wav"
    assert Upload.of(WAV, name="voice").name == "voice.wav"
    png = b"\x89PNG\r\n\x1a\n" + bytes(20)
    assert (Upload.of(png, param="image").name, Upload.of(png).mime_type) == ("image.png", "image/png")
    handle = io.BytesIO(b"junk" + WAV)
    handle.seek(4)  # content starts where the caller left the file
    upload = Upload.of(handle, param="audio")
    assert (upload.size, upload.name) == (len(WAV), "audio.wav")
    with upload.open() as reader:
        assert reader.read() == WAV
    assert sniff_type(b"OggS....") == (".ogg", "audio/ogg") and sniff_type(b"????") is None


def test_a_file_object_is_rewound_for_each_reader_and_left_open(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    path.write_bytes(WAV)
    with path.open("rb") as handle:
        upload = Upload.of(handle)
        for _ in range(2):
            with upload.open() as reader:
                assert reader.read() == WAV
        assert not handle.closed and upload.name == "a.wav"


def test_a_pipe_is_read_once_and_kept() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.reads = 0

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readall(self) -> bytes:
            self.reads += 1
            return WAV if self.reads == 1 else b""

    pipe = Pipe()
    upload = Upload.of(pipe)
    assert upload.read() == WAV and upload.read() == WAV and pipe.reads == 1


# --------------------------------------------------------------------------- Multipart


def test_multipart_length_is_exact_and_parts_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "kite.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 300)  # CRLFs inside the file, more than a block
    body = Multipart([("model", "gpt-image-1"), ("prompt", 'a "red" kite')],
                     [("image[]", Upload.of(path)), ("image[]", Upload.of(b"\xff\xd8\xff" + bytes(9), name="b"))])
    with body.open() as reader:
        data = b"".join(reader)
    assert len(data) == len(body) and body.upload_bytes == path.stat().st_size + 12
    parts = parse_multipart(data, body.content_type)
    assert [(p.name, p.filename, p.content_type) for p in parts] == [
        ("model", None, None), ("prompt", None, None), ("image[]", "kite.png", "image/png"),
        ("image[]", "b.jpg", "image/jpeg")]
    assert parts[1].text == 'a "red" kite' and parts[2].data == path.read_bytes()


def test_each_reader_starts_over_and_closes_its_files(tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    path.write_bytes(b"ID3" + bytes(100_000))
    body = Multipart([("model", "whisper-1")], [("file", Upload.of(path))])
    first = body.open()
    received = 0
    while received < 70_000:  # stopped halfway, as a failed attempt would
        received += len(first.read(8192))
    first.close()
    with body.open() as second:
        assert second.tell() == 0 and len(b"".join(second)) == len(body)


# --------------------------------------------------------------------------- Transport: uploads


@responses.activate
def test_send_streams_an_upload_with_its_length_and_a_fresh_body_per_attempt(tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    path.write_bytes(b"ID3" + bytes(300_000))
    seen: list[tuple[str, str, bytes]] = []

    def record(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        body = request.body  # responses reads streamed bodies into bytes before calling back
        assert isinstance(body, bytes)
        seen.append((request.headers["Content-Type"], request.headers["Content-Length"], body))
        return 200, {}, '{"text": "ok"}'

    responses.add_callback(responses.POST, "https://api.example.com/v1/audio/transcriptions", callback=record)
    body = Multipart([("model", "whisper-1")], [("file", Upload.of(path))])
    request = Request("POST", "/audio/transcriptions", upload=body)
    client = transport()
    for _ in range(2):  # what the retry policy does after a failed attempt
        assert client.send(request).json() == {"text": "ok"}
    assert seen[0] == seen[1]
    content_type, length, data = seen[0]
    assert content_type == body.content_type and int(length) == len(body) == len(data)
    assert parse_multipart(data, content_type)[1].data == path.read_bytes()
    assert request.upload_bytes == 300_003


@responses.activate
def test_send_a_raw_file_body() -> None:
    responses.add(responses.POST, "https://api.example.com/upload", json={})
    transport().send(Request("POST", "https://api.example.com/upload", upload=Upload.of(WAV)))
    sent = responses.calls[0].request
    assert sent.headers["Content-Type"] == "audio/wav" and sent.body == WAV


def test_a_raw_file_object_body_goes_with_its_length_not_chunked(server: Any) -> None:
    handle = io.BytesIO(b"skip" + WAV)
    handle.seek(4)  # sent from where the caller left it
    client = Transport("openai", server.base_url("openai"), {})
    request = Request("POST", "/chat/completions", upload=Upload.of(handle, name="a.wav"))
    for _ in range(2):  # a retry sends it again, whole (the fake refuses a WAV as a chat body: what it got counts)
        with pytest.raises(errors.InvalidRequestError):
            client.send(request)
    assert len(server.requests) == 2
    for sent in server.requests:
        assert sent.headers["content-length"] == str(len(WAV)) and "transfer-encoding" not in sent.headers
        assert sent.body == WAV


# --------------------------------------------------------------------------- Transport: downloads


@responses.activate
def test_download_sends_the_key_only_to_the_providers_origin() -> None:
    responses.add(responses.GET, "https://api.example.com/v1/files/1/content", body=b"own")
    responses.add(responses.GET, "https://cdn.example.net/img.png", body=b"elsewhere")
    client = transport()
    assert client.download("/files/1/content") == b"own"
    assert client.download("https://cdn.example.net/img.png") == b"elsewhere"
    own, other = (call.request.headers for call in responses.calls)
    assert own["Authorization"] == f"Bearer {KEY}"
    assert "Authorization" not in other and other["User-Agent"].startswith("pepperpy/")


@responses.activate
def test_redirects_are_followed_without_the_key_even_back_home() -> None:
    responses.add(responses.GET, "https://api.example.com/v1/videos/v1/content", status=302,
                  headers={"Location": "https://cdn.example.net/v.mp4?sig=abc"})
    responses.add(responses.GET, "https://cdn.example.net/v.mp4", status=307,
                  headers={"Location": "https://api.example.com/v1/final"})
    responses.add(responses.GET, "https://api.example.com/v1/final", body=b"video bytes")
    out = io.BytesIO()
    assert transport().download("/videos/v1/content", into=out) == 11 and out.getvalue() == b"video bytes"
    headers = [call.request.headers for call in responses.calls]
    assert "Authorization" in headers[0]
    assert all("Authorization" not in h for h in headers[1:])


@responses.activate
def test_downloads_are_bounded() -> None:
    responses.add(responses.GET, "https://cdn.example.net/big", body=b"x" * 5000, auto_calculate_content_length=True)
    responses.add(responses.GET, "https://cdn.example.net/chunked", body=b"x" * 5000)  # no Content-Length
    with pytest.raises(errors.ProviderAPIError, match="5,000 bytes, over its limit of 4,096 bytes"):
        transport().download("https://cdn.example.net/big", max_bytes=4096)
    with pytest.raises(errors.ProviderAPIError, match=r"chunked is over its limit of 2,500 bytes"):
        transport().download("https://cdn.example.net/chunked", max_bytes=2500)


@responses.activate
def test_redirect_loops_and_error_answers() -> None:
    responses.add(responses.GET, "https://cdn.example.net/loop", status=302,
                  headers={"Location": "https://cdn.example.net/loop"})
    responses.add(responses.GET, "https://cdn.example.net/gone", status=404, body=b"<Error>BlobNotFound</Error>")
    with pytest.raises(errors.ProviderAPIError, match="redirected more than 5 times"):
        transport().download("https://cdn.example.net/loop")
    with pytest.raises(errors.InvalidRequestError) as info:
        transport().download("https://cdn.example.net/gone")
    assert info.value.status_code == 404 and KEY not in str(info.value)


def test_a_pipe_over_the_limit_is_refused_without_reading_it_all() -> None:
    class Endless(io.RawIOBase):
        """A pipe that never ends (a stream piped in): only a bounded read can refuse it."""

        def __init__(self) -> None:
            self.given = 0

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: Any) -> int:
            assert self.given < 10_000_000, "read far past the limit"
            view = memoryview(buffer).cast("B")
            view[:] = b"\x00" * len(view)
            self.given += len(view)
            return len(view)

    pipe = Endless()
    with pytest.raises(errors.ValidationError, match=r"audio .* over the OpenAI upload limit of 1.0 MB") as caught:
        Upload.of(pipe, param="audio", max_bytes=1_000_000, limit_name="OpenAI")
    assert caught.value.param == "audio" and pipe.given <= 1_000_000 + 128 * 1024


def test_a_file_that_changes_after_its_check_is_refused_not_sent_wrong(tmp_path: Path, server: Any) -> None:
    path = tmp_path / "recording.wav"
    path.write_bytes(WAV)
    grown = Upload.of(path, param="audio")
    with path.open("ab") as more:  # the recording goes on: its body would run past the Content-Length sent
        more.write(bytes(3000))
    with pytest.raises(errors.ValidationError, match=r"recording\.wav changed after it was checked \(216 bytes, "
                                                     r"now 3,216\)"):
        Multipart([("model", "whisper-1")], [("file", grown)]).open().read()
    shrunk = Upload.of(path, param="audio")
    path.write_bytes(WAV)  # cut shorter: the server would wait for bytes that never come
    client = Transport("openai", server.base_url("openai"), {})
    started = time.monotonic()
    with pytest.raises(errors.ValidationError, match=r"recording\.wav changed after it was checked"):
        client.send(Request("POST", "/audio/transcriptions",
                            upload=Multipart([("model", "whisper-1")], [("file", shrunk)])), timeout=(5, 5))
    assert time.monotonic() - started < 2  # refused at once, not a read timeout (then retried) later


def test_a_file_cut_while_it_is_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    path.write_bytes(WAV + bytes(100_000))
    upload = Upload.of(path)
    reader = upload.open()
    assert reader.read(10) == WAV[:10]
    path.write_bytes(WAV[:20])  # truncated under the open reader (past what it has buffered)
    with pytest.raises(errors.ValidationError, match=r"a\.wav changed after it was checked"):
        reader.read()
    reader.close()
