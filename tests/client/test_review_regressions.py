"""Regressions found by a review of the quick fixes: each test failed before its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from typing import Any

import pytest

import pepperpy
from pepperpy.client._prepare import Preparer
from pepperpy.http import _translate
from pepperpy.providers import create_provider
from pepperpy.testing import FakeProviderServer

PASSWORD = "hunter2-s3cret"
SECRET = "sk-live-abcdefghijklmnopqrstuvwxyz0123"


def openai_client(server: FakeProviderServer, **kw: Any) -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-0123456789abcdef"},
                           providers={"openai": {"base_url": server.base_url("openai")}}, **kw)


def test_a_password_in_a_schemeless_base_url_stays_out_of_the_error(monkeypatch):
    monkeypatch.setenv("PEPPERPY_PROVIDER_VLLM_BASE_URL", f"admin:{PASSWORD}@127.0.0.1:9/v1")
    with pepperpy.Client(env_file=None, max_retries=0) as client, \
            pytest.raises(pepperpy.ConfigurationError) as info:
        client.complete("hi", model="vllm/any-model")
    assert PASSWORD not in str(info.value), str(info.value)


def test_pepperpy_providers_does_not_print_the_password(monkeypatch, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PEPPERPY_CACHE_DIR": str(tmp_path / "c"),
           "PEPPERPY_PROVIDER_VLLM_BASE_URL": f"admin:{PASSWORD}@127.0.0.1:9/v1"}
    out = subprocess.run([sys.executable, "-m", "pepperpy.cli", "providers"], capture_output=True, text=True,
                         env=env, cwd=tmp_path)
    assert "vllm" in out.stdout, out.stderr
    assert PASSWORD not in out.stdout + out.stderr


def test_a_string_fallback_is_refused_with_a_useful_message(server):
    # fallbacks="claude-haiku" (a str, not a list) is iterated per character: "unknown model 'c'"
    with openai_client(server) as client, pytest.raises(pepperpy.PepperpyError) as info:
        client.complete("hi", model="gpt-4o-mini", fallbacks="claude-haiku")
    assert "claude-haiku" in str(info.value), str(info.value)


def test_a_string_fallback_in_client_options_is_refused_with_a_useful_message(server):
    with pytest.raises(pepperpy.PepperpyError) as info:
        openai_client(server, fallbacks={"gpt-4o-mini": "claude-haiku"})
    assert "claude-haiku" in str(info.value), str(info.value)


@pytest.mark.parametrize("name, value", [
    ("extra_headers", {"Authorization": f"Bearer {SECRET}"}),
    ("base_url", f"https://user:{SECRET}@proxy.example.com/v1"),
])
def test_refused_client_options_do_not_keep_the_credential(server, name, value):
    # api_key is masked to "***" in ValidationError.value; the other refused options keep theirs verbatim
    with openai_client(server) as client, pytest.raises(pepperpy.ValidationError) as info:
        client.complete("hi", model="gpt-4o-mini", **{name: value})
    assert SECRET not in repr(vars(info.value)), vars(info.value)


def test_deprecated_embedding_model_warns_too(server, tmp_path):
    # docs/quickstart.md: a model its provider will retire "still works, with one FutureWarning per Client";
    # (the warning once came only from chat/stream, never from embed)
    (tmp_path / "local.yaml").write_text(textwrap.dedent(f"""\
        provider: local
        dialect: openai
        base_url: {server.base_url("openai")}
        requires_api_key: false
        models:
          - id: old-embedder
            mode: embedding
            context_window: 8192
            deprecated: "2026-12-01"
            source: https://example.com/models
        """), encoding="utf-8")
    with pepperpy.Client(env_file=None, catalog=tmp_path / "local.yaml") as client, \
            pytest.warns(FutureWarning, match="old-embedder"):
        client.embed(["a"], model="local/old-embedder")


def test_wrong_vector_count_is_not_cached(server):
    bad = {"object": "list", "model": "text-embedding-3-small",
           "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
           "usage": {"prompt_tokens": 2, "total_tokens": 2}}
    server.fail(200, body=bad)
    with openai_client(server, cache=True) as client:
        with pytest.raises(pepperpy.ProviderAPIError):
            client.embed(["a", "b"], model="text-embedding-3-small")
        # the provider has recovered: the next call should reach it and succeed
        result = client.embed(["a", "b"], model="text-embedding-3-small")
        assert len(result.vectors) == 2


def test_a_key_echoed_in_the_error_code_is_redacted():
    body = {"error": {"type": f"invalid_key:{SECRET}", "message": f"Incorrect API key provided: {SECRET}"}}
    exc = _translate.from_response(401, json.dumps(body).encode(), {"content-type": "application/json"},
                               provider="gateway", model="m", secrets=(SECRET,))
    assert SECRET not in str(exc), str(exc)


def test_seed_stackspot_missing_credentials_names_all_three():
    with pytest.raises(pepperpy.ConfigurationError) as info:
        create_provider("stackspot", model="stackspot/my-agent")
    text = str(info.value)
    assert "STACKSPOT_CLIENT_ID" in text and "STACKSPOT_REALM" in text, text


def test_seed_stackspot_fails_early_when_client_id_is_missing(monkeypatch):
    monkeypatch.setenv("STACKSPOT_CLIENT_SECRET", "s3cret-0123456789")
    with pytest.raises(pepperpy.ConfigurationError):
        create_provider("stackspot", model="stackspot/my-agent")


def test_deprecated_model_warns_once_per_client_under_threads(server, monkeypatch):
    # Both threads pass the unlocked `spec.name in self._warned` check before either adds the name (both meet at
    # a barrier on their way into warn_once): only the check under the lock keeps it to one warning.
    barrier = threading.Barrier(2, timeout=1.0)
    original = Preparer.warn_once

    def gated(self, provider, spec):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass  # a correct Client lets only one thread get here
        return original(self, provider, spec)

    monkeypatch.setattr(Preparer, "warn_once", gated)
    with openai_client(server) as client, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=client.complete, args=("hi",), kwargs={"model": "gpt-5"})
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    future = [w for w in caught if issubclass(w.category, FutureWarning)]
    assert len(future) == 1, [str(w.message) for w in future]  # docs/quickstart.md: "one FutureWarning per Client"


def test_child_forked_while_the_cache_lock_is_held_can_still_call(server):
    client = openai_client(server, cache=True)
    client.complete("warm", model="gpt-4o-mini")
    lock = client._pipeline.cache._lock
    held, release = threading.Event(), threading.Event()

    def holder():
        with lock:  # e.g. a web worker thread in the middle of cache.get / cache.put
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(2)
    pid = os.fork()
    if pid == 0:  # child: one call, then report
        try:
            client.complete("hi", model="gpt-4o-mini")
            os._exit(0)
        except BaseException:
            os._exit(1)
    release.set()
    t.join()
    deadline = time.monotonic() + 3.0
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child is still blocked on the response cache's lock after 3 s")
    assert os.WEXITSTATUS(status) == 0
