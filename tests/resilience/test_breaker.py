"""Must-show 2: the breaker opens after fail_max calls, rejects without a request, half-opens, closes."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.resilience.breaker import BreakerConfig, ProviderBreaker
from pepperpy.testing import FakeProviderServer, Fault, Reply

BREAKER = {"fail_max": 3, "reset_timeout": 30}


def fail_calls(client: pepperpy.Client, server: FakeProviderServer, n: int, status: int = 500) -> None:
    for _ in range(n):
        server.fail(status)
        with pytest.raises(pepperpy.ProviderError):
            client.complete("hi", model="local-chat")


def test_opens_rejects_half_opens_and_closes(make_client: Any, server: FakeProviderServer, clock: Any,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pepperpy.resilience")
    client = make_client(max_retries=0, breaker=BREAKER)
    fail_calls(client, server, 2)
    assert client.breaker_state("local") == "closed"
    fail_calls(client, server, 1)
    assert client.breaker_state("local") == "open"

    with pytest.raises(pepperpy.CircuitOpenError) as info:
        client.complete("hi", model="local-chat")
    assert len(server.requests) == 3  # rejected without touching the network
    assert info.value.retry_after == pytest.approx(30.0) and info.value.provider == "local"

    clock.advance(10)
    with pytest.raises(pepperpy.CircuitOpenError) as info:
        client.complete("hi", model="local-chat")
    assert info.value.retry_after == pytest.approx(20.0)

    clock.advance(21)
    assert client.breaker_state("local") == "half-open"
    assert client.complete("trial", model="local-chat").text == "echo: trial"
    assert client.breaker_state("local") == "closed"
    assert client.complete("again", model="local-chat").text == "echo: again"
    states = [r.breaker_state for r in caplog.records if hasattr(r, "breaker_state")]
    assert states == ["open", "half-open", "closed"]
    assert "circuit for local opened" in caplog.text


def test_a_failed_trial_opens_it_again(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    client = make_client(max_retries=0, breaker=BREAKER)
    fail_calls(client, server, 3)
    clock.advance(31)
    fail_calls(client, server, 1)  # the trial
    assert client.breaker_state("local") == "open"
    with pytest.raises(pepperpy.CircuitOpenError) as info:
        client.complete("hi", model="local-chat")
    assert info.value.retry_after == pytest.approx(30.0)


def test_one_logical_call_is_one_failure(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(max_retries=2, breaker={"fail_max": 2, "reset_timeout": 30})
    server.fail(503, times=3)
    with pytest.raises(pepperpy.ProviderUnavailableError):
        client.complete("hi", model="local-chat")
    assert len(server.requests) == 3 and client.breaker_state("local") == "closed"
    server.fail(503, times=3)
    with pytest.raises(pepperpy.ProviderUnavailableError):
        client.complete("hi", model="local-chat")
    assert client.breaker_state("local") == "open"


def test_a_success_after_retries_counts_as_a_success(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(max_retries=2, breaker={"fail_max": 1, "reset_timeout": 30})
    server.fail(503, times=2)
    assert client.complete("hi", model="local-chat").text == "echo: hi"
    assert client.breaker_state("local") == "closed"


@pytest.mark.parametrize("status", [400, 401, 404, 422, 429])
def test_4xx_answers_do_not_trip_it(make_client: Any, server: FakeProviderServer, status: int) -> None:
    client = make_client(max_retries=0, breaker={"fail_max": 2, "reset_timeout": 30})
    fail_calls(client, server, 5, status)
    assert client.breaker_state("local") == "closed"


def test_4xx_answers_do_not_reset_the_failure_count(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(max_retries=0, breaker={"fail_max": 2, "reset_timeout": 30})
    fail_calls(client, server, 1, 500)
    fail_calls(client, server, 1, 400)  # a success replay here would hide the failing provider
    fail_calls(client, server, 1, 500)
    assert client.breaker_state("local") == "open"


@pytest.mark.parametrize("fault", ["timeout", "refused"])
def test_timeouts_and_connection_errors_trip_it(make_client: Any, server: FakeProviderServer, closed_port: int,
                                                fault: str) -> None:
    from pepperpy.testing import Fault

    if fault == "timeout":
        client = make_client(max_retries=0, timeout=0.05, breaker={"fail_max": 1, "reset_timeout": 30})
        server.fault(Fault.hang(1.0))
    else:
        client = make_client(max_retries=0, breaker={"fail_max": 1, "reset_timeout": 30},
                             providers={"local": {"base_url": f"http://127.0.0.1:{closed_port}/v1"}})
    with pytest.raises((pepperpy.ProviderTimeoutError, pepperpy.ProviderConnectionError)):
        client.complete("hi", model="local-chat")
    assert client.breaker_state("local") == "open"


def test_half_open_lets_exactly_one_trial_through(make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    client = make_client(max_retries=0, breaker=BREAKER)
    fail_calls(client, server, 3)
    clock.advance(31)
    server.reply(Reply("slow trial", delay=0.3))
    results: list[str] = []
    trial = threading.Thread(target=lambda: results.append(client.complete("t", model="local-chat").text))
    trial.start()
    deadline = time.monotonic() + 2
    while len(server.requests) < 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    with pytest.raises(pepperpy.CircuitOpenError, match="trial call is in flight") as info:
        client.complete("hi", model="local-chat")
    assert info.value.retry_after == pytest.approx(1.0)
    trial.join()
    assert results == ["slow trial"] and client.breaker_state("local") == "closed"
    assert len(server.requests) == 4


def test_a_4xx_trial_releases_the_slot_without_closing(make_client: Any, server: FakeProviderServer,
                                                        clock: Any) -> None:
    client = make_client(max_retries=0, breaker=BREAKER)
    fail_calls(client, server, 3)
    clock.advance(31)
    fail_calls(client, server, 1, 400)
    assert client.breaker_state("local") == "half-open"
    assert client.complete("hi", model="local-chat").text == "echo: hi"
    assert client.breaker_state("local") == "closed"


def test_streams_are_guarded_too(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(max_retries=0, breaker={"fail_max": 1, "reset_timeout": 30})
    server.fail(503)
    with pytest.raises(pepperpy.ProviderUnavailableError):
        client.stream("hi", model="local-chat")
    with pytest.raises(pepperpy.CircuitOpenError):
        client.stream("hi", model="local-chat")
    assert len(server.requests) == 1


def test_breakers_are_per_provider(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(max_retries=0, breaker={"fail_max": 1, "reset_timeout": 30})
    fail_calls(client, server, 1)
    assert client.breaker_state("local") == "open"
    assert client.breaker_state("backup") == "closed"
    assert client.complete("hi", model="backup-chat").text == "echo: hi"


def test_breaker_settings_from_the_catalog(local_catalog: Path, server: FakeProviderServer, clock: Any,
                                           write_provider_file: Any) -> None:
    write_provider_file(local_catalog, "touchy", "openai", server.base_url("openai"),
                        "- {id: touchy-chat, mode: chat, context_window: 100, max_output_tokens: 10, "
                        "source: https://example.com/t}\n",
                        extra="breaker: {fail_max: 1, reset_timeout: 5}\n")
    with pepperpy.Client(catalog=local_catalog, env_file=None, retry_policy=clock.policy(max_retries=0),
                         breaker={"fail_max": 50}) as client:
        server.fail(500)
        with pytest.raises(pepperpy.ProviderUnavailableError):
            client.complete("hi", model="touchy-chat")
        assert client.breaker_state("touchy") == "open"  # the catalog's fail_max beats the Client default
        clock.advance(5)
        assert client.breaker_state("touchy") == "half-open"
        fail_calls(client, server, 1)  # provider 'local' takes the Client's fail_max=50
        assert client.breaker_state("local") == "closed"


def test_breaker_false_disables_it(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(max_retries=0, breaker=False)
    fail_calls(client, server, 8)
    assert client.breaker_state("local") == "disabled"
    assert client.complete("hi", model="local-chat").text == "echo: hi"


def test_bad_breaker_options_are_configuration_errors(make_client: Any) -> None:
    with pytest.raises(pepperpy.ConfigurationError):
        make_client(breaker={"fail_max": 0})
    with pytest.raises(pepperpy.ConfigurationError, match="unknown breaker setting"):
        make_client(breaker={"max_fail": 3})
    with pytest.raises(pepperpy.ConfigurationError):
        make_client(breaker="yes")
    with pytest.raises(pepperpy.ConfigurationError, match="unknown provider 'nope'"):  # issue 11: not a model
        make_client().breaker_state("nope")


def test_outcomes_arriving_while_open_are_dropped(clock: Any) -> None:
    breaker = ProviderBreaker("p", BreakerConfig(fail_max=1, reset_timeout=10), clock.monotonic)
    assert breaker.admit() is False  # closed: no trial
    breaker.record_failure(pepperpy.ProviderUnavailableError("x"), trial=False)
    assert breaker.state == "open"
    breaker.record_success(trial=False)  # a call admitted earlier ends late: changes nothing
    assert breaker.state == "open"
    clock.advance(10)
    assert breaker.admit() is True and breaker.state == "half-open"
    breaker.record_success(trial=True)
    assert breaker.state == "closed" and breaker.fail_counter == 0
    assert "closed" in repr(breaker)


def test_only_the_trial_decides_a_half_open_circuit(clock: Any) -> None:
    """Calls admitted before the circuit opened end late: they neither re-open it nor lose the trial."""
    breaker = ProviderBreaker("p", BreakerConfig(fail_max=2, reset_timeout=30), clock.monotonic)
    slow = [(breaker.generation, breaker.admit()) for _ in range(3)]  # e.g. three 60 s read timeouts
    for generation, trial in slow[:2]:
        breaker.record_failure(pepperpy.ProviderTimeoutError("t"), trial, generation)
    assert breaker.state == "open"
    clock.advance(31)
    generation, trial = breaker.generation, breaker.admit()
    assert trial is True and breaker.state == "half-open"
    late_generation, late_trial = slow[2]
    breaker.record_failure(pepperpy.ProviderTimeoutError("t"), late_trial, late_generation)  # the third, late
    assert breaker.state == "half-open"
    with pytest.raises(pepperpy.CircuitOpenError):  # the trial is still the only call let through
        breaker.admit()
    breaker.record_success(trial, generation)
    assert breaker.state == "closed" and breaker.fail_counter == 0


def test_late_outcomes_without_a_generation_are_dropped_while_half_open(clock: Any) -> None:
    breaker = ProviderBreaker("p", BreakerConfig(fail_max=1, reset_timeout=10), clock.monotonic)
    breaker.admit(), breaker.admit()
    breaker.record_failure(pepperpy.ProviderUnavailableError("x"), trial=False)
    clock.advance(10)
    assert breaker.admit() is True
    breaker.record_failure(pepperpy.ProviderUnavailableError("x"), trial=False)  # admitted while closed
    breaker.record_success(trial=False)
    assert breaker.state == "half-open"
    breaker.record_failure(pepperpy.ProviderUnavailableError("x"), trial=True)  # the trial's own verdict
    assert breaker.state == "open"


def test_calls_admitted_before_the_last_opening_do_not_count_once_closed(clock: Any) -> None:
    breaker = ProviderBreaker("p", BreakerConfig(fail_max=2, reset_timeout=10), clock.monotonic)
    early = breaker.generation
    assert breaker.admit() is False
    for _ in range(2):
        breaker.record_failure(pepperpy.ProviderUnavailableError("x"), False, breaker.generation)
    clock.advance(10)
    generation, trial = breaker.generation, breaker.admit()
    breaker.record_success(trial, generation)
    assert breaker.state == "closed" and breaker.generation == early + 1
    breaker.record_failure(pepperpy.ProviderUnavailableError("x"), False, early)  # from before the opening
    assert breaker.fail_counter == 0
    breaker.record_failure(pepperpy.ProviderUnavailableError("x"), False, breaker.generation)  # a current one
    assert breaker.fail_counter == 1


def test_a_call_in_flight_when_the_circuit_opened_fails_late_without_reopening_it(
        make_client: Any, server: FakeProviderServer, clock: Any) -> None:
    """End to end: the slow call's timeout arrives after the trial closed the circuit; it is stale."""
    client = make_client(max_retries=0, timeout=(0.5, 0.5), breaker={"fail_max": 1, "reset_timeout": 30})
    server.fault(Fault.hang(2.0))
    errors: list[BaseException] = []

    def slow_call() -> None:
        try:
            client.complete("slow", model="local-chat")
        except pepperpy.ProviderError as exc:
            errors.append(exc)

    slow = threading.Thread(target=slow_call)
    slow.start()
    deadline = time.monotonic() + 2.0
    while len(server.requests) < 1 and time.monotonic() < deadline:  # admitted while closed, now hanging
        time.sleep(0.01)
    fail_calls(client, server, 1)                          # the circuit opens meanwhile
    clock.advance(31)
    assert client.complete("trial", model="local-chat").text == "echo: trial"
    assert client.breaker_state("local") == "closed"
    slow.join()                                            # its read timeout fires now
    assert len(errors) == 1 and isinstance(errors[0], pepperpy.ProviderTimeoutError)
    assert client.breaker_state("local") == "closed"
