"""A batch's life at the provider: queued -> running -> done, expiry, cancel, failure, split by provider
limits, failed polls, waits that time out; each played fast by the fake server."""

from __future__ import annotations

import io
import re
import sys
import types
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.jobs.helpers import FakeClock, job_client

MODELS = {"anthropic": "claude-haiku-4-5", "gemini": "gemini-3.8-flash", "openai": "gpt-4o-mini"}


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_the_life_of_a_batch_is_seen_through_status(provider: str, client: pepperpy.Client,
                                                    server: FakeProviderServer) -> None:
    server.jobs.polls = 3
    job = client.batch(["a", "b"], model=MODELS[provider])
    states = [job.status().state for _ in range(4)]
    assert states == ["running", "running", "completed", "completed"]
    assert len([r for r in server.requests if r.method == "GET"]) == 3  # a finished part is not polled again


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_an_expired_batch_returns_what_it_has_and_the_rest_as_expired(provider: str, client: pepperpy.Client,
                                                                      server: FakeProviderServer) -> None:
    server.jobs.outcome("expired")
    job = client.batch([f"q{i}" for i in range(4)], model=MODELS[provider])
    final = job.wait(poll=0)
    assert (final.state, final.done, final.failed) == ("expired", 2, 2)
    results = job.results()
    assert [r.text for r in results[:2] if isinstance(r, pepperpy.Completion)] == ["echo: q0", "echo: q1"]
    for late in results[2:]:
        assert isinstance(late, pepperpy.JobError) and late.state == "expired" and late.job_id == job.id


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_a_cancelled_batch_keeps_the_answers_it_had(provider: str, client: pepperpy.Client,
                                                    server: FakeProviderServer) -> None:
    server.jobs.polls = 10
    job = client.batch([f"q{i}" for i in range(4)], model=MODELS[provider])
    assert job.status().state == "running"
    assert job.cancel().state == "cancelled"  # the fake stops at its next status read
    results = job.results()
    assert isinstance(results[0], pepperpy.Completion) and results[0].text == "echo: q0"
    assert isinstance(results[3], pepperpy.JobError) and results[3].state == "cancelled"
    cancels = [r for r in server.requests if r.method == "POST" and "cancel" in r.path]
    assert len(cancels) == 1


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_a_failed_batch_makes_every_item_its_error(provider: str, client: pepperpy.Client,
                                                   server: FakeProviderServer) -> None:
    server.jobs.outcome("failed")
    job = client.batch(["a", "b"], model=MODELS[provider])
    final = job.wait(poll=0)
    assert final.failed == 2 and final.done == 0
    for result in job.results():
        assert isinstance(result, pepperpy.ProviderError)


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_provider_limits_split_the_input_into_several_provider_batches(provider: str, server: FakeProviderServer,
                                                                       clock: FakeClock) -> None:
    limit = {"options": {"batch_max_requests": 4}}
    with job_client(server, providers={provider: limit}) as client:
        items: list[object] = [f"q{i}" for i in range(10)]
        items[5] = {"prompt": "bad", "max_tokens": -1}
        job = client.batch(items, model=MODELS[provider])
        assert len(job.provider_ids) == 3  # 9 valid items, 4 per provider batch
        assert len({*job.provider_ids}) == 3 and len(server.jobs.all) == 3
        assert job.wait(poll=0).state == "completed"
        results = client.batch_job(job.id).results()  # resumed from the id alone
    assert [r.text if isinstance(r, pepperpy.Completion) else type(r).__name__ for r in results] == [
        "echo: q0", "echo: q1", "echo: q2", "echo: q3", "echo: q4", "ValidationError", "echo: q6", "echo: q7",
        "echo: q8", "echo: q9"]


def test_a_byte_limit_splits_too(server: FakeProviderServer) -> None:
    with job_client(server, providers={"anthropic": {"options": {"batch_max_bytes": 400}}}) as client:
        job = client.batch(["x" * 100] * 5, model="claude-haiku-4-5")
        sizes = [len(j.items) for j in server.jobs.all]
        assert sum(sizes) == 5 and len(sizes) == len(job.provider_ids) > 1
        for fake in server.requests:
            assert len(fake.body) < 400 + 50  # each create body holds its lines plus the envelope


def test_a_poll_that_fails_is_retried_and_a_wait_survives_passing_trouble(client: pepperpy.Client,
                                                                          server: FakeProviderServer,
                                                                          clock: FakeClock) -> None:
    job = client.batch(["a"], model="claude-haiku-4-5")
    server.fail(503, times=3)  # the first poll's attempts: 1 + 2 retries, all 503
    server.fail(500)           # the next poll's first attempt
    final = job.wait()
    assert final.state == "completed"
    assert len(clock.sleeps) >= 4  # backoffs and poll intervals, all on the fake clock


def test_a_poll_that_keeps_failing_raises_and_the_id_still_resumes(server: FakeProviderServer,
                                                                   clock: FakeClock) -> None:
    policy = pepperpy.RetryPolicy(max_retries=0, sleep=clock.sleep, clock=clock)
    with job_client(server, retry_policy=policy, breaker=False) as client:
        job = client.batch(["a"], model="claude-haiku-4-5")
        server.fail(503, times=5)
        with pytest.raises(pepperpy.ProviderUnavailableError) as caught:
            job.wait(poll=1)
        assert job.id in str(caught.value)  # the message says how to resume
        assert client.batch_job(job.id).wait(poll=0).state == "completed"


def test_an_auth_failure_while_polling_is_raised_at_once(client: pepperpy.Client, server: FakeProviderServer) -> None:
    job = client.batch(["a"], model="claude-haiku-4-5")
    server.fail(401)
    with pytest.raises(pepperpy.AuthenticationError):
        job.wait(poll=0)


def test_wait_times_out_on_the_clients_clock(client: pepperpy.Client, server: FakeProviderServer,
                                             clock: FakeClock) -> None:
    server.jobs.polls = 100
    job = client.batch(["a"], model="gemini-3.8-flash")
    with pytest.raises(pepperpy.JobTimeoutError) as caught:
        job.wait(timeout=10)
    assert caught.value.job_id == job.id and caught.value.status.state == "running"
    assert sum(clock.sleeps) == pytest.approx(10)
    assert clock.sleeps[:4] == [1.0, 2.0, 4.0, 3.0]  # 1 s doubling, the last clipped to the timeout
    with pytest.raises(pepperpy.JobError) as early:
        job.results()
    assert early.value.state == "running"


def test_progress_takes_a_callable(client: pepperpy.Client, server: FakeProviderServer) -> None:
    seen: list[pepperpy.jobs.JobStatus] = []
    client.batch(["a", "b"], model="claude-haiku-4-5").wait(poll=0, progress=seen.append)
    assert [s.state for s in seen] == ["running", "completed"] and seen[-1].done == 2


class FakeBar:
    instances: list[FakeBar] = []

    def __init__(self, total: int, desc: str, unit: str) -> None:
        self.total, self.desc, self.count, self.closed, self.postfix = total, desc, 0, False, ""
        FakeBar.instances.append(self)

    def update(self, n: int = 1) -> None:
        self.count += n

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        self.closed = True


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def fake_tqdm(monkeypatch: pytest.MonkeyPatch) -> type[FakeBar]:
    package, auto = types.ModuleType("tqdm"), types.ModuleType("tqdm.auto")
    auto.tqdm = FakeBar  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", package)
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    FakeBar.instances = []
    return FakeBar


def test_wait_shows_a_tqdm_bar_of_items_or_percent(fake_tqdm: type[FakeBar], client: pepperpy.Client,
                                                   server: FakeProviderServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    client.batch(["a", "b", {"prompt": "c", "temperature": 9}], model="claude-haiku-4-5").wait(poll=0, progress=True)
    client.generate_video("waves", model="veo-3.1-lite-generate-preview").wait(poll=0, progress=True)
    items, percent = fake_tqdm.instances
    assert (items.total, items.desc, items.count, items.postfix, items.closed) == (
        3, "anthropic/claude-haiku-4-5", 3, "completed", True)
    assert (percent.total, percent.count, percent.postfix, percent.closed) == (100, 100, "completed", True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # progress=None: a bar only on a terminal
    client.batch(["a"], model="claude-haiku-4-5").wait(poll=0)
    assert len(fake_tqdm.instances) == 2
    monkeypatch.setattr(sys, "stderr", Terminal())
    client.batch(["a"], model="claude-haiku-4-5").wait(poll=0)
    assert len(fake_tqdm.instances) == 3


def test_progress_true_without_tqdm_says_how_to_install_it(client: pepperpy.Client,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(pepperpy.ConfigurationError, match=r"pepperpy\[progress\]"):
        client.batch(["a"], model="claude-haiku-4-5").wait(poll=0, progress=True)


@pytest.mark.parametrize("state, expected", [
    ("BATCH_STATE_PENDING", "queued"), ("JOB_STATE_PENDING", "queued"), ("BATCH_STATE_RUNNING", "running"),
    ("JOB_STATE_SUCCEEDED", "completed"), ("BATCH_STATE_EXPIRED", "expired"), ("JOB_STATE_CANCELLED", "cancelled"),
])
def test_gemini_states_with_either_prefix_and_counts_as_strings(state: str, expected: str, client: pepperpy.Client,
                                                                server: FakeProviderServer) -> None:
    job = client.batch(["a", "b", "c"], model="gemini-3.8-flash")
    name = job.provider_ids[0]
    done = expected in ("completed", "expired", "cancelled")
    stats = {"requestCount": "3", "successfulRequestCount": "2", "failedRequestCount": "1"}
    server.fail(200, body={"name": name, "done": done, "metadata": {"state": state, "batchStats": stats}})
    status = job.status()
    assert (status.state, status.done, status.failed, status.total) == (expected, 2, 1, 3)


def test_ctrl_c_between_parts_tells_the_id_that_resumes_the_parts_submitted(
        server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from pepperpy.jobs._anthropic import AnthropicBatches

    submitted: list[int] = []
    original = AnthropicBatches.submit

    def submit(self: AnthropicBatches, io: Any, lines: Any, size: int) -> str:
        if submitted:
            raise KeyboardInterrupt  # Ctrl-C while the second part goes up
        submitted.append(len(lines))
        return original(self, io, lines, size)

    monkeypatch.setattr(AnthropicBatches, "submit", submit)
    with job_client(server, providers={"anthropic": {"options": {"batch_max_requests": 2}}}) as client:
        with pytest.raises(KeyboardInterrupt), pytest.warns(RuntimeWarning) as warned:
            client.batch(["a", "b", "c", "d"], model="claude-haiku-4-5")
        told = [str(w.message) for w in warned]
        assert len(told) == 1 and "interrupted after part 1 of 2" in told[0], told  # shown without logging set up
        found = re.search(r"client\.batch_job\('([^']+)'\)", told[0])
        assert found is not None
        resumed = client.batch_job(found.group(1))
        assert resumed.provider_ids == (server.jobs.all[0].id,) and resumed.wait(poll=0).state == "completed"
        results = resumed.results()
    assert [r.text for r in results[:2]] == ["echo: a", "echo: b"]  # answered: billed, not lost
    assert all(isinstance(r, pepperpy.JobError) for r in results[2:])
