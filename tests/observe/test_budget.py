"""Client(budget=...): a call whose worst case would pass the budget is refused before anything is sent."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import pepperpy
from pepperpy.observe.budget import WORST_OUTPUT_TOKENS, Budget, BudgetKeeper, worst_case_tokens
from pepperpy.testing import FakeProviderServer

# local-chat: 1.0 USD per 1M input tokens, 2.0 per 1M output tokens, max_output_tokens 1024


def test_a_call_that_could_pass_the_budget_is_refused_before_sending(make_client: Any,
                                                                     server: FakeProviderServer) -> None:
    client = make_client(budget=0.0015)
    server.reply("ok", usage=(10, 5))
    client.complete("hi", model="local-chat", max_tokens=500)  # worst case ~0.001 USD: it fits
    spent = (10 * 1.0 + 5 * 2.0) / 1e6  # settled at its real cost
    sent = len(server.requests)
    with pytest.raises(pepperpy.BudgetExceededError) as caught:
        client.complete("hi", model="local-chat", max_tokens=1000)  # worst case ~0.002 USD
    assert len(server.requests) == sent  # nothing was sent
    error = caught.value
    assert (error.scope, error.limit, error.period, error.model) == ("total", 0.0015, None, "local/local-chat")
    assert error.spent == pytest.approx(spent)
    assert error.needed == pytest.approx((worst_case_tokens(client.model("local-chat"),
                                                            messages=[{"role": "user", "content": "hi"}])[0]
                                          * 1.0 + 1000 * 2.0) / 1e6)
    assert "no request was sent" in str(error) and "lower max_tokens" in str(error)
    assert client.usage().total.calls == 1  # a refused call is not a call


def test_without_max_tokens_the_catalog_bounds_the_output(make_client: Any, server: FakeProviderServer) -> None:
    spec = make_client().model("local-chat")
    assert worst_case_tokens(spec, messages=[{"role": "user", "content": "hi"}])[1] == 1024  # max_output_tokens
    client = make_client(budget=1024 * 2.0 / 1e6)  # exactly the output's worst case: the input makes it too much
    with pytest.raises(pepperpy.BudgetExceededError):
        client.complete("hi", model="local-chat")
    assert server.requests == []
    bare = pepperpy.types.ModelSpec("m", "p", pricing=pepperpy.types.Pricing(1.0, 1.0))
    assert worst_case_tokens(bare, messages=[])[1] == WORST_OUTPUT_TOKENS


def test_a_failed_request_gives_its_reservation_back(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(budget=0.0021, max_retries=0)
    for _ in range(3):
        server.fail(500)
        with pytest.raises(pepperpy.ProviderUnavailableError):
            client.complete("hi", model="local-chat", max_tokens=1000)
    client.complete("hi", model="local-chat", max_tokens=1000)  # still fits: nothing was kept for the failures


def test_provider_and_model_limits(make_client: Any, server: FakeProviderServer,
                                   backup_server: FakeProviderServer) -> None:
    client = make_client(budget=Budget(providers={"backup": 0.001}, models={"lc": 1.0}))
    with pytest.raises(pepperpy.BudgetExceededError) as caught:
        client.complete("hi", model="backup-chat", max_tokens=1000)  # 0.006 at backup's prices
    assert caught.value.scope == "backup" and backup_server.requests == []
    client.complete("hi", model="local-chat", max_tokens=1000)
    assert client.usage()["local/local-chat"].calls == 1
    with pytest.raises(pepperpy.ModelNotFoundError):
        make_client(budget={"models": {"no-such-model": 1.0}})
    with pytest.raises(pepperpy.ConfigurationError, match="unknown provider 'no-such-provider'"):
        make_client(budget={"providers": {"no-such-provider": 1.0}})


def test_concurrent_calls_never_pass_the_limit_together(make_client: Any, server: FakeProviderServer) -> None:
    worst = None
    client = make_client(budget=1.0)
    spec = client.model("local-chat")
    tokens_in, tokens_out = worst_case_tokens(spec, messages=[{"role": "user", "content": "hi"}], max_tokens=100)
    worst = (tokens_in * 1.0 + tokens_out * 2.0) / 1e6
    client = make_client(budget=worst * 5.5)  # room for 5 calls in flight at their worst case
    for _ in range(12):
        server.reply("ok", usage=(2, 100), delay=0.3)  # each really costs its worst case, slowly
    outcomes: list[str] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            client.complete("hi", model="local-chat", max_tokens=100)
            result = "ok"
        except pepperpy.BudgetExceededError:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 5 and outcomes.count("refused") == 7
    assert len(server.requests) == 5


def test_periods_start_again(catalogs: Any) -> None:
    now = [1_700_000_000.0]  # 2023-11-14 22:13 UTC
    client = pepperpy.Client(catalog=catalogs, env_file=None)
    spec = client.model("local-chat")
    keeper = BudgetKeeper(Budget(0.003, per="day"), lambda name: client.model(name), clock=lambda: now[0])
    messages = [{"role": "user", "content": "hi"}]
    first = keeper.reserve(spec, messages=messages, max_tokens=1000)
    keeper.settle(first, 0.002)
    with pytest.raises(pepperpy.BudgetExceededError) as caught:
        keeper.reserve(spec, messages=messages, max_tokens=1000)
    assert caught.value.period == "day" and "per day" in str(caught.value)
    assert "It starts again at 2023-11-15 00:00 (every day, UTC)" in str(caught.value)
    now[0] += 2 * 3600  # past midnight UTC: a new day
    assert keeper.reserve(spec, messages=messages, max_tokens=1000) is not None
    assert keeper.spent() == pytest.approx(worst_case_tokens(spec, messages=messages, max_tokens=1000)[0] * 1e-6
                                           + 1000 * 2e-6)


def test_bad_budgets_are_configuration_errors(make_client: Any) -> None:
    for bad in (-1, "5", {"limit": 5, "per": "week"}, {"limit": 5, "period": "day"}, {"per": "day"},
                float("inf"), True):
        with pytest.raises(pepperpy.ConfigurationError):
            make_client(budget=bad)
    assert make_client(budget={"limit": 5, "per": "day"}) is not None


def test_unpriced_models_are_not_limited(make_client: Any, server: FakeProviderServer, catalogs: Any) -> None:
    (catalogs / "free.yaml").write_text(
        f"provider: free\ndialect: openai\nbase_url: {server.base_url('openai')}\nrequires_api_key: false\n"
        f"models:\n  - id: free-chat\n    mode: chat\n    context_window: 8192\n    max_output_tokens: 512\n"
        f"    source: https://example.com\n",
        encoding="utf-8")
    client = make_client(budget=0.0)
    client.complete("hi", model="free-chat")
    with pytest.raises(pepperpy.BudgetExceededError):
        client.complete("hi", model="local-chat")
