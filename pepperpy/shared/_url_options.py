"""The options of a shared-state URL (``redis://host:6379/0?socket_timeout=0.5``), checked when the Client is
built: a configuration mistake fails loudly there, while a Redis that does not answer at run time is only a
warning (``store``'s fail-open).

redis-py reads the query string in ``Redis.from_url``: the options it knows the type of are parsed (yet
``socket_keepalive=maybe`` reads as True), and every other one is handed to the connection class, which
refuses it only when the first connection is made, at the first call, where the shared state's fail-open turns
it into a warning and local state. So each option is checked here: its value against its type, then the whole
set by building (never connecting) one connection of the class the URL asks for, which refuses what it does
not take (a misspelt name, ``ssl_cert_reqs`` on ``redis://``) and what it cannot use (``ssl_cert_reqs=maybe``).
Values of options that are not plain numbers or switches are never repeated in a message (``ssl_password``).
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .._redact import redact
from ..errors import ConfigurationError

__all__ = ["check_url_connection", "check_url_values"]

_TRUE = {"1", "T", "TRUE", "Y", "YES", "ON"}
_FALSE = {"0", "F", "FALSE", "N", "NO", "OFF"}  # redis-py's own false words
_CHOICES = {"ssl_cert_reqs": ("none", "optional", "required")}  # strings redis-py checks at its first connection
_NOT_OPTIONS = {"self", "host", "port", "path", "username", "password", "connection_class"}  # the URL says those
_UNEXPECTED = re.compile(r"unexpected keyword argument '(\w+)'")


def check_url_values(url: str, redis: Any, location: str) -> None:
    """ConfigurationError naming the first option of ``url`` whose value redis-py would refuse or misread (a
    number that is not one, ``socket_keepalive=maybe``), given twice or without a value, and what it takes;
    ``location`` is the URL as messages show it (no password). Run before redis-py reads the URL."""
    where = f"shared_state={location!r}"
    seen: set[str] = set()
    parsers = _parsers(redis)
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if name in seen:
            raise ConfigurationError(f"{where}: the option {name!r} is given twice; keep one")
        seen.add(name)
        if value == "":
            raise ConfigurationError(f"{where}: the option {name!r} has no value; give it one ({name}=...) or "
                                     f"remove it")
        parser = parsers.get(name)
        if parser is not None:
            _check_value(where, name, value, parser)
        elif name in _CHOICES and value.lower() not in _CHOICES[name]:
            raise ConfigurationError(f"{where}: the option {name!r} takes {' or '.join(_CHOICES[name])}, not "
                                     f"{value!r}")


def check_url_connection(url: str, redis: Any, client: Any, location: str, secrets: tuple[str, ...]) -> None:
    """ConfigurationError naming an option of ``url`` that the connection class of ``client`` (built from it by
    redis-py) does not take or cannot use: one connection object is built, no socket opened."""
    given = {name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
    if not given:
        return
    where = f"shared_state={location!r}"
    pool = client.connection_pool
    cls = pool.connection_class
    try:
        cls(**pool.connection_kwargs)
    except TypeError as exc:
        match = _UNEXPECTED.search(str(exc))
        name = match.group(1) if match and match.group(1) in given else None
        if name is None:
            raise ConfigurationError(f"{where}: its options cannot be used ({redact(str(exc), secrets)})") from None
        raise ConfigurationError(f"{where}: {_unknown(name, cls, redis)}") from None
    except (ValueError, redis.RedisError) as exc:
        raise ConfigurationError(f"{where}: its options cannot be used: {redact(str(exc), secrets)}") from None


def _parsers(redis: Any) -> dict[str, Any]:
    return dict(getattr(getattr(redis, "connection", None), "URL_QUERY_ARGUMENT_PARSERS", {}))


def _unknown(name: str, cls: type, redis: Any) -> str:
    """Why the connection class refused option ``name``, and what to write instead."""
    tls = getattr(redis, "SSLConnection", None)
    tls_options = _parameters(tls) - _parameters(cls) if tls is not None and cls is not tls else set()
    if name in tls_options:
        return f"the option {name!r} applies to TLS connections only: use a rediss:// URL, or remove it"
    candidates = (set(_parsers(redis)) | _parameters(cls) | tls_options) - _NOT_OPTIONS
    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.7)
    if close:
        needs = " (a TLS option: it needs a rediss:// URL)" if close[0] in tls_options else ""
        return f"unknown option {name!r}; did you mean {close[0]!r}{needs}?"
    usual = sorted(n for n in _parsers(redis) if tls_options == set() or not n.startswith("ssl_"))
    return (f"unknown option {name!r}; the usual ones are {', '.join(usual)} (redis-py's Redis.from_url takes any "
            f"keyword of its connection class)")


def _check_value(where: str, name: str, value: str, parser: Any) -> None:
    kind = {int: "a whole number", float: "a number"}.get(parser)
    if kind is not None:
        try:
            number = parser(value)
        except ValueError:
            number = None
        if number is None or (isinstance(number, float) and not math.isfinite(number)) or number < 0:
            raise ConfigurationError(f"{where}: the option {name!r} takes {kind} of 0 or more (e.g. {name}=2), "
                                     f"not {value!r}")
    elif getattr(parser, "__name__", "") == "to_bool":  # redis-py reads any other word as True
        if value.upper() not in _TRUE | _FALSE:
            raise ConfigurationError(f"{where}: the option {name!r} takes true or false (also 1/0, yes/no, "
                                     f"on/off), not {value!r}")
    else:
        try:
            parser(value)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ConfigurationError(f"{where}: the option {name!r} cannot be read ({exc}); see redis-py's "
                                     f"Redis.from_url for the values it takes") from None


def _parameters(cls: type) -> set[str]:
    """The keyword arguments ``cls`` takes, through the ``__init__`` of its bases (``**kwargs`` passed on)."""
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            parameters = inspect.signature(init).parameters
        except (TypeError, ValueError):
            continue
        names |= {n for n, p in parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            break
    return names
