"""Issue 24 with shared state: a shared budget's refusal names where it lives and when it starts again (item 4),
breaker_stats says the same with or without Redis (item 6), and a job's cost is booked once across workers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.jobs.helpers import job_client
from tests.shared.redis_server import RedisServer

BREAKER = {"fail_max": 2, "reset_timeout": 30}


def shared_client(local_catalog: Path, url: Any, namespace: str, **options: Any) -> pepperpy.Client:
    return pepperpy.Client(catalog=local_catalog, env_file=None, shared_state=url, shared_namespace=namespace,
                           **options)


# --------------------------------------------------------------------------- item 4: a shared budget's refusal

def test_a_shared_budget_names_its_namespace_and_when_it_starts_again(local_catalog: Path, server: FakeProviderServer,
                                                                      redis_server: RedisServer,
                                                                      namespace: str) -> None:
    first = shared_client(local_catalog, redis_server.patient_url, namespace, budget={"limit": 0.001, "per": "day"})
    server.reply("ok", usage=(10, 400))
    first.complete("hi", model="local-chat", max_tokens=450)  # ~$0.0009 of the $0.001
    fresh = shared_client(local_catalog, redis_server.patient_url, namespace, budget={"limit": 0.001, "per": "day"})
    with pytest.raises(pepperpy.BudgetExceededError) as caught:  # a brand-new Client: the budget is shared
        fresh.complete("hi", model="local-chat", max_tokens=450)
    message = str(caught.value)
    tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
    assert f"It starts again at {tomorrow} 00:00 (every day, UTC)" in message
    assert f"shared by every worker on Redis namespace {namespace!r}" in message
    assert "new Client" not in message and "lower max_tokens" in message
    forever = shared_client(local_catalog, redis_server.patient_url, namespace + "f", budget=0.0001)
    with pytest.raises(pepperpy.BudgetExceededError) as caught:
        forever.complete("hi", model="local-chat", max_tokens=450)
    assert "it never starts again" in str(caught.value) and "new Client" not in str(caught.value)
    assert "'budget:total:all'" in str(caught.value)  # the counter to delete to start from zero
    assert len(server.requests) == 1


def test_the_cli_names_the_flag_not_python(local_catalog: Path, server: FakeProviderServer, own_redis: RedisServer,
                                           monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pepperpy import cli

    monkeypatch.setenv("PEPPERPY_SHARED_STATE", own_redis.url)  # its own Redis: the CLI's namespace is the default
    code = cli.main(["complete", "--catalog", str(local_catalog), "-m", "local-chat", "--max-tokens", "1000",
                     "--budget", "0.0001", "--verbose", "hi"])
    err = capsys.readouterr().err.splitlines()[-1]
    assert code == 1 and err.startswith("error: local/local-chat could cost up to")
    assert "raise --budget" in err and "lower --max-tokens" in err
    assert "budget=" not in err and "Budget(" not in err and "Client" not in err and "max_tokens" not in err
    assert server.requests == []


# --------------------------------------------------------------------------- item 6: breaker_stats

def test_breaker_stats_say_the_same_with_or_without_redis(local_catalog: Path, server: FakeProviderServer,
                                                         redis_server: RedisServer, namespace: str) -> None:
    def opened(client: pepperpy.Client) -> pepperpy.resilience.BreakerStats:
        server.fail(503, times=2)
        for _ in range(2):
            with pytest.raises(pepperpy.ProviderUnavailableError):
                client.complete("hi", model="local-chat")
        return client.breaker_stats("local")

    before = time.time()
    local = opened(pepperpy.Client(catalog=local_catalog, env_file=None, max_retries=0, breaker=BREAKER))
    shared = opened(shared_client(local_catalog, redis_server.patient_url, namespace, max_retries=0, breaker=BREAKER))
    for stats in (local, shared):
        assert (stats.state, stats.times_opened) == ("open", 1)
        assert stats.last_failure is not None and stats.last_failure.startswith("ProviderUnavailableError: ")
        assert stats.last_failure_at is not None and before <= stats.last_failure_at <= time.time()
        assert stats.opened_at is not None and before <= stats.opened_at <= time.time()
    assert shared.last_failure == local.last_failure
    other = shared_client(local_catalog, redis_server.patient_url, namespace, breaker=BREAKER)  # another worker
    assert other.breaker_stats("local") == shared  # across processes: Redis holds them


# --------------------------------------------------------------------------- jobs: booked once across workers

def test_a_batch_is_booked_once_by_the_first_worker_that_reads_it(server: FakeProviderServer,
                                                                   redis_server: RedisServer, namespace: str) -> None:
    def worker() -> pepperpy.Client:
        return job_client(server, shared_state=redis_server.patient_url, shared_namespace=namespace,
                          budget={"limit": 1.0, "per": "day"})

    submitter, reader, late = worker(), worker(), worker()
    job = submitter.batch(["one", "two"], model="gpt-4o-mini", max_tokens=1000)
    held = submitter._pipeline.observer.budget.spent()
    assert held > 0 and reader._pipeline.observer.budget.spent() == pytest.approx(held)  # one shared budget
    reading = reader.batch_job(job.id)
    reading.wait(poll=0)
    results = reading.results()
    cost = sum(r.cost for r in results if isinstance(r, pepperpy.Completion))
    assert reader.usage()["openai/gpt-4o-mini"].calls == 2 and cost > 0
    assert reader._pipeline.observer.budget.spent() == pytest.approx(cost)  # the hold given back, the cost kept
    assert [r.cost for r in late.batch_job(job.id).results()] == [r.cost for r in results]  # priced alike...
    assert len(late.usage()) == 0  # ...but booked by the first reader only
    submitter.batch_job(job.id).results()
    assert submitter._pipeline.observer.budget.spent() == pytest.approx(cost)
