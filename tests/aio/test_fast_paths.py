"""The async road's shortcuts give what the long way gives (issue 27): ``evolve`` is ``dataclasses.replace``, the
ledger's remembered day is ``day_of`` of the clock, the JSON read of an answer is ``json.loads``, and a ``Gate``
admits, queues and hands over slots as ``asyncio.Semaphore`` does, cancellations included."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.http._async_limits import Gate
from pepperpy.media import Images
from pepperpy.observe.ledger import Ledger
from pepperpy.pipeline._decode import json_body
from pepperpy.types import Chunk, Completion, Embeddings, ModelSpec, Pricing, ToolCall, Usage, day_of
from pepperpy.types._evolve import builder, evolve

COMPLETION = Completion(text="hi", model="m", provider="p", finish_reason="stop", usage=Usage(3, 4, 7), cost=None,
                        raw={"id": "x"}, tool_calls=(ToolCall("c1", "f", {"a": 1}),), request_id="r")


@pytest.mark.parametrize("value, changes", [
    (COMPLETION, {"cost": 0.25}),
    (COMPLETION, {"request_id": "req-2", "cost": None}),
    (COMPLETION, {}),
    (Embeddings(vectors=[[0.1]], model="e", provider="p", usage=Usage(2, 0, 2)), {"cost": 1e-6}),
    (Usage(1, 2, 3), {"output_tokens": 5}),  # a __post_init__: replace itself
    (ModelSpec("m", "p", prices=(Pricing(1, 2),)), {"context_window": 10}),  # an InitVar: replace itself
])
def test_evolve_is_replace(value: object, changes: dict[str, object]) -> None:
    ours, theirs = evolve(value, **changes), dataclasses.replace(value, **changes)  # type: ignore[type-var]
    assert type(ours) is type(theirs) and ours == theirs and ours is not value
    assert [getattr(ours, f.name) for f in dataclasses.fields(ours)] == \
        [getattr(theirs, f.name) for f in dataclasses.fields(theirs)]  # created too, which == leaves out
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(ours, dataclasses.fields(ours)[0].name, None)


@pytest.mark.parametrize("value", [COMPLETION, Embeddings(vectors=[[0.1]], model="e", provider="p"), Usage(1, 2, 3),
                                   ModelSpec("m", "p", prices=(Pricing(1, 2),))])
def test_a_builder_makes_what_the_class_makes(value: object) -> None:
    args = [getattr(value, f.name) for f in dataclasses.fields(value)]  # type: ignore[arg-type]
    if type(value) in (Usage, ModelSpec):  # a __post_init__, an InitVar: the class itself builds them
        assert builder(type(value)) is type(value)
        return
    made = builder(type(value))(*args)
    assert type(made) is type(value) and made == value and made is not value
    assert [getattr(made, f.name) for f in dataclasses.fields(made)] == args
    with pytest.raises(TypeError):
        builder(type(value))(*args[:-1])  # every field, in order


def test_a_builder_of_some_fields_gives_the_others_their_defaults() -> None:
    chunk = builder(Chunk, "text", "raw")("hi", {"id": 1})
    assert type(chunk) is Chunk and chunk == Chunk("hi", raw={"id": 1})
    assert [getattr(chunk, f.name) for f in dataclasses.fields(chunk)] == \
        [getattr(Chunk("hi", raw={"id": 1}), f.name) for f in dataclasses.fields(chunk)]
    made = builder(Completion, "text", "model", "provider")("t", "m", "p")  # usage has a default_factory: __init__
    assert made == Completion("t", "m", "p") and made.usage is not Completion("t", "m", "p").usage
    with pytest.raises(TypeError):
        builder(Chunk, "text", "raw")("only one")


def test_evolve_refuses_what_replace_refuses() -> None:
    for value in (COMPLETION, Images(images=[], model="i", provider="p")):
        with pytest.raises(TypeError):
            dataclasses.replace(value, colour="red")  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            evolve(value, colour="red")


def test_the_ledgers_day_is_the_clocks_day_across_midnights() -> None:
    now = [0.0]
    ledger = Ledger(clock=lambda: now[0])
    moments = [0.0, 86399.999, 86400.0, 1_765_152_000.5, 1_765_238_399.999, 1_765_238_400.0, 1_765_152_000.5, -0.5,
               -86400.0, 4_102_444_799.0]
    moments += [random.Random(27).uniform(-1e9, 4e9) for _ in range(5000)]
    for moment in moments:  # forwards, backwards (a clock set back), across each midnight
        now[0] = moment
        assert ledger.day() == day_of(moment)


class _Answer:
    status_code = 200

    def __init__(self, content: bytes) -> None:
        self.content = content


class _Transport:
    provider = "p"


@pytest.mark.parametrize("content", [
    b'{"a": 1, "b": [true, null]}', '{"a": "é"}'.encode(), b'{"a": "\\ud800"}', b"\xef\xbb\xbf{}",
    '{"a": 1}'.encode("utf-16"), '{"a": 1}'.encode("utf-16-le"), '{"a": 1}'.encode("utf-32"), b"[1, 2]",
    b' {"a": 1}', b"{", b"{} trailing", b"{\xff}", b"{\x00}", b"", b"null",
])
def test_an_answers_json_is_read_as_json_loads_reads_it(content: bytes) -> None:
    try:
        expected: object = json.loads(content)
    except ValueError:
        expected = ValueError
    try:
        found: object = json_body(_Transport(), _Answer(content), ModelSpec("m", "p"))  # type: ignore[arg-type]
    except Exception as exc:  # the ProviderAPIError of a body that is not JSON
        assert isinstance(exc.__cause__, ValueError)
        found = ValueError
    assert found == expected


def test_a_gate_admits_its_size_then_queues_in_order() -> None:
    async def main() -> list[int]:
        gate, order, inside = Gate(2), [], [0]

        async def one(i: int) -> None:
            if not gate.take():
                await gate.wait()
            try:
                inside[0] += 1
                assert inside[0] <= 2
                order.append(i)
                await asyncio.sleep(0.001 * (i % 3))
            finally:
                inside[0] -= 1
                gate.give()

        await asyncio.gather(*(one(i) for i in range(12)))
        assert gate.free == 2 and not gate.waiters
        return order

    order = asyncio.run(main())
    assert sorted(order) == list(range(12)) and order[:2] == [0, 1]


def test_a_gate_waiter_cancelled_before_or_after_its_turn_loses_no_slot() -> None:
    async def main() -> None:
        gate = Gate(1)
        assert gate.take()
        early, late, third = (asyncio.ensure_future(gate.wait()) for _ in range(3))
        await asyncio.sleep(0)
        early.cancel()  # cancelled while waiting: it leaves the queue
        await asyncio.sleep(0)
        gate.give()  # goes to `late` ...
        late.cancel()  # ... which is cancelled before it runs: the slot goes on to `third`
        await asyncio.sleep(0)
        assert early.cancelled() and late.cancelled()
        await asyncio.wait_for(third, 1)
        gate.give()
        assert gate.free == 1 and not gate.waiters
        assert gate.take() and not gate.take()  # one slot, as given

    asyncio.run(main())


def test_a_gate_keeps_first_come_first_served_when_a_slot_frees() -> None:
    """A newcomer finding a slot free while others wait queues behind them, as asyncio.Semaphore makes it."""
    async def main() -> None:
        gate = Gate(1)
        assert gate.take()
        waiting = asyncio.ensure_future(gate.wait())
        await asyncio.sleep(0)
        gate.give()  # handed to `waiting`: not free for a newcomer
        assert not gate.take()
        await waiting
        gate.give()
        assert gate.take()

    asyncio.run(main())


# --------------------------------------------------------------------------- the ledger without an Entry

def _calls(client: pepperpy.Client, mode: str) -> list[pepperpy.Completion]:
    prompts = ["hi", "hello there", "hi"]
    if mode == "blocking":
        return [client.complete(p, model="local/local-chat") for p in prompts]

    async def main() -> list[pepperpy.Completion]:
        return list(await asyncio.gather(*(client.acomplete(p, model="local/local-chat") for p in prompts)))

    return asyncio.run(main())


def _totals(client: pepperpy.Client) -> list[tuple[str, tuple[object, ...]]]:
    return [(name, (row.calls, row.errors, row.input_tokens, row.output_tokens, row.cost, row.cache_hits, row.saved))
            for name, row in sorted(client.usage().items())]


@pytest.mark.parametrize("mode", ["blocking", "async"])
def test_an_answer_nobody_watches_is_booked_as_one_that_is_watched(mode: str, local_catalog: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """With no hook, no span, no budget and the audit log at WARNING, an answer goes into the totals without an
    Entry; with a response hook, a budget, or audit records at INFO, through one: the same totals and costs, and
    what the hook, the budget and the audit record see is those figures."""
    seen: dict[str, list[tuple[str, tuple[object, ...]]]] = {}
    for setup in ("quiet", "hook", "budget", "audit"):
        events: list[Any] = []
        options: dict[str, Any] = {"budget": 5.0} if setup == "budget" else {}
        with pepperpy.Client(catalog=local_catalog, env_file=None, **options) as client:
            if setup == "hook":
                client.on("response", events.append)
            caplog.clear()
            with caplog.at_level(logging.INFO if setup == "audit" else logging.WARNING, logger="pepperpy.audit"):
                answers = _calls(client, mode)
            seen[setup] = _totals(client)
            assert sum(a.cost or 0.0 for a in answers) == pytest.approx(client.usage().total.cost)
            if setup == "hook":
                assert sorted((e.status, e.cost, e.usage.total_tokens) for e in events) == sorted(
                    ("ok", a.cost, a.usage.total_tokens) for a in answers)  # in the order they ended
            if setup == "budget":
                assert client._pipeline.observer.budget.spent() == pytest.approx(  # type: ignore[union-attr]
                    client.usage().total.cost)
            records = [r for r in caplog.records if r.name == "pepperpy.audit"]
            assert len(records) == (3 if setup == "audit" else 0)
            if setup == "audit":
                assert sorted(r.cost for r in records) == sorted(a.cost for a in answers)  # type: ignore[attr-defined]
    assert seen["quiet"][0][1][0] == 3 and seen["quiet"][0][1][4]  # three calls, priced
    assert seen["quiet"] == seen["hook"] == seen["budget"] == seen["audit"]


def _cost_the_long_way(price: Pricing, usage: Usage) -> float:
    """Pricing.token_cost's sum as written before its shortcut for text tokens (every term, zeros included)."""
    cached = min(usage.cached_tokens, usage.input_tokens) if price.cached_input is not None else 0
    cached_audio = min(usage.cached_audio_tokens, cached) if price.cached_audio_input is not None else 0
    audio = max(usage.input_audio_tokens - cached_audio, 0) if price.audio_input is not None else 0
    image = usage.input_image_tokens if price.image_input is not None else 0
    text = max(usage.input_tokens - cached - audio - image, 0)
    spoken = min(usage.output_audio_tokens, usage.output_tokens) if price.audio_output is not None else 0
    total = (text * price.input + (cached - cached_audio) * (price.cached_input or 0.0)
             + cached_audio * (price.cached_audio_input or 0.0) + audio * (price.audio_input or 0.0)
             + image * (price.image_input or 0.0) + (usage.output_tokens - spoken) * price.output
             + spoken * (price.audio_output or 0.0))
    return round(total / 1_000_000, 10)


def test_the_price_of_text_tokens_is_the_same_float_the_long_way() -> None:
    r = random.Random(27)
    for _ in range(20_000):
        price = Pricing(r.choice([0, 0.15, 2.5, r.uniform(0, 100)]), r.choice([0, 0.6, 10, r.uniform(0, 100)]),
                        cached_input=r.choice([None, 0.075, r.uniform(0, 10)]), audio_input=r.choice([None, 40.0]),
                        image_input=r.choice([None, 5.0]), cached_audio_input=r.choice([None, 2.5]),
                        audio_output=r.choice([None, 80.0]))
        usage = Usage(r.choice([r.randint(-5, 10**6), r.randint(0, 50)]), r.choice([r.randint(-3, 10**6), 7]),
                      cached_tokens=r.choice([0, 0, r.randint(0, 100)]),
                      input_audio_tokens=r.choice([0, 0, r.randint(0, 100)]), output_audio_tokens=r.choice([0, 0, 5]))
        assert price.token_cost(usage) == _cost_the_long_way(price, usage), (price, usage)


def test_evolve_copies_fields_whose_names_its_copy_also_uses() -> None:
    """The copy ``evolve`` writes for a class names its value ``obj`` and its new values ``_0``, ``_1``...: fields
    of those names are copied and changed as any other."""

    @dataclasses.dataclass(frozen=True, slots=True)
    class Odd:
        obj: int
        copy: int
        _0: int = 0
        _cls: str = "c"

    value = Odd(1, 2, 3, "d")
    for changes in ({}, {"obj": 5}, {"_0": 7, "copy": 9}, {"_cls": "e", "obj": 0, "_0": 1}):
        assert evolve(value, **changes) == dataclasses.replace(value, **changes)
