"""The last two sources of settings, after code, the environment and ``.env``: the system keyring and the user
configuration file.

**The keyring** (the optional ``keyring`` package, ``pip install "pepperpy[keyring]"``) holds keys under the
service ``pepperpy``: user = the provider's name for its key, ``<provider>:<field>`` for its other credentials
(``stackspot:client_id``). ``pepperpy keys set|list|delete`` manage them. A backend that fails counts as no key.

**The user configuration file** is ``$XDG_CONFIG_HOME/pepperpy/config.yaml`` (``~/.config/pepperpy/config.yaml``
when that variable is unset):

```yaml
models: gpt-4o-mini, claude-haiku        # the models an app offers, as MODELS (a list works too)
defaults:                                # per-mode default models, as PEPPERPY_DEFAULT_<MODE>_MODEL
  chat: gpt-4o-mini
  embedding: text-embedding-3-small
providers:
  openai:
    base_url: https://gateway.example/v1 # as PEPPERPY_PROVIDER_OPENAI_BASE_URL
    model: gpt-4.1                       # create_provider's default model, as PEPPERPY_PROVIDER_OPENAI_MODEL
    api_key: sk-...                      # accepted only while the file is private to you (chmod 600)
  stackspot:
    client_id: my-client                 # a provider's other credentials, as STACKSPOT_CLIENT_ID
    realm: my-realm
```

Everything earlier wins (code, the environment, ``.env``, the keyring), and the file is read only when a
setting is found nowhere earlier: a program whose keys are in the environment never opens it. It is read once
per Client, with a safe YAML loader; a key in it is refused (ConfigurationError saying ``chmod 600``) unless
the file is private to its owner, since a plain-text key readable by others is a leaked key.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = ["CONFIG_HOME_ENV", "KEYRING_EXTRA", "KEYRING_SERVICE", "MODES", "SECRET_FIELDS", "UserConfig",
           "default_config_path", "import_keyring", "keyring_user", "keyring_value"]

KEYRING_SERVICE = "pepperpy"
KEYRING_EXTRA = 'pip install "pepperpy[keyring]"'

CONFIG_HOME_ENV = "XDG_CONFIG_HOME"
# the catalog's modes, each with its default model (defaults.<mode>, PEPPERPY_DEFAULT_<MODE>_MODEL)
MODES = ("chat", "embedding", "image", "speech", "transcription", "video", "realtime")
SECRET_FIELDS = frozenset({"api_key"})  # refused from a file others can read
_TOP_KEYS = ("defaults", "models", "providers")


def keyring_user(provider: str, field: str = "api_key") -> str:
    """The keyring user name of a provider's credential: the provider's name for its key, ``<provider>:<field>``
    for the others (``stackspot:client_id``)."""
    return provider if field == "api_key" else f"{provider}:{field}"


def import_keyring() -> Any:
    """The ``keyring`` module; ConfigurationError naming the extra when it is not installed."""
    try:
        import keyring
    except ImportError:
        raise ConfigurationError(f"the keyring is used through the optional keyring package: {KEYRING_EXTRA}") \
            from None
    return keyring


def keyring_value(user: str) -> str | None:
    """The keyring's entry for ``user``, or None: no keyring package, no entry, or a backend that failed (a
    broken keyring must not break a call; the credential is just missing)."""
    try:
        import keyring
    except ImportError:
        return None
    try:
        value = keyring.get_password(KEYRING_SERVICE, user)
    except Exception:
        return None
    return value if isinstance(value, str) and value else None


def default_config_path() -> Path:
    """``$XDG_CONFIG_HOME/pepperpy/config.yaml``, else ``~/.config/pepperpy/config.yaml``."""
    home = os.environ.get(CONFIG_HOME_ENV)
    base = Path(home) if home and os.path.isabs(home) else Path.home() / ".config"  # XDG: relative is invalid
    return base / "pepperpy" / "config.yaml"


class UserConfig:
    """The settings of one configuration file, read on first use (never when nothing asks for them)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: no file is read
        self._data: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def provider_value(self, provider: str, field: str) -> str | None:
        """``providers.<provider>.<field>``; for ``api_key``, only from a file private to its owner."""
        entry = self._read().get("providers", {}).get(provider, {})
        value = entry.get(field)
        if value is None:
            return None
        if field in SECRET_FIELDS:
            self._require_private(f"providers.{provider}.{field}")
        return value  # type: ignore[no-any-return]

    def default_model(self, mode: str) -> str | None:
        """``defaults.<mode>``."""
        value = self._read().get("defaults", {}).get(mode)
        return value if isinstance(value, str) else None

    def models(self) -> list[str]:
        """``models``: the names, in order (empty when the file names none)."""
        return list(self._read().get("models", ()))

    def where(self, dotted: str) -> str:
        """``providers.openai.base_url in ~/.config/pepperpy/config.yaml``, for messages."""
        return f"{dotted} in {self.path}"

    # ------------------------------------------------------------------ reading

    def _read(self) -> dict[str, Any]:
        data = self._data
        if data is not None:
            return data
        with self._lock:
            if self._data is None:
                self._data = self._load()
            return self._data

    def _load(self) -> dict[str, Any]:
        path = self.path
        if path is None or not path.is_file():
            return {}
        import yaml

        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read the configuration file {path}: {exc}") from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" (line {mark.line + 1})" if mark is not None else ""
            raise ConfigurationError(f"the configuration file {path} is not valid YAML{line}; fix it or remove "
                                     f"it") from None  # never the parser's excerpt: it may quote a key
        return _checked(raw, path)

    def _require_private(self, dotted: str) -> None:
        path = self.path
        assert path is not None
        if os.name == "nt":  # no POSIX modes: the profile folder's ACL is what keeps it private
            return
        info = path.stat()
        if stat.S_IMODE(info.st_mode) & 0o077 or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            raise ConfigurationError(
                f"{dotted} is a key in plain text in {path}, which other users can read "
                f"(mode {stat.S_IMODE(info.st_mode):o}); make it private with `chmod 600 {path}`, or keep the key "
                f"in the keyring (`pepperpy keys set PROVIDER`) or the environment instead")

    def __repr__(self) -> str:
        return f"<UserConfig {str(self.path) if self.path else None!r}>"


def _checked(raw: Any, path: Path) -> dict[str, Any]:
    """The file's data in a known shape; ConfigurationError naming the entry and what it takes (never a value)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"the configuration file {path} must be a mapping with {', '.join(_TOP_KEYS)}")
    unknown = sorted(str(k) for k in raw if k not in _TOP_KEYS)
    if unknown:
        raise ConfigurationError(f"unknown key {unknown[0]!r} in the configuration file {path}; allowed: "
                                 f"{', '.join(_TOP_KEYS)}")
    data: dict[str, Any] = {}
    models = raw.get("models")
    if models is not None:
        names = models.split(",") if isinstance(models, str) else models
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigurationError(f"models in {path} takes model names: a list, or one comma-separated text")
        data["models"] = [n.strip() for n in names if n.strip()]
    for key in ("defaults", "providers"):
        section = raw.get(key)
        if section is None:
            continue
        if not isinstance(section, Mapping):
            raise ConfigurationError(f"{key} in {path} must be a mapping")
        data[key] = {}
        for name, value in section.items():
            if key == "defaults":
                if name not in MODES:
                    raise ConfigurationError(f"defaults.{name} in {path}: {name!r} is not a mode; the modes are "
                                             f"{', '.join(MODES)}")
                if not isinstance(value, str):
                    raise ConfigurationError(f"defaults.{name} in {path} takes a model name")
                data[key][str(name)] = value
                continue
            if not isinstance(value, Mapping) or not all(isinstance(v, (str, int, float)) for v in value.values()):
                raise ConfigurationError(f"providers.{name} in {path} takes a mapping of settings to values "
                                         f"(api_key, base_url, model, client_id ...)")
            data[key][str(name)] = {str(k): str(v) for k, v in value.items()}
    return data
