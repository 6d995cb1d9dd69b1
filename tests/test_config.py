"""Credentials and settings: explicit > PEPPERPY_* > conventional env > .env > keyring."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import pepperpy
from pepperpy.config import Settings

KEY_A, KEY_B, KEY_C, KEY_D = "sk-explicit-1111", "sk-pepperpy-2222", "sk-conventional-3333", "sk-dotenv-4444"


def openai_spec() -> pepperpy.ProviderSpec:
    return pepperpy.Client(env_file=None, use_keyring=False).catalog.providers["openai"]


def test_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    spec = openai_spec()
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={KEY_D}\nPEPPERPY_PROVIDER_OPENAI_API_KEY={KEY_D}\n")
    assert Settings(".env", use_keyring=False).api_key(spec) == KEY_D
    monkeypatch.setenv("OPENAI_API_KEY", KEY_C)
    assert Settings(".env", use_keyring=False).api_key(spec) == KEY_C  # real env beats .env
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_API_KEY", KEY_B)
    assert Settings(".env", use_keyring=False).api_key(spec) == KEY_B
    assert Settings(".env", {"openai": KEY_A}, use_keyring=False).api_key(spec) == KEY_A


def test_dotenv_never_overrides_or_touches_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OPENAI_API_KEY=from-file\nSOMETHING_ELSE=1\n")
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    settings = Settings(".env", use_keyring=False)
    assert settings.get("OPENAI_API_KEY") == "from-env"
    assert settings.get("SOMETHING_ELSE") == "1"
    import os
    assert "SOMETHING_ELSE" not in os.environ


def test_env_file_none_disables_and_subdirectories_are_not_walked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={KEY_D}\n")
    assert Settings(None, use_keyring=False).api_key(openai_spec()) is None
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert Settings(".env", use_keyring=False).api_key(openai_spec()) is None


def test_missing_key_names_every_variable() -> None:
    client = pepperpy.Client(env_file=None, use_keyring=False)
    with pytest.raises(pepperpy.ConfigurationError) as info:
        client.complete("hi", model="gpt-4o")
    message = str(info.value)
    assert "PEPPERPY_PROVIDER_OPENAI_API_KEY" in message and "OPENAI_API_KEY" in message
    assert "api_keys" in message


def test_keyring_is_tried_last(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: "sk-from-keyring-5555" if (service, user) == ("pepperpy", "openai") \
        else None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    spec = openai_spec()
    assert Settings(None).api_key(spec) == "sk-from-keyring-5555"
    assert Settings(None, use_keyring=False).api_key(spec) is None
    monkeypatch.setenv("OPENAI_API_KEY", KEY_C)
    assert Settings(None).api_key(spec) == KEY_C


def test_base_url_and_default_model_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = openai_spec()
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", "http://127.0.0.1:1/v1/")
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_MODEL", "gpt-4o-mini")
    settings = Settings(None)
    assert settings.base_url(spec) == "http://127.0.0.1:1/v1"
    assert settings.default_model(spec) == "gpt-4o-mini"


def test_repr_shows_no_values(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={KEY_D}\n")
    settings = Settings(".env", {"openai": KEY_A})
    assert KEY_A not in repr(settings) and KEY_D not in repr(settings)


# --------------------------------------------------------------------------- issue 11 item 3: which .env file

def test_an_explicit_env_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(pepperpy.ConfigurationError, match=r"env_file='\.\./nope\.env' does not exist") as info:
        pepperpy.Client(env_file="../nope.env")
    assert str((tmp_path / "../nope.env").absolute()) in str(info.value)
    (tmp_path / "folder").mkdir()
    with pytest.raises(pepperpy.ConfigurationError, match="is a folder"):
        Settings(tmp_path / "folder")
    assert Settings(".env").env_file is None  # the default stays "./.env if present"


def test_the_missing_key_message_names_the_env_file_looked_at(tmp_path: Path) -> None:
    with pytest.raises(pepperpy.ConfigurationError) as info:
        pepperpy.Client(use_keyring=False).complete("hi", model="gpt-4o")
    assert f"(none at {tmp_path / '.env'})" in str(info.value)
    (tmp_path / "keys.env").write_text("OTHER=1\n")
    with pytest.raises(pepperpy.ConfigurationError, match=r"or in keys\.env"):
        pepperpy.Client(env_file="keys.env", use_keyring=False).complete("hi", model="gpt-4o")
    with pytest.raises(pepperpy.ConfigurationError, match=r"env_file=None"):
        pepperpy.Client(env_file=None, use_keyring=False).complete("hi", model="gpt-4o")
