"""Client(budget=..., shared_state=...): one budget for every worker, reserved atomically in Redis."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.observe.budget import worst_case_tokens
from pepperpy.testing import FakeProviderServer
from tests.shared.redis_server import RedisServer


def worker(local_catalog: Path, url: str, namespace: str, **options: Any) -> pepperpy.Client:
    return pepperpy.Client(catalog=local_catalog, env_file=None, shared_state=url, shared_namespace=namespace,
                           **options)


def worst_case(client: pepperpy.Client, max_tokens: int) -> float:
    tokens_in, tokens_out = worst_case_tokens(client.model("local-chat"), messages=[{"role": "user", "content": "hi"}],
                                              max_tokens=max_tokens)
    return (tokens_in * 1.0 + tokens_out * 2.0) / 1e6  # local-chat's prices


def test_workers_draw_on_one_budget(local_catalog: Path, server: FakeProviderServer, redis_server: RedisServer,
                                    namespace: str) -> None:
    probe = pepperpy.Client(catalog=local_catalog, env_file=None)
    budget = worst_case(probe, 100) * 4.5  # room for 4 calls at their worst case, across all workers
    workers = [worker(local_catalog, redis_server.patient_url, namespace, budget=budget) for _ in range(3)]
    for _ in range(12):
        server.reply("ok", usage=(2, 100), delay=0.2)  # each costs its worst case, slowly: they overlap
    outcomes: list[str] = []
    lock = threading.Lock()

    def call(client: pepperpy.Client) -> None:
        try:
            client.complete("hi", model="local-chat", max_tokens=100)
            result = "ok"
        except pepperpy.BudgetExceededError:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=call, args=(workers[i % 3],)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 4 and len(server.requests) == 4
    fresh = worker(local_catalog, redis_server.patient_url, namespace, budget=budget)  # a worker started later
    with pytest.raises(pepperpy.BudgetExceededError) as caught:
        fresh.complete("hi", model="local-chat", max_tokens=100)
    assert caught.value.spent == pytest.approx(4 * (2 * 1.0 + 100 * 2.0) / 1e6)  # settled at the real costs


def test_a_settled_call_gives_back_what_it_did_not_spend(local_catalog: Path, server: FakeProviderServer,
                                                        redis_server: RedisServer, namespace: str) -> None:
    probe = pepperpy.Client(catalog=local_catalog, env_file=None)
    budget = worst_case(probe, 1000) * 1.5
    a = worker(local_catalog, redis_server.patient_url, namespace, budget=budget)
    b = worker(local_catalog, redis_server.patient_url, namespace, budget=budget)
    for _ in range(5):  # each answer costs far less than its worst case, so the budget lasts
        server.reply("ok", usage=(2, 3))
        a.complete("hi", model="local-chat", max_tokens=1000)
        server.reply("ok", usage=(2, 3))
        b.complete("hi", model="local-chat", max_tokens=1000)
    assert len(server.requests) == 10


def test_while_redis_is_down_each_worker_keeps_its_own_count(local_catalog: Path, server: FakeProviderServer,
                                                             own_redis: RedisServer, namespace: str) -> None:
    probe = pepperpy.Client(catalog=local_catalog, env_file=None)
    budget = worst_case(probe, 100) * 1.5
    client = worker(local_catalog, own_redis.url, namespace, budget=budget)
    own_redis.kill()
    server.reply("ok", usage=(2, 100))
    client.complete("hi", model="local-chat", max_tokens=100)  # counted locally
    with pytest.raises(pepperpy.BudgetExceededError):
        client.complete("hi", model="local-chat", max_tokens=100)
    assert len(server.requests) == 1
