"""``pepperpy keys set|list|delete``: keys into and out of the keyring (a fake ``keyring`` module here), read
without echo, listed by where they are found and never by value."""

from __future__ import annotations

import io
import sys
import types
from typing import Any

import pytest

import pepperpy
from pepperpy import cli
from pepperpy.testing import FakeProviderServer

SECRET = "sk-keys-cli-secret-000111"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def keyring(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], str]:
    stored: dict[tuple[str, str], str] = {}
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: stored.get((service, user))  # type: ignore[attr-defined]
    fake.set_password = lambda service, user, value: stored.__setitem__((service, user), value)  # type: ignore[attr-defined]
    fake.delete_password = lambda service, user: stored.pop((service, user))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    return stored


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_set_reads_the_key_without_echo(keyring: dict[tuple[str, str], str], monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    prompts: list[str] = []

    def getpass(prompt: str = "") -> str:  # what a terminal gets: the key is typed where nothing is shown
        prompts.append(prompt)
        return f"  {SECRET}\n"

    monkeypatch.setattr("getpass.getpass", getpass)
    monkeypatch.setattr(sys, "stdin", Terminal())
    code, out, err = run(capsys, "keys", "set", "openai")
    assert code == 0 and prompts == ["API key for openai (not shown): "]
    assert keyring == {("pepperpy", "openai"): SECRET}  # stripped
    assert SECRET not in out + err and "stored in the keyring (service 'pepperpy'): openai" in err


def test_set_from_a_pipe_with_other_credentials_then_a_call_uses_them(
        keyring: dict[tuple[str, str], str], server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("stackspot-secret-9\n"))
    code, _, err = run(capsys, "keys", "set", "stackspot", "-p", "client_id", "cli-client", "--param", "realm",
                       "cli-realm")
    assert code == 0, err
    assert keyring == {("pepperpy", "stackspot"): "stackspot-secret-9",
                       ("pepperpy", "stackspot:client_id"): "cli-client", ("pepperpy", "stackspot:realm"): "cli-realm"}
    server.stackspot_credentials = ("cli-client", "stackspot-secret-9")
    overrides = {"base_url": server.url, "options": {"auth_url": server.token_url("{realm}")}}
    with pepperpy.Client(env_file=None, providers={"stackspot": overrides}) as client:
        assert client.complete("hi", model="stackspot/01JKEYSAGENT").text == "echo: hi"
    token = next(r for r in server.requests if r.path.endswith("/oidc/oauth/token"))
    assert token.path == "/cli-realm/oidc/oauth/token"


def test_list_says_where_each_key_is_found_and_never_a_value(keyring: dict[tuple[str, str], str],
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    keyring[("pepperpy", "anthropic")] = "sk-ant-in-the-keyring-3"
    keyring[("pepperpy", "stackspot:realm")] = "realm-in-keyring"
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("STACKSPOT_CLIENT_ID", "client-in-env")
    code, out, err = run(capsys, "keys", "list")
    assert code == 0 and err == ""
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "OPENAI_API_KEY" in rows["openai"]
    assert "the keyring entry for 'anthropic'" in rows["anthropic"]
    assert rows["groq"].split()[1] == "missing"
    assert "client_id: STACKSPOT_CLIENT_ID" in rows["stackspot"]
    assert "realm: the keyring entry 'stackspot:realm'" in rows["stackspot"]
    assert "ollama" not in rows  # needs no key
    for value in (SECRET, "sk-ant-in-the-keyring-3", "realm-in-keyring", "client-in-env"):
        assert value not in out


def test_delete_removes_the_key_and_its_credentials(keyring: dict[tuple[str, str], str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    keyring.update({("pepperpy", "stackspot"): "s", ("pepperpy", "stackspot:realm"): "r", ("pepperpy", "openai"): "o"})
    code, _, err = run(capsys, "keys", "delete", "stackspot")
    assert code == 0 and "deleted from the keyring: stackspot, stackspot:realm" in err
    assert keyring == {("pepperpy", "openai"): "o"}
    code, _, err = run(capsys, "keys", "delete", "stackspot")
    assert code == 1 and "error: the keyring holds no key for 'stackspot' (`pepperpy keys list`" in err


@pytest.mark.parametrize(("args", "message"), [
    (["keys", "set", "openai", "-p", "realm", "x"], "-p realm: `pepperpy keys set openai` takes no -p"),
    (["keys", "set", "stackspot", "-p", "clientid", "x"],
     "takes -p client_id VALUE and -p realm VALUE"),
    (["keys", "set", "opeanai"], "unknown provider 'opeanai'; did you mean 'openai'"),
    (["keys", "set", "ollama"], "'ollama' needs no API key"),
])
def test_wrong_uses_name_the_flags(keyring: Any, args: list[str], message: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *args)
    assert code == 1 and message in err and "Client(" not in err


def test_without_the_keyring_extra_the_message_names_it(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # not installed
    monkeypatch.setattr(sys, "stdin", io.StringIO(SECRET + "\n"))
    for args in (["keys", "set", "openai"], ["keys", "delete", "openai"]):
        code, _, err = run(capsys, *args)
        assert code == 1 and 'pip install "pepperpy[keyring]"' in err
    assert sys.stdin.read() == SECRET + "\n"  # nothing was asked before the extra was found missing
    code, out, err = run(capsys, "keys", "list")
    assert code == 0 and "openai" in out and 'pip install "pepperpy[keyring]"' in err
