"""Budgets, usage totals, hooks and telemetry of calls awaited on the event loop, many at once: the same books as
the blocking calls keep, to the cent, whatever fails, is refused or is cancelled along the way."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest

import pepperpy
from pepperpy.observe.budget import worst_case_tokens
from pepperpy.testing import FakeProviderServer

# local-chat: 1.0 USD per 1M input tokens, 2.0 per 1M output tokens


def cost(tokens_in: int, tokens_out: int) -> float:
    return (tokens_in * 1.0 + tokens_out * 2.0) / 1e6


def test_concurrent_awaits_never_pass_the_budget_together(make_client: Any, server: FakeProviderServer) -> None:
    spec = make_client().model("local-chat")
    tokens_in, tokens_out = worst_case_tokens(spec, messages=[{"role": "user", "content": "hi"}], max_tokens=100)
    client = make_client(budget=cost(tokens_in, tokens_out) * 5.5)  # room for 5 calls at their worst case
    for _ in range(12):
        server.reply("ok", usage=(2, 100), delay=0.3)

    async def main() -> list[Any]:
        calls = (client.acomplete("hi", model="local-chat", max_tokens=100) for _ in range(12))
        return await asyncio.gather(*calls, return_exceptions=True)

    outcomes = asyncio.run(main())
    assert sum(isinstance(o, pepperpy.Completion) for o in outcomes) == 5
    assert sum(isinstance(o, pepperpy.BudgetExceededError) for o in outcomes) == 7
    assert len(server.requests) == 5
    keeper = client._pipeline.observer.budget
    assert keeper is not None and keeper.spent() == pytest.approx(5 * cost(2, 100), abs=1e-12)


def test_the_books_balance_after_a_storm_of_answers_failures_refusals_and_cancels(
        make_client: Any, server: FakeProviderServer, backup_server: FakeProviderServer) -> None:
    """200 awaits at once to one provider (answers of many sizes and 5xx failures), and to another 10 slow calls
    that hold its whole budget, 20 that it refuses meanwhile, and then the 10 slow ones cancelled. Every
    reservation is settled or given back: the budget holds what the answers cost, which is what the usage totals
    say, and nothing of the cancelled calls."""
    spec = make_client().model("backup-chat")
    tokens_in, tokens_out = worst_case_tokens(spec, messages=[{"role": "user", "content": "slow"}], max_tokens=50)
    worst = (tokens_in * 3.0 + tokens_out * 6.0) / 1e6
    client = make_client(budget=pepperpy.Budget(1.0, providers={"backup": worst * 10.5}), max_retries=0)
    for i in range(200):
        if i % 5 == 0:
            server.fail(503)
        else:
            server.reply("ok", usage=(i, 2 * i), delay=0.05)
    backup_server.default_delay = 5.0  # the slow ones never get their answer

    async def main() -> tuple[list[Any], list[Any], list[Any]]:
        slow = [asyncio.ensure_future(client.acomplete("slow", model="backup-chat", max_tokens=50))
                for _ in range(10)]
        await asyncio.sleep(0.2)  # in flight: their worst cases are held
        refused = await asyncio.gather(*(client.acomplete("slow", model="backup-chat", max_tokens=50)
                                         for _ in range(20)), return_exceptions=True)
        calls = [client.acomplete(f"q{i}", model="local-chat", max_tokens=1000) for i in range(200)]
        answered = await asyncio.gather(*calls, return_exceptions=True)
        for task in slow:
            task.cancel()
        cancelled = await asyncio.gather(*slow, return_exceptions=True)
        return answered, refused, cancelled

    answered, refused, cancelled = asyncio.run(main())
    assert all(isinstance(o, pepperpy.BudgetExceededError) and o.scope == "backup" for o in refused)
    assert all(isinstance(o, asyncio.CancelledError) for o in cancelled)
    answers = [o for o in answered if isinstance(o, pepperpy.Completion)]
    assert len(answers) == 160 and sum(isinstance(o, pepperpy.ProviderUnavailableError) for o in answered) == 40
    spent = sum(a.cost for a in answers)
    keeper = client._pipeline.observer.budget
    assert keeper is not None
    assert keeper.spent("backup") == pytest.approx(0.0, abs=1e-12)  # the cancelled calls gave theirs back
    assert keeper.spent() == pytest.approx(spent, abs=1e-12)  # nothing held, nothing lost
    totals = client.usage()["local/local-chat"]
    assert (totals.calls, totals.errors) == (200, 40)
    scripted = sum(i for i in range(200) if i % 5)  # what the server's 160 answers said, whatever their order
    assert (totals.input_tokens, totals.output_tokens) == (scripted, 2 * scripted)
    assert totals.cost == pytest.approx(spent, abs=1e-12)
    assert len(backup_server.requests) == 10  # the refused ones never went out


def test_hooks_of_awaited_calls_never_hold_the_key(server: FakeProviderServer) -> None:
    key = "sk-secret-abcdefghijklmnop"
    client = pepperpy.Client(env_file=None, api_keys={"openai": key}, max_retries=1,
                             providers={"openai": {"base_url": server.base_url("openai").replace(
                                 "http://", "http://user:pa55word-secret@")}})
    seen: list[Any] = []
    for name in pepperpy.events.EVENTS:
        client.on(name, seen.append)  # type: ignore[arg-type]
    server.fail(429, headers={"retry-after": "0"}, message=f"slow down, {key}")
    asyncio.run(client.acomplete("hi", model="gpt-4o-mini"))
    server.fail(401, message=f"Incorrect API key provided: {key}")
    with pytest.raises(pepperpy.AuthenticationError):
        asyncio.run(client.acomplete("hi", model="gpt-4o-mini"))
    kinds = {type(event).__name__ for event in seen}
    assert {"RequestEvent", "RetryEvent", "ResponseEvent"} <= kinds
    for event in seen:
        text = repr(event) + str(getattr(event, "error", ""))
        assert key not in text and "pa55word-secret" not in text, text


def test_with_telemetry_off_no_span_or_metric_is_made(
        local_catalog: Any, server: FakeProviderServer) -> None:
    """An application that set its own tracer and meter providers, and a Client left at telemetry's default:
    complete, acomplete and aembed record nothing: no Telemetry is made, so no span or instrument exists."""
    code = f"""
import asyncio
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
exporter, reader = InMemorySpanExporter(), InMemoryMetricReader()
provider = TracerProvider(); provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider); metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
import pepperpy
client = pepperpy.Client(catalog={str(local_catalog)!r}, env_file=None)
client.complete("a", model="local-chat")
async def main():
    await asyncio.gather(client.acomplete("b", model="local-chat"), client.aembed("c", model="local-embed"))
asyncio.run(main())
data = reader.get_metrics_data()
print(len(exporter.get_finished_spans()), data is None or not data.resource_metrics,
      client._pipeline.observer.telemetry is None)
"""
    pytest.importorskip("opentelemetry.sdk")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", "True", "True"]
    assert len(server.requests) == 3


def test_a_call_cancelled_as_its_worker_starts_holds_nothing_on_the_budget(
        make_client: Any, server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hop the loop cannot send (here a custom transport) runs in a worker. Cancelled before that worker took
    the budget's hold, the await gives back what it holds (nothing yet), and the worker must not take a hold
    afterwards that nobody gives back. A worker slow to start (a busy machine) is played by a slow reserve."""
    from pepperpy.observe._observer import Observer
    from pepperpy.testing import FakeAdapter

    class SlowAdapter(FakeAdapter):  # FakeAdapter does not sleep a Reply's delay: this one takes its time
        slow = False

        def send(self, request: Any, **kwargs: Any) -> Any:
            if self.slow:
                import time

                time.sleep(1.0)
            return super().send(request, **kwargs)

    adapter = SlowAdapter()
    client = make_client(budget=1.0, transport=adapter)
    adapter.reply("warm", usage=(1, 1))
    asyncio.run(client.acomplete("hi", model="local-chat", max_tokens=100))  # the model is prepared
    keeper = client._pipeline.observer.budget
    assert keeper is not None
    warm = keeper.spent()
    adapter.reply("late")
    adapter.slow = True
    reserve = Observer.reserve

    def slow_reserve(self: Observer, *args: Any, **kwargs: Any) -> None:
        import time

        time.sleep(0.3)
        reserve(self, *args, **kwargs)

    monkeypatch.setattr(Observer, "reserve", slow_reserve)

    async def main() -> None:
        call = asyncio.ensure_future(client.acomplete("hi", model="local-chat", max_tokens=100))
        await asyncio.sleep(0.1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(main())
    import time

    time.sleep(0.5)  # the worker has woken and gone as far as it goes
    assert keeper.spent() == pytest.approx(warm, abs=1e-12)
