"""What the shared breakers and rate limits are scoped by (issue 22, part of finding 12's "scoped where it must
be"): a circuit belongs to an endpoint (the provider's name and base URL), a rate-limit bucket to the provider on
the namespace, whatever the key, unless ``rate_limits={name: {..., "per": "key"}}`` gives each key its own.
Against a real redis-server, with Clients as two apps build them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.conftest import LOCAL_MODELS, write_provider
from tests.shared.redis_server import RedisServer

KEY_A, KEY_B = "sk-app-a-0123456789abcdef", "sk-app-b-0123456789abcdef"


def app(catalog: Path, redis: RedisServer, namespace: str, key: str, **options: Any) -> pepperpy.Client:
    return pepperpy.Client(catalog=catalog, env_file=None, shared_state=redis.patient_url,
                           shared_namespace=namespace, api_keys={"local": key}, max_retries=0, **options)


def limit_keys(redis_client: Any, namespace: str) -> list[str]:
    return sorted(k.decode() for k in redis_client.scan_iter(f"{namespace}:limit:*"))


def test_rate_limit_buckets_are_the_providers_whatever_the_key(local_catalog: Path, server: FakeProviderServer,
                                                               redis_server: RedisServer, redis_client: Any,
                                                               namespace: str) -> None:
    limits = {"rate_limits": {"local": {"rpm": 60}}, "rate_limit_wait": 0}  # one request a second, no waiting
    first, second = (app(local_catalog, redis_server, namespace, key, **limits) for key in (KEY_A, KEY_B))
    assert first.complete("a", model="local-chat").text == "echo: a"
    with pytest.raises(pepperpy.RateLimitError):  # the other key's call took the namespace's slot
        second.complete("b", model="local-chat")
    assert limit_keys(redis_client, namespace) == [f"{namespace}:limit:local"]
    assert len(server.requests) == 1


def test_per_key_rate_limits_give_each_key_its_own_bucket(local_catalog: Path, server: FakeProviderServer,
                                                          redis_server: RedisServer, redis_client: Any,
                                                          namespace: str) -> None:
    limits = {"rate_limits": {"local": {"rpm": 60, "per": "key"}}, "rate_limit_wait": 0}
    first, second, again = (app(local_catalog, redis_server, namespace, key, **limits)
                            for key in (KEY_A, KEY_B, KEY_A))
    assert first.complete("a", model="local-chat").text == "echo: a"
    assert second.complete("b", model="local-chat").text == "echo: b"  # a bucket of its own
    with pytest.raises(pepperpy.RateLimitError):  # another worker of the first key shares the first's bucket
        again.complete("c", model="local-chat")
    keys = limit_keys(redis_client, namespace)
    assert len(keys) == 2 and all(k.startswith(f"{namespace}:limit:local#") for k in keys)
    assert not any("app-a" in k or "app-b" in k for k in keys)  # a fingerprint, never the key
    assert len(server.requests) == 2


def test_a_circuit_belongs_to_an_endpoint(tmp_path: Path, redis_server: RedisServer, namespace: str) -> None:
    """Two apps name a provider "local" at two addresses: one's failing server opens its circuit only; a third
    app at the first address, with another key, finds it open."""
    breaker = {"fail_max": 2, "reset_timeout": 30}
    with FakeProviderServer() as failing, FakeProviderServer() as healthy:
        here = write_provider(tmp_path / "here", "local", "openai", failing.base_url("openai"), models=LOCAL_MODELS)
        there = write_provider(tmp_path / "there", "local", "openai", healthy.base_url("openai"),
                               models=LOCAL_MODELS)
        failing.fail(500, times=2)
        broken = app(here, redis_server, namespace, KEY_A, breaker=breaker)
        for _ in range(2):
            with pytest.raises(pepperpy.ProviderUnavailableError):
                broken.complete("hi", model="local-chat")
        assert broken.breaker_state("local") == "open"
        other_address = app(there, redis_server, namespace, KEY_A, breaker=breaker)
        assert other_address.breaker_state("local") == "closed"
        assert other_address.complete("hi", model="local-chat").text == "echo: hi"
        same_address = app(here, redis_server, namespace, KEY_B, breaker=breaker)
        assert same_address.breaker_state("local") == "open"  # before any call: the state is Redis's
        with pytest.raises(pepperpy.CircuitOpenError):
            same_address.complete("hi", model="local-chat")
        assert (len(failing.requests), len(healthy.requests)) == (2, 1)


def test_a_bad_per_is_refused_at_client(local_catalog: Path) -> None:
    with pytest.raises(pepperpy.ConfigurationError, match=r"\['per'\] takes 'provider' .* or 'key' .*not 'tenant'"):
        pepperpy.Client(catalog=local_catalog, env_file=None, rate_limits={"local": {"rpm": 60, "per": "tenant"}})
