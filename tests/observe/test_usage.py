"""client.usage(): totals per provider and model that match what the fake servers reported."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import pepperpy
from pepperpy.observe.usage import UsageTotals
from pepperpy.testing import FakeProviderServer

LOCAL_PRICE = (1.0, 2.0)   # USD per 1M input / output tokens, tests/conftest.py LOCAL_MODELS
BACKUP_PRICE = (3.0, 6.0)  # tests/observe/conftest.py BACKUP_MODELS


def cost(price: tuple[float, float], tokens_in: int, tokens_out: int) -> float:
    return (tokens_in * price[0] + tokens_out * price[1]) / 1e6


def test_totals_match_what_the_servers_reported(make_client: Any, server: FakeProviderServer,
                                                backup_server: FakeProviderServer) -> None:
    client = make_client(max_retries=0, cache=True)
    scripted = [(10, 5), (7, 3)]  # (input, output) tokens the server reports for two completions
    for usage in scripted:
        server.reply("answer", usage=usage)
    client.complete("one", model="local-chat")
    client.complete("two", model="local-chat")
    server.reply("a b c", usage=(4, 6))
    with client.stream("three", model="local-chat") as s:
        "".join(chunk.text for chunk in s)
    client.complete("one", model="local-chat")  # the cache answers: a call and a hit, no tokens
    server.fail(503)
    backup_server.reply("from backup", usage=(20, 2))
    client.complete("four", model="local-chat", fallbacks=["backup-chat"])  # an error here, an answer there
    server.fail(400)
    with pytest.raises(pepperpy.InvalidRequestError):
        client.complete("five", model="local-chat")
    embed = client.embed(["x y", "z"], model="local-embed")

    report = client.usage()
    served = [(10, 5), (7, 3), (4, 6)]
    local = report["local/local-chat"]
    assert local == UsageTotals(
        calls=6, errors=2, cache_hits=1, input_tokens=sum(i for i, _ in served),
        output_tokens=sum(o for _, o in served), cost=pytest.approx(sum(cost(LOCAL_PRICE, *u) for u in served)),
        saved=pytest.approx(cost(LOCAL_PRICE, 10, 5)))  # the hit's answer had cost the first call's price
    assert report["backup/backup-chat"] == UsageTotals(calls=1, input_tokens=20, output_tokens=2,
                                                       cost=pytest.approx(cost(BACKUP_PRICE, 20, 2)))
    assert report["local/local-embed"].input_tokens == embed.usage.input_tokens > 0
    assert report["local/local-embed"].cost == pytest.approx(embed.usage.input_tokens * 0.5 / 1e6)
    assert report.total.calls == 8 and report.total.errors == 2
    assert report.by_provider["local"].calls == 7 and report["local"] == report.by_provider["local"]
    assert report.total.cost == pytest.approx(local.cost + report["backup/backup-chat"].cost + embed.cost)
    text = str(report)
    assert "local/local-chat" in text and "backup/backup-chat" in text and text.splitlines()[-1].startswith("total")


def test_usage_is_thread_safe_and_resets(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client()
    threads, per_thread = 8, 25

    def work() -> None:
        for _ in range(per_thread):
            client.complete("a b c", model="local-chat")  # the echo: 3 words in, 4 out ("echo: a b c")

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    calls = threads * per_thread
    totals = client.usage(reset=True)["local/local-chat"]
    assert (totals.calls, totals.input_tokens, totals.output_tokens) == (calls, 3 * calls, 4 * calls)
    assert totals.cost == pytest.approx(calls * cost(LOCAL_PRICE, 3, 4))
    assert client.usage().total == UsageTotals() and len(client.usage()) == 0


def test_a_stream_left_early_counts_as_a_call_without_tokens(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client()
    server.reply("a b c d", usage=(3, 4))
    with client.stream("hi", model="local-chat") as s:
        next(s)
    assert client.usage()["local/local-chat"] == UsageTotals(calls=1)
