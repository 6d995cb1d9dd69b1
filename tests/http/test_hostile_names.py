"""Hostile names: whatever lands in a request's URL (a model name, an agent id, a batch, file or video id) cannot
forge the request. Each case runs on both roads (``complete`` through requests, ``acomplete`` on the event
loop's own HTTP/1.1) with the same assertions, against a loopback server that records every byte it receives.

Findings 1 and 2 of issue 22: ``gemini/x:generateContent HTTP/1.1\\r\\nHost: ...`` wrote two requests on one
connection (async), and ``gemini/../../v1/files?`` sent the key to ``POST /v1/files?:generateContent`` (both).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.http.transport import Request, Transport
from pepperpy.jobs._ref import JobRef, Part
from tests.conftest import write_provider

MODES = ("blocking", "async")
KEY = "AIzaHostileNamesKey0123456789abcdef"
HOSTILE_TOKEN = "p2 x\r\nHost: evil/../?#&pageSize=1"  # a listing's next-page token, as a hostile server sends it
SMUGGLING = ("gemini/x:generateContent HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
             "POST /v1beta/cachedContents?")


class RecordingServer:
    """HTTP/1.1 on loopback that records each request line (and its headers) it reads, and answers every request
    with a Gemini answer (JSON, or SSE when the target asks for ``alt=sse``), or a 404 for unknown targets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1beta"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def lines(self) -> list[str]:
        return [line for line, _ in self.requests]

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                line, *fields = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
                length = int(headers.get("content-length", "0") or 0)
                while len(data) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                data = data[length:]
                with self._lock:
                    self.requests.append((line, headers))
                conn.sendall(_answer(line))

    def close(self) -> None:
        self.sock.close()


def _answer(line: str) -> bytes:
    target = line.split(" ")[1] if line.count(" ") >= 2 else ""
    usage = {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2}
    answer = {"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
              "usageMetadata": usage}
    if ":generateContent" in target or ":countTokens" in target:
        body = json.dumps({**answer, "totalTokens": 3}).encode()
        kind = b"application/json"
        status = b"200 OK"
    elif ":streamGenerateContent" in target:
        body = b"data: " + json.dumps(answer).encode() + b"\r\n\r\n"
        kind = b"text/event-stream"
        status = b"200 OK"
    elif target.startswith("/v1beta/models?"):  # a listing page: the first names a hostile next-page token
        token = None if "pageToken" in target else HOSTILE_TOKEN
        body = json.dumps({"models": [{"name": "models/gemini-chat", "supportedGenerationMethods": [
            "generateContent"]}], **({"nextPageToken": token} if token else {})}).encode()
        kind = b"application/json"
        status = b"200 OK"
    elif ":batchEmbedContents" in target:
        body = json.dumps({"embeddings": [{"values": [0.1, 0.2]}]}).encode()
        kind = b"application/json"
        status = b"200 OK"
    else:
        body = json.dumps({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}).encode()
        kind = b"application/json"
        status = b"404 Not Found"
    return (b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
            + body)


@pytest.fixture
def recorder() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.close()


@pytest.fixture
def client(tmp_path: Path, recorder: RecordingServer) -> Iterator[pepperpy.Client]:
    folder = write_provider(tmp_path / "catalog", "gemini", "gemini", recorder.url, models="""\
        - id: gemini-chat
          mode: chat
          context_window: 8192
          capabilities: [streaming]
        - id: gemini-embed
          mode: embedding
          context_window: 2048
        """)
    with pepperpy.Client(catalog=folder, env_file=None, api_keys={"gemini": KEY}, max_retries=0) as made:
        yield made


def complete(mode: str, client: pepperpy.Client, model: str) -> Any:
    """``complete`` or ``acomplete``: the Completion, or the pepperpy error raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "not in the catalog": sent as typed
        try:
            if mode == "blocking":
                return client.complete("hi", model=model)
            return asyncio.run(client.acomplete("hi", model=model))
        except pepperpy.PepperpyError as exc:
            return exc


def stream(mode: str, client: pepperpy.Client, model: str) -> Any:
    """``stream`` or ``astream`` read to the end: the text, or the pepperpy error raised."""
    async def read() -> str:
        async with client.astream("hi", model=model) as chunks:
            return "".join([chunk.text async for chunk in chunks])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if mode == "blocking":
                with client.stream("hi", model=model) as chunks:
                    return "".join(chunk.text for chunk in chunks)
            return asyncio.run(read())
        except pepperpy.PepperpyError as exc:
            return exc


# --------------------------------------------------------------------------- findings 1 and 2, as reported

@pytest.mark.parametrize("mode", MODES)
def test_request_smuggling_through_a_model_name_is_refused_before_sending(
        mode: str, client: pepperpy.Client, recorder: RecordingServer) -> None:
    """Finding 1: the async road wrote two requests (the second with the key); now neither road sends any."""
    outcome = complete(mode, client, SMUGGLING)
    assert isinstance(outcome, pepperpy.ValidationError), outcome
    assert outcome.param == "model" and outcome.value == SMUGGLING
    assert "U+0020 (SPACE)" in str(outcome) and "at position 24" in str(outcome)
    assert "\r" not in str(outcome) and "\n" not in str(outcome)  # one line: the name is shown as its repr
    assert recorder.requests == [] and recorder.connections == 0
    # the connection that would have carried it is unharmed: the next call gets its own answer
    assert complete(mode, client, "gemini/gemini-chat").text == "ok"
    assert recorder.lines == ["POST /v1beta/models/gemini-chat:generateContent HTTP/1.1"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("model", "named"), [
    ("gemini/../../v1/files?", "'?' at position 21"),
    ("gemini/../../v1/files", "'..' segment at position 7"),
    ("gemini/models/../../v1/files", "'..' segment at position 14"),
    ("gemini/tunedModels/..", "'..' segment at position 19"),
    ("gemini/.", "'.' segment at position 7"),
])
def test_path_traversal_through_a_model_name_is_refused_before_sending(
        mode: str, model: str, named: str, client: pepperpy.Client, recorder: RecordingServer) -> None:
    """Finding 2: ``..`` segments sent the key to ``POST /v1/files?:generateContent`` on both roads."""
    outcome = complete(mode, client, model)
    assert isinstance(outcome, pepperpy.ValidationError), outcome
    assert named in str(outcome), str(outcome)
    assert "Gemini model names take the form NAME, models/NAME or tunedModels/NAME" in str(outcome)
    assert recorder.requests == []


# --------------------------------------------------------------------------- every character no name may hold

REFUSED = [
    ("\r", "U+000D (CARRIAGE RETURN)"), ("\n", "U+000A (LINE FEED)"), ("\t", "U+0009 (CHARACTER TABULATION)"),
    (" ", "U+0020 (SPACE)"), ("\x00", "U+0000"), ("\x7f", "U+007F"), ("\u00a0", "U+00A0 (NO-BREAK SPACE)"),
    ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"), ("\u200b", "U+200B (ZERO WIDTH SPACE)"),
    ("?", "'?' at position 9, which would end the URL path"), ("#", "'#' at position 9, which would cut the URL"),
    ("/", "'/' at position 9, which would split it"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("char", "named"), REFUSED, ids=[repr(c) for c, _ in REFUSED])
def test_every_character_that_could_forge_a_target_is_named(
        mode: str, char: str, named: str, client: pepperpy.Client, recorder: RecordingServer) -> None:
    outcome = complete(mode, client, f"gemini/ab{char}cd")
    assert isinstance(outcome, pepperpy.ValidationError), outcome
    assert named in str(outcome), str(outcome)
    assert "at position 9" in str(outcome)  # where, in the name as typed
    assert recorder.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_is_refused_the_same_way(mode: str, client: pepperpy.Client, recorder: RecordingServer) -> None:
    outcome = stream(mode, client, SMUGGLING)
    assert isinstance(outcome, pepperpy.ValidationError), outcome
    assert "U+0020 (SPACE)" in str(outcome)
    assert recorder.requests == []
    assert stream(mode, client, "gemini/gemini-chat") == "ok"
    assert recorder.lines == ["POST /v1beta/models/gemini-chat:streamGenerateContent?alt=sse HTTP/1.1"]


def test_embeddings_and_token_counts_are_refused_the_same_way(client: pepperpy.Client,
                                                             recorder: RecordingServer) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(pepperpy.ValidationError, match=r"'\.\.' segment"):
            client.embed("x", model="gemini/../embed")
        with pytest.raises(pepperpy.ValidationError, match=r"'\.\.' segment"):
            asyncio.run(client.aembed("x", model="gemini/../embed"))
        with pytest.raises(pepperpy.ValidationError, match=r"U\+000A \(LINE FEED\)"):
            client.count_tokens("x", model="gemini/a\nb")
    assert recorder.requests == []


# --------------------------------------------------------------------------- the forms a provider's path has

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("model", "target"), [
    ("gemini/gemini-chat", "/v1beta/models/gemini-chat:generateContent"),
    ("gemini/models/gemini-chat", "/v1beta/models/gemini-chat:generateContent"),
    ("gemini/tunedModels/my-tune-7", "/v1beta/tunedModels/my-tune-7:generateContent"),
    ("gemini/a:b@c+d=e", "/v1beta/models/a%3Ab%40c%2Bd%3De:generateContent"),
    ("gemini/50%off", "/v1beta/models/50%25off:generateContent"),
])
def test_the_forms_the_provider_names_are_sent_as_one_quoted_segment(
        mode: str, model: str, target: str, client: pepperpy.Client, recorder: RecordingServer) -> None:
    outcome = complete(mode, client, model)
    assert recorder.lines == [f"POST {target} HTTP/1.1"], outcome
    assert recorder.requests[0][1]["x-goog-api-key"] == KEY


@pytest.mark.parametrize("mode", MODES)
def test_a_name_outside_ascii_is_one_percent_encoded_request_on_both_roads(
        mode: str, client: pepperpy.Client, recorder: RecordingServer) -> None:
    """The async road raised a bare UnicodeEncodeError; now both send UTF-8, percent-encoded, once."""
    outcome = complete(mode, client, "gemini/模型")
    assert recorder.lines == ["POST /v1beta/models/%E6%A8%A1%E5%9E%8B:generateContent HTTP/1.1"]
    assert outcome.text == "ok" and outcome.model == "模型", outcome  # the provider decides whether it knows it


def test_a_listing_cursor_from_the_server_is_one_quoted_query_value(client: pepperpy.Client,
                                                                     recorder: RecordingServer) -> None:
    """A next-page token goes back as a query value: percent-encoded, whatever it holds (one request per page)."""
    client.sync_catalog("gemini")
    assert recorder.lines == [
        "GET /v1beta/models?pageSize=1000 HTTP/1.1",
        "GET /v1beta/models?pageSize=1000&pageToken=p2+x%0D%0AHost%3A+evil%2F..%2F%3F%23%26pageSize%3D1 HTTP/1.1"]


# --------------------------------------------------------------------------- agent ids, job ids, the last check

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("agent", "named"), [("../v1/tokens", "'..' segment"), ("a/b", "'/' at position 11"),
                                              ("a\r\nX: y", "U+000D (CARRIAGE RETURN)")])
def test_a_stackspot_agent_id_is_one_checked_segment(mode: str, agent: str, named: str, tmp_path: Path,
                                                     recorder: RecordingServer, monkeypatch: pytest.MonkeyPatch
                                                     ) -> None:
    monkeypatch.setenv("STACKSPOT_CLIENT_ID", "client-id")
    monkeypatch.setenv("STACKSPOT_CLIENT_SECRET", "client-secret-value")
    monkeypatch.setenv("STACKSPOT_REALM", "realm")
    monkeypatch.setenv("PEPPERPY_PROVIDER_STACKSPOT_AUTH_URL", recorder.url + "/{realm}/token")
    with pepperpy.Client(env_file=None, providers={"stackspot": {"base_url": recorder.url}}) as client:
        outcome = complete(mode, client, f"stackspot/{agent}")
    assert isinstance(outcome, pepperpy.ValidationError), outcome
    assert named in str(outcome) and "StackSpot agent id" in str(outcome)
    assert recorder.requests == []  # not even the token request


def test_a_stackspot_realm_that_would_move_the_token_url_is_a_configuration_error(
        recorder: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSPOT_CLIENT_ID", "client-id")
    monkeypatch.setenv("STACKSPOT_CLIENT_SECRET", "client-secret-value")
    monkeypatch.setenv("STACKSPOT_REALM", "..")
    with pepperpy.Client(env_file=None, providers={"stackspot": {"base_url": recorder.url}}) as client, \
            pytest.raises(pepperpy.ConfigurationError, match=r"realm '\.\.' \(from STACKSPOT_REALM\) has a '\.\.'"):
        client.complete("hi", model="stackspot/agent-1")
    assert recorder.requests == []


@pytest.mark.parametrize(("provider", "part"), [("openai", "../files"), ("openai", ".."), ("anthropic", "a\nb"),
                                                ("gemini", "batches/../../files/x"), ("gemini", "batches/a b")])
def test_a_forged_job_id_cannot_redirect_its_polls(provider: str, part: str, tmp_path: Path,
                                                    recorder: RecordingServer) -> None:
    forged = JobRef("batch", provider, f"{provider}/some-model", (Part(part),), 1).encode()
    urls = {name: {"base_url": recorder.url} for name in ("openai", "anthropic", "gemini")}
    with pepperpy.Client(env_file=None, providers=urls, api_keys={n: KEY for n in urls}) as client:
        job = client.batch_job(forged)
        with pytest.raises(pepperpy.ValidationError) as caught:
            job.status()
    assert caught.value.param == "id"
    assert "job.id copied whole" in str(caught.value)
    assert recorder.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("path", "named"), [("/models/a b:generateContent", "U+0020 (SPACE)"),
                                             ("/models/a\r\nHost: x", "U+000D (CARRIAGE RETURN)"),
                                             ("/models/../files", "'..' segment"),
                                             ("/models/é", "U+00E9"), ("/models/a#b", "'#'")])
def test_the_transports_refuse_a_target_a_builder_forgot_to_quote(mode: str, path: str, named: str,
                                                                  recorder: RecordingServer) -> None:
    """The last check, for any request builder that forgot: both ``send`` and ``asend``."""
    transport = Transport("gemini", recorder.url, {"x-goog-api-key": KEY})
    request = Request("POST", path, json={})
    try:
        with pytest.raises(pepperpy.ValidationError, match=re.escape(named)):
            if mode == "blocking":
                transport.send(request)
            else:
                async def send() -> None:
                    await transport.asend(request)
                    transport.release_loop()

                asyncio.run(send())
    finally:
        transport.close()
    assert recorder.requests == []


# --------------------------------------------------------------------------- the helpers (realtime uses query_value)

def test_the_helpers_quote_what_they_pass_and_name_what_they_refuse() -> None:
    from pepperpy.http._targets import check_target, name_problem, path_segment, path_segments, query_value

    assert path_segment("gpt-4o-mini") == "gpt-4o-mini"
    assert path_segment("模型") == "%E6%A8%A1%E5%9E%8B"
    assert path_segments("models/veo-3/operations/op_1") == "models/veo-3/operations/op_1"
    assert query_value("gpt-realtime&x=1") == "gpt-realtime%26x%3D1"
    assert query_value("ft:gpt/x?y#z") == "ft%3Agpt%2Fx%3Fy%23z"  # one opaque value: quoted, not refused
    for bad in ("gpt\r\nHost: evil", "gpt\u202erealtime", ""):
        with pytest.raises(pepperpy.ValidationError):
            query_value(bad)
    assert name_problem("a/b", slashes=True) is None
    assert name_problem("a//b", slashes=True) == "has an empty segment at position 2 (a '/' at either end, or two " \
                                                 "in a row)"
    with pytest.raises(pepperpy.ValidationError, match=r"the model name 'gpt realtime' contains whitespace") as caught:
        query_value("gpt realtime")
    assert caught.value.param == "model"
    with pytest.raises(pepperpy.ValidationError, match="is empty"):
        path_segment("", what="video id", param="id")
    check_target("/files/abc:download?alt=media")  # a fixed query after the path is fine
