"""A stream that breaks before its first chunk is retried and falls back like a failed request (issue 22, finding
14), on both roads (``stream`` and ``astream``); once a chunk with content reached the caller, a break stays a
StreamError. Events without content (a role-only delta, Anthropic's ``message_start``, ``ping``) do not count,
and the usage an attempt reported before it broke is booked.

Two kinds of peer: our own loopback server, scripted byte by byte, for exact assertions (how many requests, what
was read, what was booked); and LLMock, a third-party chaos server that grades the client (before the fix it
reported ``gave_up`` and ``truncated_stream_accepted``).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.resilience.retry import RetryPolicy
from tests.conftest import LOCAL_MODELS, write_provider

MODES = ("blocking", "async")
# Connection: close, as the server closes each connection after one answer: never a pooled one to reuse
HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
        b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n")


def chunked(*events: bytes, end: bool = True) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(event), event) for event in events)
    return body + (b"0\r\n\r\n" if end else b"")


def openai_event(delta: dict[str, Any], finish: str | None = None) -> bytes:
    return b"data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk", "model": "local-chat", "choices": [
        {"index": 0, "delta": delta, "finish_reason": finish}]}).encode() + b"\n\n"


ROLE = openai_event({"role": "assistant", "content": ""})
GOOD = HEAD + chunked(ROLE, openai_event({"content": "fine"}), openai_event({}, "stop"), b"data: [DONE]\n\n")

# What a broken attempt sends before the server closes the connection: nothing after the head; a role-only delta
# and a clean end without content or terminator; a first event that is not JSON; and, for contrast, content.
BROKEN = {
    "dropped before any byte of the body": HEAD,
    "ended without content or terminator": HEAD + chunked(ROLE),
    "first event corrupt": HEAD + chunked(b'data: {"choices": [{"delta": \n\n', end=False),
}
AFTER_CONTENT = HEAD + chunked(ROLE, openai_event({"content": "Hel"}), end=False)


class ScriptedServer:
    """Answers each request with the next script entry, then closes the connection (so a cut is a cut)."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), b"0"))
            while len(rest) < length:
                rest += conn.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + rest[:length])
            conn.sendall(self.answers.pop(0) if self.answers else GOOD)
            conn.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[Any]:
    made: list[ScriptedServer] = []

    def start(answers: list[bytes], name: str = "local") -> tuple[ScriptedServer, Path]:
        server = ScriptedServer(answers)
        made.append(server)
        return server, write_provider(tmp_path / name, name, "openai", server.url, models=LOCAL_MODELS)

    yield start
    for server in made:
        server.close()


def fast(**options: Any) -> RetryPolicy:
    return RetryPolicy(backoff_base=0.001, backoff_max=0.001, **options)


def read(mode: str, client: pepperpy.Client, model: str = "local-chat", **kwargs: Any) -> Any:
    """The text of the whole stream (and what was read before an error), or the error with that text."""
    seen: list[str] = []

    async def consume() -> None:
        async with client.astream("hi", model=model, **kwargs) as chunks:
            async for chunk in chunks:
                seen.append(chunk.text)

    try:
        if mode == "blocking":
            with client.stream("hi", model=model, **kwargs) as chunks:
                for chunk in chunks:
                    seen.append(chunk.text)
        else:
            asyncio.run(consume())
    except pepperpy.PepperpyError as exc:
        return exc, "".join(seen)
    return "".join(seen)


# --------------------------------------------------------------------------- our own server: exact assertions

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", list(BROKEN))
def test_a_stream_broken_before_its_first_chunk_is_retried(mode: str, how: str, scripted: Any) -> None:
    server, catalog = scripted([BROKEN[how]])
    with pepperpy.Client(catalog=catalog, env_file=None, retry_policy=fast(max_retries=1)) as client:
        assert read(mode, client) == "fine"
        assert client.usage().total.calls == 1 and client.usage().total.errors == 0
    assert len(server.requests) == 2  # the broken attempt, and its retry


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", list(BROKEN))
def test_without_retries_left_it_falls_back(mode: str, how: str, scripted: Any) -> None:
    broken, catalog = scripted([BROKEN[how]])
    backup, backup_catalog = scripted([], name="backup")
    with pepperpy.Client(catalog=[catalog, backup_catalog], env_file=None, retry_policy=fast(max_retries=0),
                         fallbacks={"local/local-chat": ["backup/local-chat"]}) as client:
        events: list[Any] = []
        client.on("fallback", events.append)
        assert read(mode, client, model="local/local-chat") == "fine"
    assert (len(broken.requests), len(backup.requests)) == (1, 1)
    assert [(e.from_model, e.to_model) for e in events] == [("local/local-chat", "backup/local-chat")]
    assert isinstance(events[0].error, pepperpy.StreamError) and events[0].error.retryable


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", list(BROKEN))
def test_when_every_attempt_breaks_the_stream_error_says_nothing_reached_you(mode: str, how: str,
                                                                             scripted: Any) -> None:
    server, catalog = scripted([BROKEN[how]] * 3)
    with pepperpy.Client(catalog=catalog, env_file=None, retry_policy=fast(max_retries=2)) as client:
        error, text = read(mode, client)
    assert isinstance(error, pepperpy.StreamError) and error.retryable and text == ""
    assert "before its first chunk: nothing had reached the caller" in str(error)
    assert len(server.requests) == 3  # within max_retries, never more


@pytest.mark.parametrize("mode", MODES)
def test_once_content_reached_the_caller_a_break_stays_a_stream_error(mode: str, scripted: Any) -> None:
    server, catalog = scripted([AFTER_CONTENT])
    with pepperpy.Client(catalog=catalog, env_file=None, retry_policy=fast(max_retries=2)) as client:
        error, text = read(mode, client)
    assert isinstance(error, pepperpy.StreamError) and not error.retryable
    assert text == "Hel" and len(server.requests) == 1  # handed over: never repeated behind the caller's back


@pytest.mark.parametrize("mode", MODES)
def test_anthropic_events_without_content_do_not_count_and_the_billed_input_is_booked(
        mode: str, tmp_path: Path) -> None:
    """``message_start`` (which bills the input: 7 tokens here) and ``ping`` came, then the connection dropped:
    the attempt is retried, and its 7 input tokens are in the totals beside the answer's own."""
    def event(kind: str, data: dict[str, Any]) -> bytes:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()

    start = event("message_start", {"message": {"id": "m1", "type": "message", "role": "assistant", "content": [],
                                                "model": "local-chat", "usage": {"input_tokens": 7,
                                                                                 "output_tokens": 1}}})
    good = HEAD + chunked(start, event("content_block_start", {"index": 0, "content_block": {"type": "text",
                                                                                               "text": ""}}),
                          event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "fine"}}),
                          event("content_block_stop", {"index": 0}),
                          event("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
                          event("message_stop", {}))
    server = ScriptedServer([HEAD + chunked(start, event("ping", {}), end=False), good])
    try:
        catalog = write_provider(tmp_path / "a", "local", "anthropic", server.url.removesuffix("/v1"),
                                 models=LOCAL_MODELS)
        with pepperpy.Client(catalog=catalog, env_file=None, retry_policy=fast(max_retries=1), budget=1.0) as client:
            assert read(mode, client) == "fine"
            total = client.usage().total
            spent = client._pipeline.observer.budget.spent()  # type: ignore[union-attr]
    finally:
        server.close()
    assert len(server.requests) == 2
    assert (total.calls, total.errors, total.input_tokens, total.output_tokens) == (1, 0, 14, 3)
    assert total.cost == pytest.approx((14 * 1.0 + 3 * 2.0) / 1_000_000)  # LOCAL_MODELS' prices, both attempts
    assert spent == pytest.approx(total.cost)  # and the budget settled at that, not at the last attempt alone


# --------------------------------------------------------------------------- LLMock grades the client

llmock_testing = pytest.importorskip("llmock.testing", reason="llmock is a dev dependency (pyproject's dev extra)")


@pytest.fixture(scope="module")
def llmock_server() -> Iterator[Any]:
    with llmock_testing.LLMockServer() as server:  # uvicorn on 127.0.0.1, an OS-chosen port, in a thread
        yield server


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["disconnect", "truncate", "malformed"])
def test_llmock_finds_nothing_to_fault_when_a_stream_breaks_before_its_first_chunk(
        mode: str, kind: str, llmock_server: Any, tmp_path: Path) -> None:
    """LLMock's own verdict: before the fix, ``gave_up`` (disconnect), ``truncated_stream_accepted`` (truncate)
    and ``malformed_chunk_ignored`` (a corrupt first event); after it, nothing (warnings included)."""
    from llmock.scenarios import Match, StreamFault
    from llmock.verdict import judge

    llmock_server.state.reset()
    # after_chunks=1: the role-only delta goes out, then the fault: no content has reached the caller
    llmock_server.state.scenarios.add(StreamFault(kind, after_chunks=1, times=1,  # type: ignore[arg-type]
                                                  match=Match(stream=True)))
    catalog = write_provider(tmp_path / "mock", "mock", "openai", llmock_server.base_url("openai"),
                             models="- id: gpt-4o-mini\n  mode: chat\n  capabilities: [streaming]\n")
    with pepperpy.Client(catalog=catalog, env_file=None, retry_policy=fast(max_retries=2)) as client:
        text = read(mode, client, model="mock/gpt-4o-mini")
    verdict = judge(llmock_server.state.journal.records(wait=2.0))
    assert verdict.findings == (), verdict.render()
    assert (verdict.attempts, verdict.faults) == (2, 1)
    assert isinstance(text, str) and text.startswith("Simulated ")  # LLMock's answer, whole
