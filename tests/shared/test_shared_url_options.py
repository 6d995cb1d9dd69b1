"""A bad option in a shared-state URL is a ConfigurationError at ``Client()`` naming the option and what it takes
(issue 22, finding 13); it only warned at the first call and ran on local state. Fail-open stays for faults at
run time (a Redis that does not answer), which the other tests of this folder cover; the last test here checks
that a valid URL to a dead Redis still builds and answers.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.shared.redis_server import RedisServer, free_port

PASSWORD = "pa55-w0rd-in-url"


def build(url: str) -> pepperpy.Client:
    return pepperpy.Client(env_file=None, shared_state=url)


@pytest.mark.parametrize(("query", "message"), [
    ("ssl_cert_reqs=none", "the option 'ssl_cert_reqs' applies to TLS connections only: use a rediss:// URL"),
    ("ssl_ca_certs=/etc/ca.pem", "the option 'ssl_ca_certs' applies to TLS connections only"),
    ("socket_timout=1", "unknown option 'socket_timout'; did you mean 'socket_timeout'?"),
    ("ssl_passwrod=hunter2-secret", "did you mean 'ssl_password' (a TLS option: it needs a rediss:// URL)?"),
    ("frobnicate=1", "unknown option 'frobnicate'; the usual ones are db, "),
    ("db=one", "the option 'db' takes a whole number of 0 or more (e.g. db=2), not 'one'"),
    ("socket_timeout=soon", "the option 'socket_timeout' takes a number of 0 or more (e.g. socket_timeout=2), "
                            "not 'soon'"),
    ("socket_timeout=-1", "'socket_timeout' takes a number of 0 or more"),
    ("socket_timeout=nan", "'socket_timeout' takes a number of 0 or more"),
    ("socket_keepalive=maybe", "the option 'socket_keepalive' takes true or false (also 1/0, yes/no, on/off), "
                               "not 'maybe'"),
    ("db=", "the option 'db' has no value; give it one (db=...) or remove it"),
    ("db=1&db=2", "the option 'db' is given twice; keep one"),
])
def test_a_bad_redis_url_option_fails_at_client(query: str, message: str) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0?{query}"
    with pytest.raises(pepperpy.ConfigurationError) as caught:
        build(url)
    text = str(caught.value)
    assert message in text, text
    assert text.startswith(f"shared_state='redis://***@127.0.0.1:{url.split(':')[3].split('/')[0]}/0'")
    assert PASSWORD not in text and "hunter2-secret" not in text


@pytest.mark.parametrize(("query", "message"), [
    ("ssl_cert_reqs=sometimes", "the option 'ssl_cert_reqs' takes none or optional or required, not 'sometimes'"),
    ("ssl_passwrod=x", "unknown option 'ssl_passwrod'; did you mean 'ssl_password'?"),
    ("ssl_check_hostname=perhaps", "'ssl_check_hostname' takes true or false"),
])
def test_a_bad_rediss_url_option_fails_at_client(query: str, message: str) -> None:
    with pytest.raises(pepperpy.ConfigurationError, match=message.replace("?", r"\?").replace("(", r"\(")):
        build(f"rediss://127.0.0.1:{free_port()}/0?{query}")


def test_the_environment_variable_is_checked_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_SHARED_STATE", f"redis://127.0.0.1:{free_port()}/0?ssl_cert_reqs=none")
    with pytest.raises(pepperpy.ConfigurationError, match="'ssl_cert_reqs' applies to TLS connections only"):
        pepperpy.Client(env_file=None)


def test_good_options_build_and_a_dead_redis_still_fails_open(local_catalog: Path, server: FakeProviderServer,
                                                              redis_server: RedisServer,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """Valid options on both schemes build without a connection; at run time an unreachable Redis is a warning
    and local state, as before."""
    port = free_port()
    pepperpy.Client(env_file=None, shared_state=f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=none&socket_timeout=2"
                    "&ssl_check_hostname=false").close()
    with pepperpy.Client(env_file=None, shared_state=redis_server.patient_url + "&socket_keepalive=yes&db=0",
                         catalog=local_catalog, cache=True) as live:
        assert live.complete("hi", model="local-chat").text == "echo: hi"
    caplog.set_level(logging.WARNING, logger="pepperpy.resilience")
    with pepperpy.Client(env_file=None, catalog=local_catalog, cache=True,
                         shared_state=f"redis://127.0.0.1:{port}/0?socket_timeout=0.05&retry_on_timeout=no") as dead:
        assert dead.complete("hi", model="local-chat").text == "echo: hi"
    assert any("shared state at redis://127.0.0.1" in r.getMessage() for r in caplog.records)
