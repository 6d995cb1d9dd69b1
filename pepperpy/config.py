"""Credentials and settings of one Client.

A provider's key is the first found of:
1. ``Client(api_keys={"openai": "..."})`` / ``create_provider(api_key=...)``;
2. ``PEPPERPY_PROVIDER_<NAME>_API_KEY`` in the environment;
3. the catalog's ``api_key_env`` names (``OPENAI_API_KEY``, ...) in the environment;
4. the same names in a ``.env`` file of the current directory, if present (read when the Client is built,
   never at import, never overriding the real environment); ``env_file=PATH`` reads that file instead, which
   must exist; ``env_file=None`` reads none;
5. the system keyring (service ``pepperpy``, user = provider name) when the optional ``keyring`` is installed
   (``pepperpy keys set PROVIDER`` stores one);
6. the user configuration file, ``$XDG_CONFIG_HOME/pepperpy/config.yaml`` (``providers.<name>.api_key``), only
   while that file is private to its owner (``pepperpy._config_file``).
The keyring and the file are consulted only when nothing earlier gave the key: their import and lookups cost
nothing to programs that keep keys in the environment. A provider's other credentials (StackSpot's
``client_id`` and ``realm``) follow the same order: code (``extra_config`` / catalog options), their variables,
``.env``, the keyring (user ``<provider>:<field>``), the file (``providers.<name>.<field>``).

``PEPPERPY_PROVIDER_<NAME>_BASE_URL`` overrides a provider's base URL, ``PEPPERPY_PROVIDER_<NAME>_MODEL`` is the
default model of ``create_provider``, ``PEPPERPY_MODELS`` (or ``MODELS``; comma list) names the models an app
offers, ``PEPPERPY_DEFAULT_<MODE>_MODEL`` is the model of a call that names none (``CHAT``, ``EMBEDDING``,
``IMAGE``, ``SPEECH``, ``TRANSCRIPTION``, ``VIDEO``, ``REALTIME``), and ``PEPPERPY_TIMEOUT`` is the timeout of
every Client not given one; the file's ``providers``, ``models`` and ``defaults`` come after each of them.
``PEPPERPY_SHARED_STATE`` (a ``redis://`` URL) is ``Client(shared_state=)`` when that is not given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._redact import describe_char, header_problem, paste_hint, safe_url
from ._stores import KEYRING_SERVICE, MODES, UserConfig, default_config_path, keyring_user, keyring_value
from .errors import ConfigurationError
from .types import ProviderSpec

if TYPE_CHECKING:
    from .dialects.base import Lookup

__all__ = ["CREDENTIAL_FIELDS", "DEFAULT_ENV_FILE", "KEYRING_SERVICE", "MODELS_ENV", "SEED_MODELS_ENV", "TELEMETRY_ENV",
           "TIMEOUT_ENV", "Settings", "credential_fields", "default_model_var", "key_vars", "telemetry_enabled"]

DEFAULT_ENV_FILE = ".env"
MODELS_ENV = "PEPPERPY_MODELS"
SEED_MODELS_ENV = "MODELS"  # seed 004's single variable; PEPPERPY_MODELS wins when both are set
TIMEOUT_ENV = "PEPPERPY_TIMEOUT"  # seconds (30), or connect,read seconds (5,60), for every Client
TELEMETRY_ENV = "PEPPERPY_TELEMETRY"  # 1 or 0: OpenTelemetry spans and metrics (pepperpy.observe.telemetry)
SHARED_STATE_ENV = "PEPPERPY_SHARED_STATE"  # a redis:// URL: breakers, limits and cache shared by every worker


def _clean_key(value: str, where: str) -> str:
    """The key without surrounding whitespace; ConfigurationError, naming ``where`` and never the value, for a
    key that cannot be sent in an HTTP header (API keys are printable ASCII)."""
    key = value.strip()
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in key):
        raise ConfigurationError(f"the API key in {where} contains whitespace or control characters; "
                                 f"set it to the key alone")
    odd = next((c for c in key if ord(c) > 126), None)
    if odd is not None:
        raise ConfigurationError(f"the API key in {where} contains {describe_char(odd)}, which cannot be sent "
                                 f"in an HTTP header; API keys are plain ASCII: set it to the key alone"
                                 f"{paste_hint(odd)}")
    return key


def key_vars(provider: ProviderSpec) -> list[str]:
    """Every environment variable that may hold the provider's key, in the order they are tried."""
    return list(provider.key_vars)


# a provider's credentials besides its key, each named by a catalog option ``<field>_env`` listing its variables
CREDENTIAL_FIELDS = ("client_id", "realm")


def credential_fields(provider: ProviderSpec) -> list[str]:
    """The provider's credentials besides its key (StackSpot's ``client_id`` and ``realm``)."""
    return [field for field in CREDENTIAL_FIELDS if provider.options.get(field + "_env")]


def default_model_var(mode: str) -> str:
    """``PEPPERPY_DEFAULT_CHAT_MODEL``: the variable naming the model of a ``mode`` call that names none."""
    return f"PEPPERPY_DEFAULT_{mode.upper()}_MODEL"


def _checked_keys(api_keys: object) -> Mapping[str, str]:
    """``api_keys`` as given, once its shape is right; the messages never show a value (it may be a key)."""
    if api_keys is None:
        return {}
    if not isinstance(api_keys, Mapping):
        raise ConfigurationError(f"api_keys takes a mapping of provider name to key, e.g. api_keys={{'openai': "
                                 f"...}}, not {type(api_keys).__name__}")
    for name, key in api_keys.items():
        if not isinstance(name, str):
            raise ConfigurationError(f"api_keys takes provider names as keys, e.g. api_keys={{'openai': ...}}, not "
                                     f"{type(name).__name__}")
        if key is not None and not isinstance(key, str):
            raise ConfigurationError(f"api_keys[{name!r}] must be a string (the key), not {type(key).__name__}")
    return api_keys


class Settings:
    """The environment as one Client sees it: the real environment first, then its ``.env`` file.

    Values are looked up live in ``os.environ``; the ``.env`` file is read once, when the Client is built.
    """

    def __init__(self, env_file: str | os.PathLike[str] | None = DEFAULT_ENV_FILE,
                 api_keys: Mapping[str, str] | None = None, use_keyring: bool = True,
                 config_file: str | os.PathLike[str] | bool | None = True) -> None:
        self._api_keys = {k.lower(): v for k, v in _checked_keys(api_keys).items() if v}
        self._dotenv: dict[str, str] = {}
        self.env_file: Path | None = None  # the .env file read, if any
        self._env_checked: Path | None = None  # the .env path looked at, for messages
        if env_file is not None:
            if not isinstance(env_file, (str, os.PathLike)):
                raise ConfigurationError(f"env_file takes the path of a .env file (a str or a Path), or None to read "
                                         f"none, not {type(env_file).__name__}")
            path = Path(env_file)
            self._env_checked = path.absolute()
            if path.is_file():
                from dotenv import dotenv_values

                self.env_file = path
                self._dotenv = {k: v for k, v in dotenv_values(path).items() if v is not None}
            elif os.fspath(env_file) != DEFAULT_ENV_FILE:  # only the default is "if present"
                what = "is a folder, not a file" if path.is_dir() else "does not exist"
                raise ConfigurationError(f"env_file={os.fspath(env_file)!r} {what} (looked at {path.absolute()}); "
                                         f"give the path of a .env file, or env_file=None to read none")
        self._use_keyring = use_keyring
        # True: the user's file ($XDG_CONFIG_HOME/pepperpy/config.yaml), found when first needed; None/False: none
        self._config_choice = config_file
        self._config: UserConfig | None = None

    @property
    def config(self) -> UserConfig:
        """The user configuration file (read on first use; a file that does not exist holds nothing)."""
        config = self._config
        if config is None:
            choice = self._config_choice
            path = default_config_path() if choice is True else (Path(choice) if choice else None)
            config = self._config = UserConfig(path)
        return config

    def get(self, name: str) -> str | None:
        """A setting from the environment, else from the ``.env`` file."""
        value = os.environ.get(name)
        if value:
            return value
        return self._dotenv.get(name) or None

    def first(self, names: Sequence[str]) -> str | None:
        """The first of ``names`` that is set: every name in the environment, then in ``.env``."""
        found = self.find(names)
        return found[0] if found else None

    def lookup(self, names: Sequence[str], field: str | None = None, *, provider: str | None = None) -> str | None:
        """``first``, for values sent in requests (a StackSpot client id, OpenRouter's app title header):
        ConfigurationError naming the variable, never the value, when the value cannot be sent in an HTTP
        header. With ``provider`` and ``field`` (``client_id``), a credential none of ``names`` holds is then
        looked for in the keyring and the user configuration file. Dialects get it bound to their provider
        (``lookup_for``)."""
        found = self.find(names)
        if found is None and provider is not None and field is not None:
            found = self._stored(provider, field)
        if found is None:
            return None
        value, where = found
        problem = header_problem(value)
        if problem:
            raise ConfigurationError(f"{where} {problem}")
        return value

    def lookup_for(self, provider: ProviderSpec) -> Lookup:
        """``lookup`` bound to ``provider``: what a dialect's ``token_grant`` and ``headers`` are given."""
        name = provider.name

        def lookup(names: Sequence[str], field: str | None = None) -> str | None:
            return self.lookup(names, field, provider=name)

        return lookup

    def find(self, names: Sequence[str]) -> tuple[str, str] | None:
        """(value, where it came from) of the first of ``names`` that is set."""
        for name in names:
            value = os.environ.get(name)
            if value:
                return value, name
        for name in names:
            value = self._dotenv.get(name)
            if value:
                return value, f"{name} in {self.env_file}"
        return None

    def api_key(self, provider: ProviderSpec) -> str | None:
        """The provider's key, or None when none is configured; stripped of surrounding whitespace (keys
        pasted from files often end in a newline) and refused when whitespace is left inside it."""
        found = self.key_source(provider)
        return _clean_key(found[0], found[1]) if found else None

    def key_source(self, provider: ProviderSpec) -> tuple[str, str] | None:
        """(raw key, where it was found) from the first source that has one, in the module docstring's order;
        ``where`` is a variable name, ``OPENAI_API_KEY in .env``, ``the keyring entry for 'openai'``, a file
        entry, or ``api_keys['openai']``. The keyring and the file are only asked when nothing earlier has it."""
        explicit = self._api_keys.get(provider.name)
        if explicit:
            return explicit, f"api_keys[{provider.name!r}]"
        names = key_vars(provider)
        for source in (os.environ, self._dotenv):
            for name in names:
                value = source.get(name)
                if value and value.strip():
                    return value, name if source is os.environ else f"{name} in {self.env_file}"
        return self._stored(provider.name, "api_key")

    def credential_source(self, provider: ProviderSpec, field: str = "api_key") -> str | None:
        """Where the provider's ``field`` (``api_key``, or one of ``credential_fields``) was found, for
        ``pepperpy keys list`` and ``pepperpy providers``; None when nowhere. Never the value."""
        if field == "api_key":
            found = self.key_source(provider)
        elif provider.options.get(field):
            return f"the {field} option given in code or a catalog file"
        else:
            names = [str(name) for name in provider.options.get(field + "_env") or ()]
            found = self.find(names) or self._stored(provider.name, field)
        return found[1] if found else None

    def _stored(self, provider: str, field: str) -> tuple[str, str] | None:
        """A credential from the keyring, else the user configuration file: the last two sources."""
        value = keyring_value(keyring_user(provider, field)) if self._use_keyring else None
        if value and value.strip():
            return value, (f"the keyring entry for {provider!r}" if field == "api_key"
                           else f"the keyring entry {keyring_user(provider, field)!r}")
        value = self.config.provider_value(provider, field)
        if value and value.strip():
            return value, self.config.where(f"providers.{provider}.{field}")
        return None

    def has_explicit_key(self, provider: ProviderSpec) -> bool:
        """Whether the key was given in code (so an error should point there, not at variables)."""
        return bool(self._api_keys.get(provider.name))

    def require_api_key(self, provider: ProviderSpec) -> str | None:
        """The key, None for providers that need none, or ConfigurationError naming what to set."""
        key = self.api_key(provider)
        if key or not provider.requires_api_key:
            return key
        names = key_vars(provider)
        if self.env_file is not None:
            where = f" or in {self.env_file}"
        elif self._env_checked is not None:
            where = f" or in a .env file (none at {self._env_checked})"
        else:
            where = " (.env files are not read: env_file=None)"
        raise ConfigurationError(
            f"no API key for provider {provider.name!r}: set {' or '.join(names)} in the environment{where}, "
            f"or pass Client(api_keys={{{provider.name!r}: ...}}) (create_provider(..., api_key=...) in the seed API)")

    def has_credentials(self, provider: ProviderSpec) -> bool:
        return not provider.requires_api_key or bool(self.api_key(provider))

    def base_url(self, provider: ProviderSpec) -> str:
        """The provider's base URL: ``PEPPERPY_PROVIDER_<NAME>_BASE_URL``, else the user configuration file's
        ``providers.<name>.base_url``, else the catalog's."""
        name = provider.env_prefix + "BASE_URL"
        value = self.get(name)
        if not value:
            value = self.config.provider_value(provider.name, "base_url")
            name = self.config.where(f"providers.{provider.name}.base_url")
        if not value:
            return provider.base_url.rstrip("/")
        url = value.strip().rstrip("/")
        if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
            guess = "http://" + url if "://" not in url and not any(c.isspace() for c in url) else None
            hint = f"; did you mean {safe_url(guess)!r}?" if guess else ""
            raise ConfigurationError(f"{name}={safe_url(value)!r} is not an http(s) URL{hint}")
        return url

    def timeout(self) -> float | tuple[float, float] | None:
        """``PEPPERPY_TIMEOUT``: seconds (``30``) or ``connect,read`` seconds (``5,60``); None when unset. A
        ``timeout=`` given to the Client wins over it."""
        found = self.find([TIMEOUT_ENV])
        if found is None:
            return None
        value, where = found
        try:
            numbers = [float(part) for part in value.split(",")]
        except ValueError:
            numbers = []
        if len(numbers) not in (1, 2) or not all(0 < n < float("inf") for n in numbers):
            raise ConfigurationError(f"{where}={value.strip()!r} is not a timeout: give seconds above 0 (30), or "
                                     f"connect,read seconds (5,60)")
        return numbers[0] if len(numbers) == 1 else (numbers[0], numbers[1])

    def default_model(self, provider: ProviderSpec) -> str | None:
        """``create_provider``'s model when none is given: ``PEPPERPY_PROVIDER_<NAME>_MODEL``, else the file's
        ``providers.<name>.model``."""
        return self.get(provider.env_prefix + "MODEL") or self.config.provider_value(provider.name, "model")

    def mode_default(self, mode: str) -> tuple[str, str] | None:
        """(model, where it was set) for a ``mode`` call that names no model: ``PEPPERPY_DEFAULT_<MODE>_MODEL``
        (environment, then ``.env``), else the file's ``defaults.<mode>``; None when neither is set."""
        if mode not in MODES:
            raise ValueError(f"no mode {mode!r}; the modes are {', '.join(MODES)}")
        variable = default_model_var(mode)
        found = self.find([variable])
        if found is not None:
            return found[0].strip(), found[1]
        value = self.config.default_model(mode)
        return (value.strip(), self.config.where(f"defaults.{mode}")) if value and value.strip() else None

    def offered_models(self) -> list[str]:
        """The names in ``PEPPERPY_MODELS``, else in ``MODELS`` (seed 004's name), else the file's ``models``,
        in order."""
        raw = self.get(MODELS_ENV) or self.get(SEED_MODELS_ENV)
        if raw is None:
            return self.config.models()
        return [name.strip() for name in raw.split(",") if name.strip()]

    def secrets(self, provider: ProviderSpec) -> tuple[str, ...]:
        key = self.api_key(provider)
        return (key,) if key else ()

    def __repr__(self) -> str:  # never show values
        return f"<Settings env_file={str(self.env_file) if self.env_file else None!r}>"


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def telemetry_enabled(option: bool | None, env_value: str | None) -> bool:
    """``Client(telemetry=)`` when given, else ``PEPPERPY_TELEMETRY``."""
    if option is not None:
        if not isinstance(option, bool):
            raise ConfigurationError(f"telemetry= takes True or False, not {type(option).__name__}")
        return option
    value = (env_value or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{TELEMETRY_ENV}={env_value!r}: use 1 (on) or 0 (off)")
