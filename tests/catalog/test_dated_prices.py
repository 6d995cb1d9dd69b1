"""Issue 24 item 13: prices with dates. A model's pricing may list the prices in force from given dates;
``ModelSpec.pricing`` is today's, ``price_on(day)`` any day's; a call pays the price of the day it was made; the
Gemini 4 prices are those in force now; and no price whose announced end has passed goes without a successor."""

from __future__ import annotations

import calendar
import datetime
import re
from pathlib import Path

import pytest

import pepperpy
from pepperpy.catalog import Catalog
from pepperpy.testing import FakeProviderServer
from pepperpy.types import ModelSpec, Pricing
from tests.conftest import write_provider

ENDS = re.compile(r"(?<!at least )\buntil (\d{4}-\d{2}-\d{2})")  # "price until 2026-11-30" in a model's notes


def _prices(spec: ModelSpec) -> tuple[Pricing, ...]:
    prices = getattr(spec, "prices", None)
    return tuple(prices) if prices else ((spec.pricing,) if spec.pricing is not None else ())


def stale_prices(catalog: Catalog, today: str) -> list[str]:
    """Every price whose announced end date has passed without a price listed after it: by its ``until``, or by
    an end its notes announce (``... until 2026-11-30, then $4/$20``)."""
    found = []
    for spec in catalog.iter_models():
        prices = _prices(spec)
        ends = [(p.until, "until") for p in prices if getattr(p, "until", None)]
        ends += [(day, "notes") for day in ENDS.findall(spec.notes or "")]
        for end, where in ends:
            successor = any(getattr(p, "since", None) and p.since > end for p in prices)
            if end < today and not successor:
                found.append(f"{spec.name}: price ended {end} ({where}), no price after it")
    return found


def test_no_price_has_passed_its_announced_end_without_a_successor() -> None:
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    assert stale_prices(Catalog.load(), today) == []


def test_the_check_finds_a_price_that_ended() -> None:
    spec = ModelSpec("m", "p", prices=(Pricing(1, 2, until="2026-01-31"),))
    noted = ModelSpec("n", "p", pricing=Pricing(1, 2), notes="intro price until 2026-01-31, then $2/$4")
    catalog = Catalog({"p": pepperpy.types.ProviderSpec("p", "openai", "http://x", models=(spec, noted))})
    assert stale_prices(catalog, "2026-02-01") == ["p/m: price ended 2026-01-31 (until), no price after it",
                                                   "p/n: price ended 2026-01-31 (notes), no price after it"]
    assert stale_prices(catalog, "2026-01-31") == []  # its last day: still in force


def test_gemini_4_costs_what_google_charges_since_december() -> None:
    client = pepperpy.Client(env_file=None)
    for name in ("gemini-4-carbon", "gemini-pro", "gemini-4-argon", "openrouter/google/gemini-4-carbon"):
        spec = client.model(name)
        assert spec.price_on("2026-11-30") == Pricing(2.0, 10.0, 0.1, until="2026-11-30"), name
        december = spec.price_on("2026-12-01")
        assert (december.input, december.output, december.cached_input) == (4.0, 20.0, 0.2), name
        assert spec.price_on(datetime.date(2026, 12, 7)) == december
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    if today >= "2026-12-01":
        assert client.model("gemini-pro").pricing == client.model("gemini-pro").price_on("2026-12-01")


def test_a_call_pays_the_price_of_its_day(server: FakeProviderServer, tmp_path: Path) -> None:
    folder = write_provider(tmp_path / "cat", "dated", "openai", server.base_url("openai"), models="""\
        - id: dated-chat
          pricing:
            - {input: 1.0, output: 2.0, until: "2026-11-30"}
            - {input: 3.0, output: 6.0, from: "2026-12-01"}
        """)
    with pepperpy.Client(folder, env_file=None, budget=1.0) as client:
        ledger = client._pipeline.observer.ledger
        server.reply("ok", usage=(1000, 1000))
        ledger.clock = lambda: calendar.timegm((2026, 11, 30, 23, 0, 0))
        assert client.complete("hi", model="dated-chat").cost == pytest.approx(0.003)
        server.reply("ok", usage=(1000, 1000))
        ledger.clock = lambda: calendar.timegm((2026, 12, 1, 0, 30, 0))
        assert client.complete("hi", model="dated-chat").cost == pytest.approx(0.009)
        assert client.usage().total.cost == pytest.approx(0.012)


def test_dated_prices_are_checked_in_the_catalog(tmp_path: Path) -> None:
    folder = write_provider(tmp_path / "bad", "bad", "openai", "http://127.0.0.1:9/v1", models="""\
        - id: out-of-order
          pricing:
            - {input: 1.0, output: 2.0, from: "2026-12-01"}
            - {input: 3.0, output: 6.0, from: "2026-11-01"}
        - id: ends-before-it-starts
          pricing: {input: 1.0, output: 2.0, from: "2026-12-01", until: "2026-11-01"}
        - id: no-start
          pricing:
            - {input: 1.0, output: 2.0}
            - {input: 3.0, output: 6.0}
        - id: bad-key
          pricing: [{input: 1.0, output: 2.0, form: "2026-12-01"}]
        """)
    with pytest.raises(pepperpy.CatalogError) as caught:
        pepperpy.Client(folder, env_file=None)
    problems = [str(problem) for problem in caught.value.problems]
    assert any("models[0].pricing[1].from: from 2026-11-01 is not after the price before it" in p for p in problems)
    assert any("models[1].pricing.until: until 2026-11-01 is before from 2026-12-01" in p for p in problems)
    assert any("models[2].pricing[1]: a later price needs 'from'" in p for p in problems)
    assert any("models[3].pricing[0].form: unknown key 'form'; did you mean 'from'?" in p for p in problems)
