"""The user configuration file ($XDG_CONFIG_HOME/pepperpy/config.yaml): the last source of every setting it
holds, read only when asked, refused with a message that never quotes a value."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pepperpy
from pepperpy._stores import MODES, UserConfig, default_config_path
from pepperpy.catalog import MODES as CATALOG_MODES
from pepperpy.config import Settings
from pepperpy.testing import FakeProviderServer


def write_config(text: str, mode: int = 0o600) -> Path:
    path = default_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_where_the_file_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert default_config_path() == Path(os.environ["XDG_CONFIG_HOME"]) / "pepperpy" / "config.yaml"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_config_path() == tmp_path / ".config" / "pepperpy" / "config.yaml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")  # the XDG spec: a relative value is ignored
    assert default_config_path() == tmp_path / ".config" / "pepperpy" / "config.yaml"


def test_provider_options_models_and_defaults_come_last(server: FakeProviderServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(f"""
models: gpt-4o-mini, gpt-4.1
defaults:
  chat: gpt-4.1-mini
providers:
  openai:
    api_key: sk-from-the-config-file-1
    base_url: {server.base_url("openai")}
    model: gpt-4.1
""")
    with pepperpy.Client(env_file=None, use_keyring=False) as client:
        r = client.complete("no model named")  # defaults.chat, with the file's key and base URL
        assert r.model == "gpt-4.1-mini" and r.text == "echo: no model named"
        assert server.requests[-1].headers["authorization"] == "Bearer sk-from-the-config-file-1"
        assert [m.name for m in client.offered_models()] == ["openai/gpt-4o-mini", "openai/gpt-4.1"]
    assert pepperpy.providers.create_provider("openai").config.model == "gpt-4.1"  # providers.openai.model
    monkeypatch.setenv("PEPPERPY_DEFAULT_CHAT_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("MODELS", "gpt-4.1-nano")
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_MODEL", "gpt-4o")
    with pepperpy.Client(env_file=None, use_keyring=False) as client:  # the environment wins over the file
        assert client.complete("hi").model == "gpt-4o-mini"
        assert [m.name for m in client.offered_models()] == ["openai/gpt-4.1-nano"]
    assert pepperpy.providers.create_provider("openai").config.model == "gpt-4o"


@pytest.mark.parametrize(("text", "message"), [
    ("- a list\n", "must be a mapping with defaults, models, providers"),
    ("default:\n  chat: gpt-4o\n", "unknown key 'default'.*allowed: defaults, models, providers"),
    ("defaults:\n  chatt: gpt-4o\n", "'chatt' is not a mode; the modes are chat, embedding"),
    ("providers:\n  openai: sk-bare-key-not-a-mapping\n", "providers.openai in .* takes a mapping"),
    ("models: 3\n", "models in .* takes model names"),
    ("providers:\n  openai:\n    api_key: 'sk-unterminated\n", r"is not valid YAML \(line \d+\)"),
])
def test_a_broken_file_says_where_never_what(text: str, message: str) -> None:
    path = write_config(text)
    with pytest.raises(pepperpy.ConfigurationError, match=message) as info:
        UserConfig(path).models()
    assert str(path) in str(info.value) and "sk-" not in str(info.value)


def test_a_key_in_plain_text_needs_a_private_file() -> None:
    path = write_config("providers:\n  openai:\n    api_key: sk-shared-file-key-2\n    base_url: http://h/v1\n",
                        mode=0o640)
    config = UserConfig(path)
    assert config.provider_value("openai", "base_url") == "http://h/v1"  # not secret: read whatever the mode
    with pytest.raises(pepperpy.ConfigurationError, match=r"chmod 600") as info:
        config.provider_value("openai", "api_key")
    assert "mode 640" in str(info.value) and "sk-shared-file-key-2" not in str(info.value)
    path.chmod(0o600)
    assert UserConfig(path).provider_value("openai", "api_key") == "sk-shared-file-key-2"


def test_the_file_is_read_once_and_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config("defaults:\n  embedding: text-embedding-3-small\n")
    reads = []
    real = Path.read_text

    def counting(self: Path, *args: object, **kw: object) -> str:
        if self == path:
            reads.append(1)
        return real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counting)
    settings = Settings(None, use_keyring=False)
    monkeypatch.setenv("PEPPERPY_DEFAULT_EMBEDDING_MODEL", "text-embedding-3-large")
    assert settings.mode_default("embedding") == ("text-embedding-3-large", "PEPPERPY_DEFAULT_EMBEDDING_MODEL")
    assert reads == []
    monkeypatch.delenv("PEPPERPY_DEFAULT_EMBEDDING_MODEL")
    for _ in range(3):
        assert settings.mode_default("embedding")[0] == "text-embedding-3-small"  # type: ignore[index]
    assert reads == [1]
    assert Settings(None, use_keyring=False, config_file=None).mode_default("embedding") is None


def test_every_catalog_mode_has_a_default_model_variable() -> None:
    assert MODES == CATALOG_MODES  # defaults.<mode> and PEPPERPY_DEFAULT_<MODE>_MODEL follow the catalog's modes
