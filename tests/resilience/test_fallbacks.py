"""Must-show 4 (fallbacks): across two providers on two loopback servers."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer, Fault


def test_falls_back_to_a_second_provider(make_client: Any, server: FakeProviderServer,
                                         backup_server: FakeProviderServer,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pepperpy.audit")
    server.fail(503, times=3)
    r = make_client().complete("hi", model="local-chat", fallbacks=["backup-chat"])
    assert (r.provider, r.model, r.text) == ("backup", "backup-chat", "echo: hi")
    assert len(server.requests) == 3 and len(backup_server.requests) == 1  # retries first, then the hop
    assert "fallbacks" not in backup_server.requests[0].json
    (record,) = [r for r in caplog.records if r.name == "pepperpy.audit"]
    assert record.provider == "backup" and record.fallback_hop == 1  # type: ignore[attr-defined]
    assert record.fallback_from == "local-chat" and record.attempts == 4  # type: ignore[attr-defined]
    assert record.failures[0].startswith("local/local-chat: ProviderUnavailableError")  # type: ignore[attr-defined]
    assert "hop 1 after local-chat" in record.getMessage()


def test_client_fallbacks_by_model_name(make_client: Any, server: FakeProviderServer,
                                        backup_server: FakeProviderServer) -> None:
    client = make_client(max_retries=0, fallbacks={"local/local-chat": ["backup-chat"]})
    server.fail(500)
    assert client.complete("hi", model="lc").provider == "backup"  # an alias finds the entry by its full name
    assert client.complete("hi", model="local-chat").provider == "local"  # fallbacks only when needed
    assert len(backup_server.requests) == 1


def test_per_call_empty_fallbacks_raise_the_original_error(make_client: Any, server: FakeProviderServer,
                                                           backup_server: FakeProviderServer) -> None:
    client = make_client(max_retries=0, fallbacks={"local-chat": ["backup-chat"]})
    server.fail(500)
    with pytest.raises(pepperpy.ProviderUnavailableError):
        client.complete("hi", model="local-chat", fallbacks=[])
    assert backup_server.requests == []


@pytest.mark.parametrize("status, error", [(400, pepperpy.InvalidRequestError), (401, pepperpy.AuthenticationError),
                                           (404, pepperpy.InvalidRequestError)])
def test_no_fallback_on_4xx(make_client: Any, server: FakeProviderServer, backup_server: FakeProviderServer,
                            status: int, error: type[Exception]) -> None:
    server.fail(status)
    with pytest.raises(error):
        make_client().complete("hi", model="local-chat", fallbacks=["backup-chat"])
    assert backup_server.requests == []


def test_no_fallback_on_validation_errors(make_client: Any, backup_server: FakeProviderServer) -> None:
    with pytest.raises(pepperpy.ValidationError):
        make_client().complete("hi", model="local-chat", temperature=5, fallbacks=["backup-chat"])
    assert backup_server.requests == []


def test_fallback_on_timeout_and_connection_errors(make_client: Any, server: FakeProviderServer,
                                                   closed_port: int) -> None:
    client = make_client(max_retries=0, timeout=0.1)
    server.fault(Fault.hang(1.0))
    assert client.complete("hi", model="local-chat", fallbacks=["backup-chat"]).provider == "backup"
    client = make_client(max_retries=0, providers={"local": {"base_url": f"http://127.0.0.1:{closed_port}/v1"}})
    assert client.complete("hi", model="local-chat", fallbacks=["backup-chat"]).provider == "backup"


def test_fallback_on_an_open_circuit_skips_the_network(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(max_retries=0, breaker={"fail_max": 1, "reset_timeout": 60})
    server.fail(500)
    with pytest.raises(pepperpy.ProviderUnavailableError):
        client.complete("hi", model="local-chat")
    r = client.complete("hi", model="local-chat", fallbacks=["backup-chat"])
    assert r.provider == "backup" and len(server.requests) == 1


def test_fallback_on_rate_limits_server_and_client_side(make_client: Any, server: FakeProviderServer,
                                                        backup_server: FakeProviderServer) -> None:
    client = make_client(max_retries=0, rate_limits={"local": {"rpm": 1}}, rate_limit_wait=0)
    server.fail(429)
    assert client.complete("a", model="local-chat", fallbacks=["backup-chat"]).provider == "backup"
    # the local limiter's one slot went to the first call: the second is refused before any request
    assert client.complete("b", model="local-chat", fallbacks=["backup-chat"]).provider == "backup"
    assert len(server.requests) == 1 and len(backup_server.requests) == 2


def test_unusable_fallbacks_are_skipped(make_client: Any, server: FakeProviderServer) -> None:
    client = make_client(max_retries=0)
    server.fail(503)
    r = client.complete("hi", model="local-chat", temperature=0.5, fallbacks=["backup-chat"])
    assert r.provider == "backup"
    # out of range (backup-chat allows temperature <= 1) and not a chat model: both skipped, and the
    # primary's error is the one raised (an unknown name is a typo: it raises before any request)
    server.fail(503)
    with pytest.raises(pepperpy.ProviderUnavailableError) as info:
        client.complete("hi", model="local-chat", temperature=1.5, fallbacks=["backup-chat", "local-embed"])
    assert info.value.provider == "local"


def test_when_every_hop_fails_the_last_provider_error_is_raised(make_client: Any, server: FakeProviderServer,
                                                                backup_server: FakeProviderServer) -> None:
    server.fail(503)
    backup_server.fail(502)
    with pytest.raises(pepperpy.ProviderUnavailableError) as info:
        make_client(max_retries=0).complete("hi", model="local-chat", fallbacks=["backup-chat", "local-embed"])
    assert info.value.provider == "backup" and info.value.status_code == 502


def test_stream_falls_back_while_opening(make_client: Any, server: FakeProviderServer) -> None:
    server.fail(503)
    stream = make_client(max_retries=0).stream("hi there", model="local-chat", fallbacks=["backup-chat"])
    assert stream.provider == "backup"
    assert stream.completion.text == "echo: hi there" and stream.completion.provider == "backup"


def test_embed_falls_back(make_client: Any, server: FakeProviderServer, backup_server: FakeProviderServer) -> None:
    server.fail(503)
    e = make_client(max_retries=0).embed(["a"], model="local-embed", fallbacks=["backup-embed"])
    assert e.provider == "backup" and e.model == "backup-embed"
    assert "fallbacks" not in backup_server.requests[0].json and "cache" not in backup_server.requests[0].json


def test_total_timeout_is_one_deadline_for_every_hop(make_client: Any, server: FakeProviderServer,
                                                     backup_server: FakeProviderServer, clock: Any) -> None:
    """The backup hop gets what the first hop left of total_timeout, not a fresh one (fake time)."""
    server.fail(503, times=5)
    backup_server.fail(503, times=5)
    client = make_client(max_retries=5, total_timeout=3.0)
    with pytest.raises(pepperpy.ProviderUnavailableError):
        client.complete("hi", model="local-chat", fallbacks=["backup-chat"])
    # local: waits 0.5 + 1.0, the next 2.0 would pass the deadline; backup: 0.5, the next 1.0 would too
    assert clock.sleeps == [0.5, 1.0, 0.5] and sum(clock.sleeps) <= 3.0
    assert len(server.requests) == 3 and len(backup_server.requests) == 2


def test_no_hop_starts_once_total_timeout_is_spent(server: FakeProviderServer, backup_server: FakeProviderServer,
                                                   catalogs: Any) -> None:
    from pepperpy.resilience.retry import RetryPolicy

    server.fault(Fault.hang(3.0))
    backup_server.fault(Fault.hang(3.0))
    with pepperpy.Client(catalog=catalogs, env_file=None, timeout=5.0,
                         retry_policy=RetryPolicy(total_timeout=0.3, random=lambda: 0.0)) as client:
        started = time.perf_counter()
        with pytest.raises(pepperpy.ProviderTimeoutError) as info:
            client.complete("hi", model="local-chat", fallbacks=["backup-chat", "gem-chat"])
        elapsed = time.perf_counter() - started
    assert elapsed < 0.7, f"total_timeout=0.3 but the call took {elapsed:.2f} s"
    assert info.value.provider == "local" and len(backup_server.requests) == 0
