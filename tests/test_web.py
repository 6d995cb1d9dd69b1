"""pepperpy.web.http_error: every error class to its HTTP answer."""

from __future__ import annotations

import pytest

import pepperpy
from pepperpy.web import http_error


@pytest.mark.parametrize(("exc", "status", "headers"), [
    (pepperpy.ValidationError("temperature=9 is out of range", param="temperature"), 400, {}),
    (pepperpy.ModelNotFoundError("gpt-4o-mino"), 400, {}),
    (pepperpy.ContextLengthError("205000 tokens > 200000 maximum", provider="p"), 413, {}),
    (pepperpy.RateLimitError("slow down", provider="p", retry_after=2.4), 503, {"Retry-After": "2"}),
    (pepperpy.CircuitOpenError("open", provider="p", retry_after=0.2), 503, {"Retry-After": "1"}),
    (pepperpy.ProviderUnavailableError("down", provider="p"), 503, {}),
    (pepperpy.ProviderTimeoutError("slow", provider="p"), 504, {}),
    (pepperpy.AuthenticationError("provider secret detail", provider="p"), 502, {}),
    (pepperpy.ConfigurationError("no key"), 500, {}),
])
def test_each_error_class_has_its_answer(exc: pepperpy.PepperpyError, status: int, headers: dict[str, str]) -> None:
    got_status, message, got_headers = http_error(exc)
    assert (got_status, got_headers) == (status, headers)
    if status == 400:
        assert message == str(exc)  # input errors keep their message: it says what to fix
    else:
        assert str(exc) not in message  # provider details stay in the log


def test_other_exceptions_are_refused() -> None:
    with pytest.raises(TypeError):
        http_error(ValueError("x"))  # type: ignore[arg-type]


def test_sse_events_stream_then_done(server: object) -> None:
    import json

    from pepperpy.testing import FakeProviderServer, Fault, Reply
    from pepperpy.web import sse_events

    assert isinstance(server, FakeProviderServer)
    client = pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-web-0123456789"}, max_retries=0,
                             providers={"openai": {"base_url": server.base_url("openai")}})
    server.reply(Reply(chunks=["Hel", "lo\n"], usage=(3, 2)))
    events = list(sse_events(client.stream("hi", model="gpt-4o-mini")))
    assert events[:2] == ['data: {"text": "Hel"}\n\n', 'data: {"text": "lo\\n"}\n\n']
    assert events[-1] == f"event: done\ndata: {json.dumps({'input': 3, 'output': 2})}\n\n"
    server.fault(Fault.CUT_STREAM)
    events = list(sse_events(client.stream("hi", model="gpt-4o-mini")))
    assert events[-1].startswith("event: error\ndata: ") and "model provider failed" in events[-1]
