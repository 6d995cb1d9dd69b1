"""Every realtime turn goes through the Client's books like any call: checked against the budget before the
provider is asked to answer (a refusal sends nothing), booked once from the usage the provider reports (totals,
budget, ``response`` hooks, one audit record, a telemetry span), the key in none of them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from realtime_helpers import OPENAI_KEY, pcm

import pepperpy
from pepperpy.testing import FakeRealtimeServer


def test_a_budget_refusal_sends_nothing_for_the_turn(make_client: Callable[..., pepperpy.Client],
                                                     fake: FakeRealtimeServer) -> None:
    # gpt-realtime-2's worst case: 32,000 output tokens at $24/1M = $0.768, more than the budget
    client = make_client(budget=0.5)
    with client.realtime("gpt-realtime-2") as s:
        with pytest.raises(pepperpy.BudgetExceededError) as caught:
            s.ask("Say hello")
        with pytest.raises(pepperpy.BudgetExceededError):
            s.send_text("Hello")
            s.respond()
    assert "no request was sent" in str(caught.value)
    types = [m["type"] for m in fake.wait_for_messages(2)]  # send_text's item is not answered: it may be on its way
    assert types == ["session.update", "conversation.item.create"]  # send_text's item; never a response.create
    assert client.usage().total.calls == 0 and client._pipeline.observer.budget.spent() == 0.0


def test_the_worst_case_counts_the_history_and_the_session_cap(make_client: Callable[..., pepperpy.Client],
                                                               fake: FakeRealtimeServer) -> None:
    client = make_client(budget=0.02)
    keeper = client._pipeline.observer.budget
    assert keeper is not None
    held: list[float] = []
    hold = keeper.hold

    def spy(spec: Any, estimate: Any) -> Any:
        held.append(estimate.amount)
        return hold(spec, estimate)

    keeper.hold = spy  # type: ignore[method-assign]
    fake.reply("Hi.", usage=(1000, 10))
    fake.reply("Hi again.", usage=(2000, 10))
    with client.realtime("gpt-realtime-2", max_output_tokens=100) as s:
        first = s.ask("Hello")
        s.ask("Hello")
    # the second turn's worst case bills again the 1,010 tokens of the conversation so far
    assert held[1] - held[0] >= (1010 - 20) * 4.0 / 1e6
    # the session's max_output_tokens (100), not the model's 32,000, plus a few tokens of input
    assert 100 * 24.0 / 1e6 <= held[0] < (100 * 24.0 + 50 * 4.0) / 1e6
    spent = keeper.spent()
    assert spent == pytest.approx(first.cost + (2000 * 4.0 + 10 * 24.0) / 1e6)  # settled to what was reported


def test_turns_are_booked_told_and_audited(make_client: Callable[..., pepperpy.Client], fake: FakeRealtimeServer,
                                           caplog: pytest.LogCaptureFixture) -> None:
    client = make_client(log_content=True)
    heard: list[Any] = []
    client.on("response", heard.append)
    caplog.set_level(logging.INFO, logger="pepperpy.audit")
    fake.reply(audio=pcm(0.5), transcript="Hello!", usage=(30, 12))
    with client.realtime("gpt-realtime-2", output="audio") as s:
        reply = s.ask(audio=pcm(1.0))
    (event,) = heard
    assert (event.op, event.provider, event.model, event.status) == ("realtime", "openai", "gpt-realtime-2", "ok")
    assert event.usage == reply.usage and event.cost == reply.cost
    records = [r for r in caplog.records if r.name == "pepperpy.audit"]
    assert [r.op for r in records] == ["realtime.connect", "realtime"]  # type: ignore[attr-defined]
    turn = records[1]
    assert (turn.input_tokens, turn.output_tokens, turn.cost) == (30, 12, reply.cost)  # type: ignore[attr-defined]
    assert turn.output_bytes == len(reply.audio or b"")  # type: ignore[attr-defined]
    assert turn.prompt == {"text": None, "audio_bytes": 48000}  # type: ignore[attr-defined]
    assert OPENAI_KEY not in caplog.text and all(OPENAI_KEY not in str(vars(r)) for r in caplog.records)
    totals = client.usage()["openai/gpt-realtime-2"]
    assert (totals.calls, totals.input_tokens, totals.output_tokens) == (1, 30, 12)


def test_answers_read_by_iteration_are_booked(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    fake.reply("One.", usage=(11, 3))
    with client.realtime("gpt-realtime-2") as s:
        s.send_text("Count to one")
        s.respond(instructions="Answer in one word.")
        for event in s:
            if isinstance(event, pepperpy.realtime.TurnDone):
                done = event
                break
    assert fake.sessions[0].messages[-1] == {"type": "response.create",
                                             "response": {"instructions": "Answer in one word."}}
    assert done.cost == round((11 * 4.0 + 3 * 24.0) / 1e6, 10)
    assert client.usage()["openai/gpt-realtime-2"].input_tokens == 11


def test_a_turn_is_one_telemetry_span(make_client: Callable[..., pepperpy.Client], fake: FakeRealtimeServer) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    client = make_client(telemetry=True)
    fake.reply("Hi.", usage=(9, 2))
    with client.realtime("gpt-realtime-2") as s:
        s.ask("Hello")
        s.ask("Again")
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == ["realtime gpt-realtime-2"] * 2
    attributes = spans[0].attributes or {}
    assert attributes["gen_ai.provider.name"] == "openai" and attributes["gen_ai.usage.input_tokens"] == 9
    assert attributes["server.address"] == "127.0.0.1"
