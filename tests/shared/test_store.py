"""The connection to Redis: settings checked, passwords never shown, and Redis trouble never a caller's."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from typing import Any

import pytest

import pepperpy
from pepperpy.shared import UNAVAILABLE, SharedState
from pepperpy.shared.scripts import COUNTER_ADD, Script
from tests.shared.redis_server import TIMEOUT, RedisServer

PING = Script("ping", "return 'pong'")


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "pepperpy.resilience" and r.levelno == logging.WARNING]


@pytest.mark.parametrize("target", ["localhost:6379", "http://localhost:6379", "", 6379, object()])
def test_refuses_what_is_not_a_redis_url_or_client(target: Any) -> None:
    with pytest.raises(pepperpy.ConfigurationError, match="redis://"):
        SharedState(target)


@pytest.mark.parametrize("namespace", ["", "a b", "x" * 65, "tab\t"])
def test_refuses_a_bad_namespace(namespace: str) -> None:
    with pytest.raises(pepperpy.ConfigurationError, match="shared_namespace"):
        SharedState("redis://localhost:6379/0", namespace=namespace)


def test_refuses_a_bad_timeout() -> None:
    with pytest.raises(pepperpy.ConfigurationError, match="timeout"):
        SharedState("redis://localhost:6379/0", timeout=0)


def test_a_bad_url_names_no_password() -> None:
    with pytest.raises(pepperpy.ConfigurationError) as info:
        SharedState("redis://:hunter2secret@localhost:notaport/0")
    assert "hunter2secret" not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize("url", ["redis://:hunter2@secret@localhost:1/0", "redis://u:hunter2 secret@localhost:1/0",
                                 "rediss://:hunter2secret@[::1:6379/0"])
def test_a_password_with_an_at_sign_or_a_space_is_never_shown(url: str, caplog: pytest.LogCaptureFixture) -> None:
    # redis-py splits user info at the last "@" (as urllib does): "hunter2@secret" is one password, and all of it
    # must stay hidden; a URL urllib cannot split is a ConfigurationError, not a bare ValueError.
    try:
        state = SharedState(url, timeout=TIMEOUT, probe_interval=60)
    except pepperpy.ConfigurationError as exc:
        shown = str(exc)
    else:
        state.run(PING, (), ())  # nothing listens on port 1 / 6379 here: one warning naming the location
        shown = f"{state!r} {state.location} " + " ".join(r.getMessage() for r in caplog.records)
    assert "hunter2" not in shown and "secret" not in shown and "***" in shown


def test_runs_scripts_and_loads_them_again_after_a_flush(redis_server: RedisServer, redis_client: Any,
                                                          namespace: str) -> None:
    state = SharedState(redis_server.url, namespace=namespace, timeout=TIMEOUT)
    assert state.run(PING, (), ()) == b"pong"
    redis_client.script_flush()  # as after a restart: EVALSHA answers NOSCRIPT, EVAL loads it again
    assert state.run(PING, (), ()) == b"pong"
    assert redis_client.script_exists(PING.sha) == [True]
    assert state.key("breaker", "openai") == f"{namespace}:breaker:openai"


def test_takes_a_redis_client_and_shows_where_without_password(redis_server: RedisServer) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=TIMEOUT)
    state = SharedState(client, namespace="x")
    assert state.run(PING, (), ()) == b"pong"
    assert repr(state) == f"<SharedState redis://127.0.0.1:{redis_server.port}/0 namespace='x'>"
    state.close()
    assert client.ping()  # a client handed over is the caller's to close


def test_password_never_shown(tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture) -> None:
    with RedisServer(tmp_path_factory.mktemp("pw"), password="s3cret-pass") as server:
        state = SharedState(server.url, namespace="pw", timeout=TIMEOUT)
        assert state.run(PING, (), ()) == b"pong"
        wrong = SharedState(server.url.replace("s3cret-pass", "wrong-pass"), namespace="pw")
        assert wrong.run(PING, (), ()) is UNAVAILABLE  # refused: the caller goes on locally
        server.kill()
        assert state.run(PING, (), ()) is UNAVAILABLE
    shown = repr(state) + repr(wrong) + caplog.text + state.location
    assert "s3cret-pass" not in shown and "wrong-pass" not in shown
    assert "redis://***@127.0.0.1" in shown and len(warnings_of(caplog)) == 2


def test_down_means_one_warning_local_answers_then_back(own_redis: RedisServer, namespace: str,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pepperpy.resilience")
    state = SharedState(own_redis.url, namespace=namespace, probe_interval=0.3, timeout=TIMEOUT)
    assert state.run(PING, (), ()) == b"pong" and state.available
    own_redis.kill()
    start = time.perf_counter()
    replies = [state.run(PING, (), ()) for _ in range(200)]
    assert time.perf_counter() - start < 0.5  # after the first failure, no call even tries Redis
    assert replies == [UNAVAILABLE] * 200 and not state.available
    assert len(warnings_of(caplog)) == 1
    assert "shared state at redis://127.0.0.1" in warnings_of(caplog)[0].getMessage()

    own_redis.start()
    time.sleep(0.35)  # past probe_interval: the next call tries Redis again
    assert state.run(PING, (), ()) == b"pong" and state.available
    assert len(warnings_of(caplog)) == 1
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_a_hung_redis_costs_one_timeout(own_redis: RedisServer, namespace: str) -> None:
    state = SharedState(own_redis.url, namespace=namespace, timeout=0.05, probe_interval=10)
    assert state.run(PING, (), ()) == b"pong"
    own_redis.pause()  # port open, nothing answers: a slow or stuck Redis
    try:
        start = time.perf_counter()
        assert state.run(PING, (), ()) is UNAVAILABLE
        first = time.perf_counter() - start
        start = time.perf_counter()
        assert state.run(PING, (), ()) is UNAVAILABLE
        second = time.perf_counter() - start
    finally:
        own_redis.resume()
    assert 0.04 <= first < 1.0  # the socket timeout, and no retry inside the Redis client (its default: 3)
    assert second < 0.05  # no Redis I/O at all: the store is known to be down


def test_redis_never_reached_is_local_from_the_start(caplog: pytest.LogCaptureFixture) -> None:
    from tests.shared.redis_server import free_port

    state = SharedState(f"redis://127.0.0.1:{free_port()}/0", namespace="nobody")
    assert state.run(COUNTER_ADD, ("nobody:counter:x",), ("1", "", 0)) is UNAVAILABLE
    assert len(warnings_of(caplog)) == 1


def test_probes_once_per_interval_whatever_the_threads(own_redis: RedisServer, namespace: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    state = SharedState(own_redis.url, namespace=namespace, probe_interval=0.2)
    own_redis.pause()
    tries = 0
    real = state._current

    def counting() -> Any:
        nonlocal tries
        tries += 1
        return real()

    state._current = counting  # type: ignore[method-assign]
    try:
        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda _: state.run(PING, (), ()), range(400)))
    finally:
        own_redis.resume()
    assert replies == [UNAVAILABLE] * 400
    assert 1 <= tries <= 8  # the threads that raced the first failure, then nobody inside the interval


def test_a_forked_child_opens_its_own_connection(redis_server: RedisServer, redis_client: Any,
                                                 namespace: str) -> None:
    state = SharedState(redis_server.url, namespace=namespace, timeout=TIMEOUT)
    assert state.run(PING, (), ()) == b"pong"
    parent_client = state._client
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            ok = state.run(PING, (), ()) == b"pong" and state._client is not parent_client
            os.write(write, b"ok" if ok else b"no")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 10) == b"ok"
    os.close(read)
    assert state.run(PING, (), ()) == b"pong"


def test_import_pepperpy_and_the_shared_package_leave_redis_unloaded() -> None:
    code = "import sys, pepperpy, pepperpy.shared.breaker, pepperpy.shared.cache; print('redis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_without_the_redis_library_the_error_names_the_extra() -> None:
    code = ("import sys; sys.modules['redis'] = None\n"
            "from pepperpy.shared import SharedState\n"
            "try:\n    SharedState('redis://localhost:6379/0')\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("ConfigurationError") and 'pip install "pepperpy[redis]"' in out


def test_without_redis_server_the_tests_fail_and_say_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.shared import redis_server

    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(redis_server.os, "access", lambda path, mode: False)
    with pytest.raises(pytest.fail.Exception, match=r"need a real redis-server.*make test"):
        redis_server.find_binary()
