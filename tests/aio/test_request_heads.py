"""A request head made once per method, target and headers (``_framing.Head``) writes what h11 writes for the
whole request, and refuses what h11 refuses: the event loop's client checks and writes a provider's constant
headers once (issue 27), and keeps h11's framing for the rest."""

from __future__ import annotations

import h11
import pytest

from pepperpy.http._framing import KEPT_LENGTHS, Head, request_bytes

BODY = b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}'
CASES = {
    "a provider's headers": [(b"User-Agent", b"pepperpy/1 python-requests/2"), (b"Accept-Encoding", b"gzip, deflate"),
                             (b"Authorization", b"Bearer sk-test"), (b"Content-Type", b"application/json")],
    "none": [],
    "Connection: close": [(b"Connection", b"close"), (b"x-api-key", b"k")],
    "Expect: 100-continue": [(b"expect", b"100-continue"), (b"anthropic-version", b"2023-06-01")],
    "odd but legal values": [(b"X-Empty", b""), (b"X-Inner", b"a  b\tc"), (b"X-Latin", "café".encode("latin-1"))],
}


def whole(method: bytes, headers: list[tuple[bytes, bytes]], body: bytes | None) -> tuple[bytes, h11.Connection]:
    """What h11 writes for the request with every header in its ``h11.Request``."""
    connection = h11.Connection(h11.CLIENT)
    length = [] if body is None else [(b"content-length", b"%d" % len(body))]
    out = connection.send(h11.Request(method=method, target=b"/v1/chat/completions",
                                      headers=[(b"host", b"api.test:8080"), *headers, *length]))
    out += connection.send(h11.Data(data=body)) if body else b""
    connection.send(h11.EndOfMessage())
    return out, connection


def lines(head: bytes) -> tuple[bytes, list[bytes]]:
    """The request line and Host line, then the header lines in any order (the order carries no meaning)."""
    text, blank, rest = head.partition(b"\r\n\r\n")
    assert blank and not rest
    first, host, *others = text.split(b"\r\n")
    return first + b"\r\n" + host, sorted(others)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("body", [BODY, None], ids=["POST", "GET"])
def test_a_head_writes_the_same_request_as_h11_with_every_header(case: str, body: bytes | None) -> None:
    method = b"POST" if body else b"GET"
    head = Head.of(method, b"/v1/chat/completions", b"api.test:8080", CASES[case], "http://api.test:8080/v1")
    for _ in range(2):  # one Head, request after request on one connection, as the pool reuses both
        ours = h11.Connection(h11.CLIENT)
        written, data = request_bytes(ours, head, body)
        expected, theirs = whole(method, CASES[case], body)
        end = expected.index(b"\r\n\r\n") + 4
        assert lines(written) == lines(expected[:end]) and data == expected[end:]
        assert (ours.our_state, ours.their_state) == (theirs.our_state, theirs.their_state)
        assert ours.our_state is (h11.MUST_CLOSE if case == "Connection: close" else h11.DONE)
        assert ours.client_is_waiting_for_100_continue == theirs.client_is_waiting_for_100_continue
        # and the answer reads the same: keep-alive decided by the same headers (Connection: close)
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
        for connection in (ours, theirs):
            connection.receive_data(answer)
            while type(connection.next_event()) is not h11.EndOfMessage:
                pass
        assert ours.our_state == theirs.our_state and ours.their_state == theirs.their_state


@pytest.mark.parametrize("header", [
    (b"X-Bad", b"a\r\nHost: evil"), (b"X-Bad", b"line\nbreak"), (b"Bad Name", b"v"), (b"X-Bad", b" padded "),
    (b"", b"v"), (b"X-Bad", b"nul\x00"),
], ids=["CRLF", "LF", "space in name", "padded", "empty name", "NUL"])
def test_a_head_refuses_what_h11_refuses(header: tuple[bytes, bytes]) -> None:
    with pytest.raises(h11.LocalProtocolError) as h11s:
        whole(b"POST", [header], BODY)
    with pytest.raises(h11.LocalProtocolError) as ours:
        Head.of(b"POST", b"/v1/chat/completions", b"api.test:8080", [(b"User-Agent", b"u"), header], "u")
    assert str(ours.value) == str(h11s.value)


def test_a_bad_target_or_a_second_host_is_refused_with_every_request() -> None:
    """The target and the framing headers stay in each h11.Request: a request h11 refuses is refused every time
    (never kept)."""
    for target, headers in ((b"/v1/x y", []), (b"/v1/x", [(b"Host", b"other")])):
        head = Head.of(b"POST", target, b"api.test", headers, "u")
        for _ in range(2):
            with pytest.raises(h11.LocalProtocolError):
                request_bytes(h11.Connection(h11.CLIENT), head, BODY)


def test_requests_of_other_lengths_each_say_their_own_content_length() -> None:
    """A Head keeps the h11.Request of each body length it sent: bodies of other lengths, in any order, each
    go with their own Content-Length, and more lengths than it keeps still do."""
    head = Head.of(b"POST", b"/v1/chat/completions", b"api.test:8080", CASES["a provider's headers"], "u")
    for size in [*range(1, 4), 2, 1, *range(100, 100 + 2 * KEPT_LENGTHS), 3]:
        body = b"x" * size
        written, data = request_bytes(h11.Connection(h11.CLIENT), head, body)
        expected, _ = whole(b"POST", CASES["a provider's headers"], body)
        end = expected.index(b"\r\n\r\n") + 4
        assert lines(written) == lines(expected[:end]) and data == body
    assert len(head.requests) <= KEPT_LENGTHS
