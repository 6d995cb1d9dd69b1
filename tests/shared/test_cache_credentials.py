"""A cached answer never crosses credentials (issue 22, finding 12), against a real redis-server.

Two apps on one Redis with the default namespace and different API keys: the second got the first one's cached
answer (``cached=True``, no request sent). Answers can be private to an account, so cache entries are keyed by a
fingerprint of the provider's base URL and credentials (``credential_scope``) as well as by the request; the
workers of one app (the same key, in other Clients and other processes) still share them; an OAuth provider is
scoped by its client id, not by its rotating token; a server without credentials by its base URL alone.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.http.transport import Request
from pepperpy.testing import FakeProviderServer
from tests.conftest import LOCAL_MODELS, write_provider
from tests.shared.redis_server import RedisServer

MODES = ("blocking", "async")
KEY_A, KEY_B = "sk-app-a-0123456789abcdef", "sk-app-b-0123456789abcdef"


def app(catalog: Path, redis: RedisServer, key: str | None, **options: Any) -> pepperpy.Client:
    """A Client as one app's worker builds it: the default namespace, a cache, the app's key."""
    return pepperpy.Client(catalog=catalog, env_file=None, shared_state=redis.patient_url, cache=True,
                           api_keys={"local": key} if key else None, **options)


def ask(mode: str, client: pepperpy.Client, prompt: str) -> pepperpy.Completion:
    if mode == "blocking":
        return client.complete(prompt, model="local-chat")
    return asyncio.run(client.acomplete(prompt, model="local-chat"))


@pytest.mark.parametrize("mode", MODES)
def test_two_apps_with_different_keys_never_share_an_answer(mode: str, local_catalog: Path,
                                                           server: FakeProviderServer, own_redis: RedisServer
                                                           ) -> None:
    app_a, app_b = app(local_catalog, own_redis, KEY_A), app(local_catalog, own_redis, KEY_B)
    server.reply("private to account A")
    server.reply("private to account B")
    first = ask(mode, app_a, "the same prompt")
    second = ask(mode, app_b, "the same prompt")
    assert (first.text, first.cached) == ("private to account A", False)
    assert (second.text, second.cached) == ("private to account B", False)
    assert [r.headers["authorization"] for r in server.requests] == [f"Bearer {KEY_A}", f"Bearer {KEY_B}"]
    # each app's other workers (another Client, the same key) still get their own app's answer, without a request
    for key, text in ((KEY_A, "private to account A"), (KEY_B, "private to account B")):
        worker = app(local_catalog, own_redis, key)
        hit = ask(mode, worker, "the same prompt")
        assert (hit.text, hit.cached) == (text, True)
        worker.close()
    assert len(server.requests) == 2
    import redis

    look = redis.Redis.from_url(own_redis.url)
    keys = [k.decode() for k in look.scan_iter("pepperpy:cache:*")]
    look.close()
    assert len(keys) == 2 and not any("app-a" in k or "app-b" in k for k in keys)  # digests, never a key
    app_a.close()
    app_b.close()


def test_a_worker_in_another_process_computes_the_same_fingerprint(local_catalog: Path, server: FakeProviderServer,
                                                                   own_redis: RedisServer) -> None:
    """The fingerprint is derived from the key alone: another process (another hash seed, another Client) finds
    the entry; one with another key does not."""
    first = app(local_catalog, own_redis, KEY_A)
    assert not first.complete("shared across processes", model="local-chat").cached
    code = ("import sys, pepperpy\n"
            f"c = pepperpy.Client(catalog={str(local_catalog)!r}, env_file=None, cache=True, "
            f"shared_state={own_redis.patient_url!r}, api_keys={{'local': sys.argv[1]}})\n"
            "r = c.complete('shared across processes', model='local-chat')\n"
            "print(r.cached, r.text)\n")
    for key, expected in ((KEY_A, "True echo: shared across processes"),
                          (KEY_B, "False echo: shared across processes")):
        out = subprocess.run([sys.executable, "-c", code, key], capture_output=True, text=True, timeout=60,
                             check=True).stdout
        assert out.strip() == expected
    assert len(server.requests) == 2  # the first call, and the other key's own
    first.close()


def test_an_oauth_provider_is_scoped_by_its_client_id_not_its_token(server: FakeProviderServer,
                                                                    own_redis: RedisServer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """StackSpot: a second worker of the same client id fetches its own token and still hits; another client id
    misses."""
    monkeypatch.setenv("STACKSPOT_REALM", "realm")
    monkeypatch.setenv("STACKSPOT_CLIENT_SECRET", "client-secret-0123456789")
    monkeypatch.setenv("PEPPERPY_PROVIDER_STACKSPOT_AUTH_URL", server.token_url("realm"))

    def worker(client_id: str) -> pepperpy.Client:
        monkeypatch.setenv("STACKSPOT_CLIENT_ID", client_id)
        client = pepperpy.Client(env_file=None, shared_state=own_redis.patient_url, cache=True,
                                 providers={"stackspot": {"base_url": server.base_url("stackspot")}})
        return client

    one = worker("app-a")
    assert not one.complete("agent prompt", model="stackspot/agent-1").cached
    two = worker("app-a")
    assert not two.complete("another prompt", model="stackspot/agent-1").cached  # fetches a token of its own
    assert server.tokens_issued == 2
    hit = two.complete("agent prompt", model="stackspot/agent-1")
    assert hit.cached  # the token differs, the client id does not
    other = worker("app-b")
    assert not other.complete("agent prompt", model="stackspot/agent-1").cached
    assert len([r for r in server.requests if "/chat" in r.path]) == 3
    for client in (one, two, other):
        client.close()


def test_a_server_without_credentials_is_scoped_by_its_base_url(tmp_path: Path, own_redis: RedisServer) -> None:
    with FakeProviderServer() as first_server, FakeProviderServer() as second_server:
        here = write_provider(tmp_path / "here", "local", "openai", first_server.base_url("openai"),
                              models=LOCAL_MODELS)
        there = write_provider(tmp_path / "there", "local", "openai", second_server.base_url("openai"),
                               models=LOCAL_MODELS)
        assert not app(here, own_redis, None).complete("hi", model="local-chat").cached
        assert app(here, own_redis, None).complete("hi", model="local-chat").cached  # another worker, same server
        assert not app(there, own_redis, None).complete("hi", model="local-chat").cached  # another server
        assert (len(first_server.requests), len(second_server.requests)) == (1, 1)


def test_the_local_cache_key_holds_the_scope_too() -> None:
    """The process-local cache (and the shared one while Redis is down) keys entries the same way."""
    from pepperpy.resilience.cache import ResponseCache
    from pepperpy.resilience.scope import credential_scope

    request = Request("POST", "/chat/completions", {"messages": [{"role": "user", "content": "hi"}]})
    a = credential_scope("https://api.example.com/v1", [("Authorization", f"Bearer {KEY_A}")])
    b = credential_scope("https://api.example.com/v1", [("Authorization", f"Bearer {KEY_B}")])
    keyless = credential_scope("https://api.example.com/v1", [])
    elsewhere = credential_scope("https://other.example.com/v1", [])
    assert len({a, b, keyless, elsewhere}) == 4
    assert KEY_A not in a and "app-a" not in a  # a digest: nothing of the key shows
    assert ResponseCache.key("p", "m", request, a) != ResponseCache.key("p", "m", request, b)
    assert ResponseCache.key("p", "m", request, a) == ResponseCache.key("p", "m", request, a)
