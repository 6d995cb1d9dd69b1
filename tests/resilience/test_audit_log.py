"""The audit log: one structured record per call, content only on request, never a credential."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

import pepperpy
from pepperpy.observe import audit
from pepperpy.observe.audit import RedactionFilter
from pepperpy.testing import FakeProviderServer, Fault, Reply

KEY = "sk-proj-AbCdEf0123456789secret"


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO, logger="pepperpy")
    yield caplog


def audit_records(records: pytest.LogCaptureFixture) -> list[Any]:
    return [r for r in records.records if r.name == "pepperpy.audit"]


def test_one_record_per_call_with_structured_fields(make_client: Any, server: FakeProviderServer,
                                                    records: pytest.LogCaptureFixture) -> None:
    server.fail(503)
    server.reply("Hello there", usage=(3, 2))
    make_client().complete("hi", model="local-chat")
    (r,) = audit_records(records)
    assert r.levelno == logging.INFO and r.op == "complete" and r.status == "ok" and r.status_code == 200
    assert (r.provider, r.model, r.attempts, r.cached, r.fallback_hop) == ("local", "local-chat", 2, False, 0)
    assert (r.input_tokens, r.output_tokens, r.total_tokens) == (3, 2, 5)
    assert r.cost == pytest.approx((3 * 1.0 + 2 * 2.0) / 1e6)
    assert r.request_id == "req_2" and r.latency_ms > 0 and r.fallback_from is None
    assert not hasattr(r, "prompt") and not hasattr(r, "output")
    assert r.getMessage().startswith("complete local/local-chat ok in ")


def test_failures_are_warnings(make_client: Any, server: FakeProviderServer,
                               records: pytest.LogCaptureFixture) -> None:
    server.fail(400)
    with pytest.raises(pepperpy.InvalidRequestError):
        make_client().complete("hi", model="local-chat")
    (r,) = audit_records(records)
    assert r.levelno == logging.WARNING and r.status == "InvalidRequestError" and r.status_code == 400
    assert r.request_id == "req_1" and r.total_tokens is None


def test_cached_embed_and_stream_records(make_client: Any, server: FakeProviderServer,
                                         records: pytest.LogCaptureFixture) -> None:
    client = make_client(cache=True)
    client.embed("a", model="local-embed")
    client.embed("a", model="local-embed")
    server.reply(Reply(chunks=["a", "b"], usage=(4, 2)))
    stream = client.stream("s", model="local-chat")
    assert audit_records(records)[-1].op == "embed"  # the stream's record comes when it ends
    list(stream)
    with client.stream("closing early", model="local-chat") as early:
        next(early)
    embed1, embed2, streamed, closed = audit_records(records)
    assert (embed1.cached, embed2.cached, embed2.attempts) == (False, True, 0)
    assert streamed.op == "stream" and streamed.status == "ok" and streamed.total_tokens == 6
    assert closed.status == "closed"


def test_mid_stream_errors_are_recorded(make_client: Any, server: FakeProviderServer,
                                        records: pytest.LogCaptureFixture) -> None:
    from pepperpy.testing import Fault

    server.fault(Fault.STREAM_ERROR)
    with pytest.raises(pepperpy.ProviderError):
        list(make_client().stream("one two", model="local-chat"))
    (r,) = audit_records(records)
    assert r.op == "stream" and r.status != "ok" and r.levelno == logging.WARNING


def test_log_content_adds_prompt_and_output(make_client: Any, server: FakeProviderServer,
                                            records: pytest.LogCaptureFixture) -> None:
    make_client(log_content=True).complete("what is 2+2?", model="local-chat")
    (r,) = audit_records(records)
    assert r.prompt["messages"][-1]["content"] == "what is 2+2?" and r.output == "echo: what is 2+2?"


@pytest.mark.parametrize("key, content", [(KEY, True), ("plain-local-key-without-a-known-shape", False)])
def test_no_credential_reaches_any_pepperpy_log_line(make_client: Any, server: FakeProviderServer,
                                                     caplog: pytest.LogCaptureFixture, key: str,
                                                     content: bool) -> None:
    caplog.set_level(logging.DEBUG, logger="pepperpy")
    server.api_key = key[:-1] + "X"  # the server refuses the key
    client = make_client(api_keys={"local": key}, max_retries=0, log_content=content,
                         breaker={"fail_max": 1, "reset_timeout": 60})
    with pytest.raises(pepperpy.AuthenticationError):
        client.complete(f"my key is {key}" if content else "hi", model="local-chat")
    server.api_key = None
    server.fail(500)
    with pytest.raises(pepperpy.ProviderUnavailableError):
        client.complete("again", model="local-chat")  # opens the breaker: a state-change line too
    assert len(caplog.records) == 3 and "circuit for local opened" in caplog.text
    for record in caplog.records:
        assert key not in record.getMessage()
        assert key not in repr(vars(record))


def test_the_filter_scrubs_message_args_and_extras() -> None:
    record = logging.LogRecord("pepperpy.audit", logging.INFO, __file__, 1, "key %s", ("sk-abcdefghijkl1234",),
                               None)
    record.prompt = {"messages": [{"content": "Bearer abc.def.ghi-jkl"}]}
    record.note = "custom-secret-value"
    assert RedactionFilter(secrets=["custom-secret-value"]).filter(record)
    assert record.getMessage() == "key ***"
    assert record.prompt == {"messages": [{"content": "Bearer ***"}]}
    assert record.note == "***"


def test_no_audit_work_when_the_logger_is_off(make_client: Any, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pepperpy.audit")

    def boom(fields: dict[str, Any]) -> None:
        raise AssertionError("audit record built while pepperpy.audit is off")

    monkeypatch.setattr(audit, "emit", boom)
    client = make_client()
    client.complete("hi", model="local-chat")
    list(client.stream("hi", model="local-chat"))


def test_at_warning_failures_are_recorded_and_successes_cost_nothing(make_client: Any, server: FakeProviderServer,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """WARNING is the documented way to log failures only: the level is decided by the outcome, not before."""
    caplog.set_level(logging.WARNING, logger="pepperpy.audit")
    client = make_client(max_retries=0)
    client.complete("fine", model="local-chat")
    server.fail(400)
    with pytest.raises(pepperpy.InvalidRequestError):
        client.complete("hi", model="local-chat")
    server.reply(Reply(chunks=["a", "b"]))
    list(client.stream("fine", model="local-chat"))
    server.fault(Fault.stream_error(1, message="overloaded"))
    with pytest.raises(pepperpy.ProviderError):
        list(client.stream("hi", model="local-chat"))
    got = [(r.levelno, r.op, r.status) for r in audit_records(caplog)]
    assert got[0] == (logging.WARNING, "complete", "InvalidRequestError")
    assert got[1][:2] == (logging.WARNING, "stream") and got[1][2] != "ok"
    assert len(got) == 2, got
