"""Issue 22's hostile servers, each played to both HTTP roads with the same assertions: the blocking road
(``complete`` / ``stream``: requests and urllib3) and the event loop's (``acomplete`` / ``astream``: pepperpy's
pool, h11's framing). One test per finding, named by its number in the issue; the servers are raw sockets on
127.0.0.1 (``hostile_server``), sizes and times as small as still prove the point."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hostile_server import HostileServer, Peer, answer, chat

import pepperpy
from tests.conftest import LOCAL_MODELS, write_provider

ROADS = ("blocking", "async")
GUARD = 20.0  # seconds: a call that hangs fails the test instead of hanging it


@pytest.fixture
def hostile() -> Iterator[Callable[..., HostileServer]]:
    made: list[HostileServer] = []

    def start(behaviour: Callable[[Peer], Any], **options: Any) -> HostileServer:
        made.append(HostileServer(behaviour, **options))
        return made[-1]

    yield start
    for server in made:
        server.close()


def client_for(folder: Path, url: str, *, name: str = "local", dialect: str = "openai", extra: str = "",
               **options: Any) -> pepperpy.Client:
    write_provider(folder, name, dialect, url, models=LOCAL_MODELS, extra=extra)
    options.setdefault("max_retries", 0)
    return pepperpy.Client(catalog=folder, env_file=None, **options)


def complete(road: str, client: pepperpy.Client, prompt: str = "hi", model: str = "local-chat") -> Any:
    """The road's answer, or the PepperpyError it raised (any other exception fails the test)."""
    try:
        if road == "blocking":
            return client.complete(prompt, model=model)
        return asyncio.run(asyncio.wait_for(client.acomplete(prompt, model=model), GUARD))
    except pepperpy.PepperpyError as exc:
        return exc


def stream_text(road: str, client: pepperpy.Client, model: str = "local-chat") -> Any:
    """The streamed text through ``stream`` / ``astream``, or the PepperpyError."""
    try:
        if road == "blocking":
            return "".join(chunk.text for chunk in client.stream("hi", model=model))

        async def read() -> str:
            async with client.astream("hi", model=model) as s:
                return "".join([chunk.text async for chunk in s])

        return asyncio.run(asyncio.wait_for(read(), GUARD))
    except pepperpy.PepperpyError as exc:
        return exc


def text_or_error(outcome: Any) -> str:
    return outcome.text if isinstance(outcome, pepperpy.Completion) else type(outcome).__name__


# ----------------------------------------------------------------------------- 1: a crafted model name

GEMINI_ANSWER = (b'{"candidates": [{"content": {"role": "model", "parts": [{"text": "%s"}]}, "finishReason": "STOP"}],'
                 b' "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2}}')


def answer_each_request(texts: Callable[[int], bytes]) -> Callable[[Peer], None]:
    """A keep-alive server: request n (counted over all connections) is answered with ``texts(n)``."""

    def behaviour(peer: Peer) -> None:
        while (head := peer.read_request()) is not None:
            with peer.server.lock:
                n = len(peer.server.requests) - 1
            assert head
            peer.send(answer(texts(n)))

    return behaviour


@pytest.mark.parametrize("road", ROADS)
def test_1_a_model_name_with_a_request_line_in_it_makes_one_request(road: str, hostile: Callable[..., HostileServer],
                                                                    tmp_path: Path) -> None:
    server = hostile(answer_each_request(lambda n: GEMINI_ANSWER % f"answer-{n}".encode()))
    client = client_for(tmp_path, server.url + "/v1beta", dialect="gemini", extra="open_models: true\n")
    crafted = ("local/x:generateContent HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
               "POST /v1beta/cachedContents?")
    first = complete(road, client, model=crafted)
    assert isinstance(first, (pepperpy.Completion, pepperpy.PepperpyError))
    assert len(server.requests) <= 1  # never a second request smuggled onto the connection
    assert all(head.startswith(b"POST /v1beta/models/") for head in server.requests)
    assert all(b"\r\nHost: h" not in head for head in server.requests)
    after = complete(road, client, model="local/plain")
    assert text_or_error(after) == f"answer-{len(server.requests) - 1}"  # its own answer, not the smuggled one's
    client.close()


def test_1_a_non_ascii_model_name_goes_out_as_the_blocking_road_sends_it(hostile: Callable[..., HostileServer],
                                                                         tmp_path: Path) -> None:
    server = hostile(answer_each_request(lambda n: GEMINI_ANSWER % b"ok"))
    client = client_for(tmp_path, server.url + "/v1beta", dialect="gemini", extra="open_models: true\n")
    outcomes = [text_or_error(complete(road, client, model="local/模型")) for road in ROADS]
    assert outcomes == ["ok", "ok"]  # not a bare UnicodeEncodeError on the event loop
    lines = [head.split(b"\r\n")[0] for head in server.requests]
    assert len(lines) == 2 and lines[0] == lines[1] and lines[0].isascii(), lines
    client.close()


# ----------------------------------------------------------------------------- 3: read, then closed

@pytest.mark.parametrize("road", ROADS)
def test_3_a_request_the_server_read_before_closing_is_sent_once(road: str, hostile: Callable[..., HostileServer],
                                                                 tmp_path: Path) -> None:
    """20 calls at once leave 20 kept connections; then the server reads a request and closes without an
    answer: with max_retries=0 it receives that request once, however many idle connections there are."""
    mode = {"close": False}

    def behaviour(peer: Peer) -> None:
        while peer.read_request() is not None:
            if mode["close"]:
                return
            time.sleep(0.1)  # the 20 calls overlap: 20 connections
            peer.send(answer(chat("warm")))

    server = hostile(behaviour)
    client = client_for(tmp_path, server.url + "/v1")

    def warm_then_fail() -> Any:
        if road == "blocking":
            with ThreadPoolExecutor(20) as pool:
                warm = list(pool.map(lambda _: complete(road, client), range(20)))
            mode["close"] = True
            return warm, complete(road, client)

        async def both() -> Any:
            warm = await asyncio.gather(*(client.acomplete("hi", model="local-chat") for _ in range(20)))
            mode["close"] = True
            try:
                return warm, await client.acomplete("hi", model="local-chat")
            except pepperpy.PepperpyError as exc:
                return warm, exc

        return asyncio.run(asyncio.wait_for(both(), GUARD))

    warm, failed = warm_then_fail()
    assert [text_or_error(w) for w in warm] == ["warm"] * 20 and server.connections >= 20
    assert isinstance(failed, pepperpy.ProviderConnectionError)
    assert len(server.requests) == 21  # the failed prompt reached the server once
    client.close()


# ----------------------------------------------------------------------------- 4: bytes after the answer

INJECTED = answer(chat("INJECTED (never requested)"))
EXTRA = {
    "after Content-Length": lambda: answer(chat("answer-to-request-0")) + INJECTED,
    "a body on 204": lambda: b"HTTP/1.1 204 No Content\r\n\r\n" + INJECTED,
    "a body on 304": lambda: b"HTTP/1.1 304 Not Modified\r\n\r\n" + INJECTED,
}


@pytest.mark.parametrize("extra", list(EXTRA))
@pytest.mark.parametrize("road", ROADS)
def test_4_bytes_after_an_answer_never_answer_the_next_call(road: str, extra: str,
                                                            hostile: Callable[..., HostileServer],
                                                            tmp_path: Path) -> None:
    def behaviour(peer: Peer) -> None:
        while peer.read_request() is not None:
            with peer.server.lock:
                n = len(peer.server.requests) - 1
            peer.send(EXTRA[extra]() if n == 0 else answer(chat(f"answer-to-request-{n}")))

    server = hostile(behaviour)
    client = client_for(tmp_path, server.url + "/v1")
    if road == "blocking":
        outcomes = [complete(road, client), complete(road, client)]
    else:
        async def twice() -> list[Any]:
            found = []
            for _ in range(2):
                try:
                    found.append(await client.acomplete("hi", model="local-chat"))
                except pepperpy.PepperpyError as exc:
                    found.append(exc)
            return found

        outcomes = asyncio.run(asyncio.wait_for(twice(), GUARD))
    texts = [text_or_error(outcome) for outcome in outcomes]
    assert texts[1] == "answer-to-request-1", texts
    if extra == "after Content-Length":
        assert texts[0] == "answer-to-request-0", texts
    else:  # a 204 is not a chat answer, a 304 is a redirect: an error either way, never the injected answer
        assert isinstance(outcomes[0], pepperpy.ProviderError), texts
    client.close()


# ----------------------------------------------------------------------------- 5 and 6: a large request

BIG = "x" * (12 * 2 ** 20)  # more than loopback's socket buffers on both sides, with a 64 KiB receive window


@pytest.mark.parametrize("road", ROADS)
def test_5_a_server_that_never_reads_cannot_hold_a_call(road: str, hostile: Callable[..., HostileServer],
                                                        tmp_path: Path) -> None:
    server = hostile(lambda peer: peer.hold(), receive_buffer=65536)
    client = client_for(tmp_path, server.url + "/v1", timeout=0.5)
    start = time.monotonic()
    outcome = complete(road, client, prompt=BIG)
    assert isinstance(outcome, pepperpy.ProviderTimeoutError), outcome
    assert time.monotonic() - start < 5.0
    client.close()


@pytest.mark.parametrize("road", ROADS)
def test_6_an_answer_sent_before_the_request_was_read_is_reported_once(road: str,
                                                                      hostile: Callable[..., HostileServer],
                                                                      tmp_path: Path) -> None:
    """413 and close after the head, the 12 MiB body unread: the 413 is the outcome, and nothing is retried."""

    def behaviour(peer: Peer) -> None:
        if peer.read_request(body=False) is not None:
            peer.send(answer(b'{"error": {"message": "request too large", "type": "invalid_request_error"}}',
                             status=b"413 Payload Too Large", headers=b"Connection: close\r\n"))

    server = hostile(behaviour, receive_buffer=65536)
    client = client_for(tmp_path, server.url + "/v1", max_retries=2, timeout=5)
    outcome = complete(road, client, prompt=BIG)
    assert isinstance(outcome, pepperpy.InvalidRequestError) and outcome.status_code == 413, outcome
    assert "request too large" in str(outcome)
    assert len(server.requests) == 1 and server.connections == 1
    client.close()


# ----------------------------------------------------------------------------- 7: a head of 200,000 lines

class Ticker:
    """How late a 10 ms sleep on the event loop woke, at worst (how long the loop was stalled)."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.perf_counter() - start - 0.01)


@pytest.mark.parametrize("road", ROADS)
def test_7_a_head_of_200000_lines_is_refused_without_stalling(road: str, hostile: Callable[..., HostileServer],
                                                              tmp_path: Path) -> None:
    body = chat("never read")
    head = b"HTTP/1.1 200 OK\r\n" + b"a:x\r\n" * 200_000 + b"Content-Length: %d\r\n\r\n" % len(body)

    def behaviour(peer: Peer) -> None:
        if peer.read_request() is not None:
            peer.send(head + body)

    server = hostile(behaviour)
    client = client_for(tmp_path, server.url + "/v1", timeout=5)
    ticker = Ticker()
    start = time.monotonic()
    if road == "blocking":
        outcome = complete(road, client)
    else:
        async def watched() -> Any:
            tick = asyncio.ensure_future(ticker.run())
            try:
                return await client.acomplete("hi", model="local-chat")
            except pepperpy.PepperpyError as exc:
                return exc
            finally:
                tick.cancel()

        outcome = asyncio.run(asyncio.wait_for(watched(), GUARD))
    assert isinstance(outcome, pepperpy.ProviderConnectionError), outcome
    assert "got more than 100 headers" in str(outcome)
    assert time.monotonic() - start < 1.5
    assert ticker.worst < 0.25  # the event loop kept running (blocking: no loop, nothing stalled)
    client.close()


# ----------------------------------------------------------------------------- 8: TLS connections closed

@pytest.mark.parametrize("road", ROADS)
def test_8_tls_connections_the_server_closed_leave_the_count(road: str, hostile: Callable[..., HostileServer],
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for 3 connections: provider A keeps one; provider B (TLS) closes each of its connections
    after answering. If B's closed connections stayed counted, B would evict A's kept one to open more."""
    trustme = pytest.importorskip("trustme")
    import ssl

    from pepperpy.http import _async_limits

    monkeypatch.setattr(_async_limits, "fd_budget", lambda reserved=64: 3)
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))

    def answer_then_close(peer: Peer) -> None:
        if peer.read_request() is not None:
            peer.send(answer(chat("from B")))
            time.sleep(0.02)

    a = hostile(answer_each_request(lambda n: chat("from A")))
    b = hostile(answer_then_close, tls=context)
    write_provider(tmp_path / "cat", "a", "openai", a.url + "/v1", models=LOCAL_MODELS)
    client = client_for(tmp_path / "cat", b.url + "/v1", name="b")

    def calls() -> Any:
        if road == "blocking":
            texts = [client.complete("hi", model="a/local-chat").text]
            for _ in range(10):
                texts.append(client.complete("hi", model="b/local-chat").text)
                time.sleep(0.05)  # B has closed it
            return [*texts, client.complete("hi", model="a/local-chat").text]

        async def run() -> list[str]:
            texts = [(await client.acomplete("hi", model="a/local-chat")).text]
            for _ in range(10):
                texts.append((await client.acomplete("hi", model="b/local-chat")).text)
                await asyncio.sleep(0.05)
            return [*texts, (await client.acomplete("hi", model="a/local-chat")).text]

        return asyncio.run(asyncio.wait_for(run(), GUARD))

    assert calls() == ["from A", *["from B"] * 10, "from A"]
    assert b.connections == 10
    assert a.connections == 1  # A's kept connection was never evicted
    client.close()


# ----------------------------------------------------------------------------- 9: lax framing

LAX = chat("lax reading")
LAX_PADDED = LAX[:-1] + b" " * (0x1F8 - len(LAX)) + b"}"  # 504 bytes: a chunk of "+1_f8" in int(..., 16)
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
NOT_HTTP = {
    "status 2000": b"HTTP/1.1 2000 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(LAX), LAX),
    "Transfer-Encoding: xchunked": HEAD + b"Transfer-Encoding: xchunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (
        len(LAX), LAX),
    "Content-Length: +N": HEAD + b"Content-Length: +%d\r\n\r\n%s" % (len(LAX), LAX),
    "a header line without a colon": HEAD + b"X-Bad header line\r\nContent-Length: %d\r\n\r\n%s" % (len(LAX), LAX),
    "chunk size +1_f8": HEAD + b"Transfer-Encoding: chunked\r\n\r\n+1_f8\r\n%s\r\n0\r\n\r\n" % LAX_PADDED,
}


@pytest.mark.parametrize("case", list(NOT_HTTP))
@pytest.mark.parametrize("road", ROADS)
def test_9_an_answer_that_is_not_valid_http_is_refused(road: str, case: str, hostile: Callable[..., HostileServer],
                                                       tmp_path: Path) -> None:
    def behaviour(peer: Peer) -> None:
        if peer.read_request() is not None:
            peer.send(NOT_HTTP[case])  # then close: a lenient reader reads to the end

    server = hostile(behaviour)
    client = client_for(tmp_path, server.url + "/v1", timeout=2)
    outcome = complete(road, client)
    if road == "blocking" and case == "chunk size +1_f8":
        # urllib3 reads chunk sizes with int(line, 16), which takes a sign and underscores; pepperpy has no chunk
        # parser of its own on either road (h11 frames the event loop's), so the blocking road keeps that reading
        assert text_or_error(outcome) == "lax reading"
        return
    assert isinstance(outcome, pepperpy.ProviderError), outcome
    assert "not valid HTTP/1.1" in str(outcome) or "invalid framing" in str(outcome), str(outcome)
    assert outcome.retryable is False  # the server may have acted on the request: not sent again by retries
    client.close()


# ----------------------------------------------------------------------------- 10: deadlines and urllib3's errors

def drip(head: bytes, body: bytes, every: float = 0.1) -> Callable[[Peer], None]:
    def behaviour(peer: Peer) -> None:
        if peer.read_request() is not None:
            peer.send(head)
            peer.drip(body, every)

    return behaviour


@pytest.mark.parametrize("road", ROADS)
def test_10_total_timeout_cuts_a_dripping_answer(road: str, hostile: Callable[..., HostileServer],
                                                 tmp_path: Path) -> None:
    body = chat("x" * 40)
    server = hostile(drip(HEAD + b"Content-Length: %d\r\n\r\n" % len(body), body))
    client = client_for(tmp_path, server.url + "/v1", timeout=2, total_timeout=0.6)
    start = time.monotonic()
    outcome = complete(road, client)
    assert isinstance(outcome, pepperpy.ProviderTimeoutError), outcome
    assert "total_timeout" in str(outcome)
    assert time.monotonic() - start < 1.5
    client.close()


@pytest.mark.parametrize("road", ROADS)
def test_10_total_timeout_bounds_each_wait_for_a_streams_next_chunk(road: str, hostile: Callable[..., HostileServer],
                                                                    tmp_path: Path) -> None:
    """A stream may run past total_timeout while chunks come; a wait of total_timeout for the next one ends it."""
    event = b'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n'
    chunks = b"".join(event % b"w" for _ in range(8))

    def behaviour(peer: Peer) -> None:
        if peer.read_request() is not None:
            peer.send(HEAD.replace(b"application/json", b"text/event-stream") + b"Connection: close\r\n\r\n")
            for i in range(8):  # 8 chunks, 0.1 s apart: 0.8 s in all, past total_timeout
                peer.send(chunks[i * len(chunks) // 8:(i + 1) * len(chunks) // 8])
                time.sleep(0.1)
            peer.drip(b"data: " + b"x" * 60, 0.1)  # then bytes, never a whole event

    server = hostile(behaviour)
    client = client_for(tmp_path, server.url + "/v1", timeout=2, total_timeout=0.5)
    start = time.monotonic()
    outcome = stream_text(road, client)
    assert isinstance(outcome, pepperpy.ProviderTimeoutError), outcome
    assert 0.8 < time.monotonic() - start < 2.5  # the chunks went on past 0.5 s; the drip was cut 0.5 s in
    client.close()


BAD_BODIES = {
    "a negative chunk size": HEAD + b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "two different Content-Lengths": HEAD + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n%s" % (
        len(LAX), len(LAX) + 1, LAX),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
@pytest.mark.parametrize("road", ROADS)
def test_10_framing_urllib3_refuses_is_a_typed_error_about_the_answer(road: str, case: str,
                                                                      hostile: Callable[..., HostileServer],
                                                                      tmp_path: Path) -> None:
    def behaviour(peer: Peer) -> None:
        if peer.read_request() is not None:
            peer.send(BAD_BODIES[case])

    server = hostile(behaviour)
    client = client_for(tmp_path, server.url + "/v1", timeout=2)
    outcome = complete(road, client)
    assert isinstance(outcome, pepperpy.ProviderError), outcome  # not a bare ValueError, not a config error
    assert "password" not in str(outcome) and "base_url" not in str(outcome)
    assert "not valid HTTP/1.1" in str(outcome) or "invalid framing" in str(outcome), str(outcome)
    client.close()
