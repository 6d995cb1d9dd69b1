"""StackSpot's client id and realm from every source a key has: code (the seed API's ``extra_config`` and
keyword options, ``Client(providers=)`` options), the environment, ``.env``, the keyring and the user
configuration file; and a call with no agent id says the model is the agent's id."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy._stores import default_config_path
from pepperpy.providers import create_provider
from pepperpy.testing import FakeProviderServer

AGENT = "01JCREDSAGENT"


@pytest.fixture
def stackspot(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviderServer]:
    monkeypatch.setenv("PEPPERPY_PROVIDER_STACKSPOT_BASE_URL", server.url)
    monkeypatch.setenv("PEPPERPY_PROVIDER_STACKSPOT_AUTH_URL", server.token_url("{realm}"))
    server.stackspot_credentials = ("the-client", "the-secret")
    yield server


def token_request(server: FakeProviderServer) -> Any:
    return next(r for r in server.requests if r.path.endswith("/oidc/oauth/token"))


def seed_call(**kw: Any) -> str:
    with create_provider("stackspot", api_key="the-secret", model=AGENT, **kw) as provider:
        return str(provider.complete("hi"))


def test_from_extra_config_as_seed_001_writes_it(stackspot: FakeProviderServer) -> None:
    assert seed_call(extra_config={"client_id": "the-client", "realm": "realm-a"}) == "echo: hi"
    assert token_request(stackspot).path == "/realm-a/oidc/oauth/token"


def test_from_keyword_options(stackspot: FakeProviderServer) -> None:
    assert seed_call(client_id="the-client", realm="realm-b") == "echo: hi"
    assert token_request(stackspot).path == "/realm-b/oidc/oauth/token"


def test_code_beats_the_environment_which_beats_the_keyring_and_the_file(
        stackspot: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    stored = {("pepperpy", "stackspot:client_id"): "the-client", ("pepperpy", "stackspot:realm"): "realm-keyring"}
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: stored.get((service, user))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    path = default_config_path()
    path.parent.mkdir(parents=True)
    path.write_text("providers:\n  stackspot:\n    client_id: the-client\n    realm: realm-file\n", "utf-8")

    def realm_used(**kw: Any) -> str:
        stackspot.clear()
        seed_call(**kw)
        return str(token_request(stackspot).path.split("/")[1])

    assert realm_used() == "realm-keyring"
    del stored[("pepperpy", "stackspot:realm")]
    assert realm_used() == "realm-file"
    monkeypatch.setenv("STACKSPOT_REALM", "realm-env")
    assert realm_used() == "realm-env"
    assert realm_used(realm="realm-code") == "realm-code"


def test_from_the_clients_provider_options(stackspot: FakeProviderServer) -> None:
    options = {"options": {"client_id": "the-client", "realm": "realm-c"}}
    with pepperpy.Client(env_file=None, use_keyring=False, api_keys={"stackspot": "the-secret"},
                         providers={"stackspot": options}) as client:
        assert client.complete("hi", model=f"stackspot/{AGENT}").text == "echo: hi"
    assert token_request(stackspot).path == "/realm-c/oidc/oauth/token"


def test_missing_ones_are_named_with_every_way_to_give_them(stackspot: FakeProviderServer) -> None:
    with pytest.raises(pepperpy.ConfigurationError) as info:
        seed_call(extra_config={"client_id": "the-client"})
    text = str(info.value)
    assert "missing: STACKSPOT_REALM" in text and "extra_config={'client_id': ..., 'realm': ...}" in text
    assert "`pepperpy keys set stackspot -p client_id ID -p realm REALM`" in text and "the-secret" not in text
    assert stackspot.requests == []


def test_no_agent_id_is_a_configuration_error_saying_the_model_is_the_agent(stackspot: FakeProviderServer,
                                                                           tmp_path: Path) -> None:
    with pepperpy.Client(env_file=None, use_keyring=False, api_keys={"stackspot": "the-secret"},
                         providers={"stackspot": {"options": {"client_id": "c", "realm": "r"}}}) as client:
        for name in ("stackspot/agent", "agent"):  # the catalog's placeholder entry
            with pytest.raises(pepperpy.ConfigurationError, match=r"the model is the agent's id: no agent id was "
                                                                  r"given\. Pass model='stackspot/<agent id>'"):
                client.complete("hi", model=name)
    for model in (None, "agent", "stackspot/agent"):
        with pytest.raises(pepperpy.ConfigurationError, match="no agent id was given"):
            create_provider("stackspot", api_key="the-secret", model=model, client_id="c", realm="r")
    with pytest.raises(pepperpy.ConfigurationError, match="model='gpt-4o' is not an agent id"):
        create_provider("stackspot", api_key="the-secret", model="gpt-4o", client_id="c", realm="r")
    assert stackspot.requests == []
