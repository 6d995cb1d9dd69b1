"""The SSE and NDJSON readers, fed byte chunks split at awkward places."""

from __future__ import annotations

from pepperpy.http.transport import iter_lines, iter_ndjson, iter_sse

OPENAI_SAMPLE = (
    b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{"content":"I\'m"},"finish_reason":null}]}\n\n'
    b"data: [DONE]\n\n"
)


def split_every(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def test_events_survive_any_chunking() -> None:
    expected = list(iter_sse([OPENAI_SAMPLE]))
    assert [d for _, d in expected][-1] == b"[DONE]"
    for size in (1, 2, 3, 7, 64):
        assert list(iter_sse(split_every(OPENAI_SAMPLE, size))) == expected


def test_crlf_cr_and_lf_line_endings() -> None:
    for sep in (b"\r\n", b"\r", b"\n"):
        data = b"event: ping" + sep + b"data: {}" + sep + sep + b"data: x" + sep + sep
        for size in (1, 5, 100):
            assert list(iter_sse(split_every(data, size))) == [("ping", b"{}"), ("message", b"x")]


def test_comments_are_skipped_and_multiline_data_joined() -> None:
    data = b": OPENROUTER PROCESSING\n\ndata: line one\ndata: line two\n\n:keepalive\n\n"
    assert list(iter_sse([data])) == [("message", b"line one\nline two")]


def test_field_without_space_and_unknown_fields() -> None:
    assert list(iter_sse([b"data:{}\nid: 3\nretry: 10\n\n"])) == [("message", b"{}")]


def test_event_open_at_end_of_body_is_delivered() -> None:
    assert list(iter_sse([b"data: last"])) == [("message", b"last")]


def test_lines_split_between_cr_and_lf_do_not_make_an_empty_line() -> None:
    assert list(iter_lines([b"a\r", b"\nb\n"])) == [b"a", b"b"]


def test_ndjson_skips_blank_lines() -> None:
    assert list(iter_ndjson([b'{"a":1}\n\n{"b"', b":2}\n"])) == [("message", b'{"a":1}'), ("message", b'{"b":2}')]


GEMINI_RAW_ERROR = (b'data: {"candidates": []}\r\n\r\n'
                    b'{\n  "error": {\n    "code": 503,\n    "message": "The model is overloaded.",\n'
                    b'    "status": "UNAVAILABLE"\n  }\n}\n')


def test_bare_json_object_is_delivered_as_an_event_once_its_braces_balance() -> None:
    error = b'{\n  "error": {\n    "code": 503,\n    "message": "The model is overloaded.",\n' \
            b'    "status": "UNAVAILABLE"\n  }\n}'
    expected = [("message", b'{"candidates": []}'), ("message", error)]
    for size in (1, 3, 1000):
        assert list(iter_sse(split_every(GEMINI_RAW_ERROR, size))) == expected
    assert list(iter_sse([b'data: a\n{"error": {"code": 500}}\ndata: b\n\n'])) == [
        ("message", b"a"), ("message", b'{"error": {"code": 500}}'), ("message", b"b")]  # an open event goes first
    assert list(iter_sse([b'{"error": {\n  "code"'])) == [("message", b'{"error": {\n  "code"')]  # cut short
