"""Client(shared_state=...) in one process: the options, what Clients on one Redis share, and what never leaks."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.shared import SharedState
from pepperpy.testing import FakeProviderServer
from tests.shared.redis_server import RedisServer, free_port

BREAKER = {"fail_max": 2, "reset_timeout": 30}


def shared_client(local_catalog: Path, url: Any, namespace: str, **options: Any) -> pepperpy.Client:
    return pepperpy.Client(catalog=local_catalog, env_file=None, shared_state=url, shared_namespace=namespace,
                           **options)


def test_two_clients_share_one_breaker(local_catalog: Path, server: FakeProviderServer, redis_server: RedisServer,
                                       namespace: str) -> None:
    a = shared_client(local_catalog, redis_server.patient_url, namespace, max_retries=0, breaker=BREAKER)
    b = shared_client(local_catalog, redis_server.patient_url, namespace, max_retries=0, breaker=BREAKER)
    server.fail(500, times=2)
    for client in (a, b):
        with pytest.raises(pepperpy.ProviderUnavailableError):
            client.complete("hi", model="local-chat")
    fresh = shared_client(local_catalog, redis_server.patient_url, namespace, breaker=BREAKER)
    assert fresh.breaker_state("local") == "open"  # it never called: the state is Redis's
    with pytest.raises(pepperpy.CircuitOpenError):
        fresh.complete("hi", model="local-chat")
    assert len(server.requests) == 2
    other = shared_client(local_catalog, redis_server.patient_url, namespace + "x", breaker=BREAKER)
    assert other.breaker_state("local") == "closed"  # another namespace, another app
    assert other.complete("hi", model="local-chat").text == "echo: hi"


def test_two_clients_share_one_cache(local_catalog: Path, server: FakeProviderServer, redis_server: RedisServer,
                                     namespace: str) -> None:
    a = shared_client(local_catalog, redis_server.patient_url, namespace, cache=True)
    b = shared_client(local_catalog, redis_server.patient_url, namespace, cache={"maxsize": 10, "ttl": 60})
    assert not a.complete("hello", model="local-chat").cached
    hit = b.complete("hello", model="local-chat")
    assert hit.cached and hit.text == "echo: hello" and len(server.requests) == 1
    assert b.embed(["x", "y"], model="local-embed").vectors == a.embed(["x", "y"], model="local-embed").vectors
    assert len(server.requests) == 2
    assert a.cache_info() == (2, 2, 2, 1024) and b.cache_info() == (2, 2, 2, 10)


def test_a_poisoned_entry_is_a_miss_and_the_call_goes_out(local_catalog: Path, server: FakeProviderServer,
                                                          redis_server: RedisServer, redis_client: Any,
                                                          namespace: str) -> None:
    client = shared_client(local_catalog, redis_server.patient_url, namespace, cache=True)
    client.complete("hello", model="local-chat")
    [key] = [k for k in redis_client.scan_iter(f"{namespace}:cache:*")]
    redis_client.set(key, b"\x80\x04\x95cos\nsystem\n(S'touch /tmp/pwned'\ntR.")
    r = client.complete("hello", model="local-chat")
    assert not r.cached and len(server.requests) == 2 and not os.path.exists("/tmp/pwned")


def test_the_environment_turns_it_on_and_false_turns_it_off(local_catalog: Path, redis_server: RedisServer,
                                                            redis_client: Any, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("PEPPERPY_SHARED_STATE", redis_server.patient_url)  # ?socket_timeout=2 read too
    client = pepperpy.Client(catalog=local_catalog, env_file=None, rate_limits={"local": {"rpm": 6000}})
    client.complete("hi", model="local-chat")
    assert redis_client.exists("pepperpy:limit:local")  # the default namespace
    redis_client.delete("pepperpy:limit:local")
    off = pepperpy.Client(catalog=local_catalog, env_file=None, rate_limits={"local": {"rpm": 6000}},
                          shared_state=False)
    off.complete("hi", model="local-chat")
    assert not redis_client.exists("pepperpy:limit:local")


def test_options_are_checked(local_catalog: Path, redis_server: RedisServer) -> None:
    with pytest.raises(pepperpy.ConfigurationError, match="shared_namespace needs shared_state"):
        pepperpy.Client(catalog=local_catalog, env_file=None, shared_namespace="x")
    with pytest.raises(pepperpy.ConfigurationError, match="redis://"):
        pepperpy.Client(catalog=local_catalog, env_file=None, shared_state="localhost:6379")
    state = SharedState(redis_server.url, namespace="a")
    with pytest.raises(pepperpy.ConfigurationError, match="differ"):
        pepperpy.Client(catalog=local_catalog, env_file=None, shared_state=state, shared_namespace="b")
    assert pepperpy.Client(catalog=local_catalog, env_file=None, shared_state=state, shared_namespace="a")


def test_a_redis_client_instance_is_accepted(local_catalog: Path, server: FakeProviderServer,
                                             redis_server: RedisServer, namespace: str) -> None:
    import redis

    client = shared_client(local_catalog, redis.Redis.from_url(redis_server.patient_url), namespace, cache=True)
    client.complete("hi", model="local-chat")
    assert client.complete("hi", model="local-chat").cached


def test_a_dead_redis_with_a_password_fails_no_call_and_shows_no_password(
        local_catalog: Path, server: FakeProviderServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pepperpy")
    url = f"redis://:pa55-word-here@127.0.0.1:{free_port()}/0"
    client = shared_client(local_catalog, url, "dead", cache=True, rate_limits={"local": {"rpm": 6000}})
    for _ in range(5):
        assert client.complete("hi", model="local-chat").text == "echo: hi"
    assert client.breaker_state("local") == "closed" and client.cache_info().hits == 4
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "redis://***@127.0.0.1" in warnings[0].getMessage()
    shown = caplog.text + repr(client) + repr(client._pipeline.shared)
    assert "pa55-word-here" not in shown


def test_the_cli_shows_no_password(server: FakeProviderServer) -> None:
    script = Path(sys.executable).with_name("pepperpy")
    env = {**os.environ, "PEPPERPY_PROVIDER_OPENAI_BASE_URL": server.base_url("openai"),
           "PEPPERPY_PROVIDER_OPENAI_API_KEY": "sk-test-key-123456789",
           "PEPPERPY_SHARED_STATE": f"redis://:pa55-word-here@127.0.0.1:{free_port()}/0"}
    ok = subprocess.run([str(script), "complete", "-m", "gpt-4o-mini", "hi"], capture_output=True, text=True,
                        timeout=30, env=env)
    assert ok.returncode == 0 and ok.stdout.startswith("echo: hi")
    env["PEPPERPY_SHARED_STATE"] = "redis://:pa55-word-here@127.0.0.1:notaport/0"
    bad = subprocess.run([str(script), "complete", "-m", "gpt-4o-mini", "hi"], capture_output=True, text=True,
                         timeout=30, env=env)
    assert bad.returncode == 1 and "shared_state='redis://***@127.0.0.1:notaport/0'" in bad.stderr
    assert "pa55-word-here" not in ok.stdout + ok.stderr + bad.stdout + bad.stderr


def test_without_shared_state_pepperpy_never_imports_redis(local_catalog: Path) -> None:
    """pepperpy's own modules never import redis without shared_state. pybreaker (1.4) does, at its own import,
    when the library is installed (for its CircuitRedisStorage): so this call runs without breakers, and the
    second only checks that none of the shared-state code was loaded."""
    code = ("import sys, pepperpy\n"
            f"c = pepperpy.Client(catalog={str(local_catalog)!r}, env_file=None, cache=True, breaker=False, "
            "rate_limits={'local': {'rpm': 600}})\n"
            "print(c.complete('hi', model='local-chat').text, 'redis' in sys.modules)\n"
            f"c = pepperpy.Client(catalog={str(local_catalog)!r}, env_file=None, cache=True)\n"
            "print(c.complete('hi', model='local-chat').text, [m for m in sys.modules if 'shared' in m])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["echo: hi False", "echo: hi []"]


def test_a_forked_child_uses_its_own_connections(local_catalog: Path, server: FakeProviderServer,
                                                 redis_server: RedisServer, redis_client: Any,
                                                 namespace: str) -> None:
    client = shared_client(local_catalog, redis_server.patient_url, namespace, rate_limits={"local": {"rpm": 60000}})
    client.complete("parent", model="local-chat")
    before = {c["id"] for c in redis_client.client_list()}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            text = client.complete("child", model="local-chat").text
            ids = {c["id"] for c in redis_client.client_list()} - before
            os.write(write, f"{text}|{len(ids)}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 100).decode() == "echo: child|2"  # the child's own Client connection (+ its probe's)
    os.close(read)
    assert client.complete("parent again", model="local-chat").text == "echo: parent again"


def test_breaker_hooks_hear_the_changes_this_process_makes(local_catalog: Path, server: FakeProviderServer,
                                                           redis_server: RedisServer, namespace: str) -> None:
    import time

    client = shared_client(local_catalog, redis_server.patient_url, namespace, max_retries=0,
                           breaker={"fail_max": 2, "reset_timeout": 0.2})
    changes: list[tuple[str, str, str]] = []
    client.on("breaker", lambda e: changes.append((e.provider, e.old_state, e.new_state)))
    server.fail(500, times=2)
    for _ in range(2):
        with pytest.raises(pepperpy.ProviderUnavailableError):
            client.complete("hi", model="local-chat")
    time.sleep(0.25)
    assert client.complete("trial", model="local-chat").text == "echo: trial"
    assert changes == [("local", "closed", "open"), ("local", "open", "half-open"), ("local", "half-open", "closed")]
