"""The ``requests.Session`` objects a Transport sends with, and the settings they take from the environment.

A provider's session reads the environment's proxies and CA bundle once, when it is built, not on every call
(``trust_env`` costs a netrc lookup and several getenv calls per request); a CA bundle that is missing or
unreadable is a ConfigurationError then, not a bare OSError on every call. The key-less session fetches the
downloads away from the provider's origin: none of its headers, so never its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import BaseAdapter

from .. import errors

__all__ = ["USER_AGENT", "keyless_session", "provider_session"]

USER_AGENT = "pepperpy/0.1"


def provider_session(base_url: str, headers: Mapping[str, str]) -> requests.Session:
    """A session for the provider at ``base_url``: its headers (the key among them), the User-Agent, and the
    environment's proxies and CA bundle for that URL; no adapter mounted yet."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = _environ_ca_bundle(base_url)
    if bundle:
        session.verify = bundle
    session.trust_env = False
    session.headers.update({"User-Agent": USER_AGENT, **headers})
    return session


def keyless_session(verify: Any, adapter: BaseAdapter) -> requests.Session:
    """A session with none of the provider's headers (no key), on the same adapter (fakes see it too)."""
    bare = requests.Session()
    bare.trust_env = False
    bare.verify = verify
    bare.headers.update({"User-Agent": USER_AGENT})
    bare.mount("https://", adapter)
    bare.mount("http://", adapter)
    return bare


def _environ_ca_bundle(base_url: str) -> str | None:
    """The CA bundle requests would take from the environment. For an https provider, ConfigurationError when
    that path does not exist or holds no certificate that can be read (requests would raise a bare OSError on
    every call, and the event loop's TLS could not start); plain http needs none."""
    import os

    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        value = os.environ.get(name)
        if value:
            https = base_url.lower().startswith("https://")
            if not os.path.exists(value):
                if not https:
                    return None
                raise errors.ConfigurationError(
                    f"{name}={value!r} does not exist; point it at a PEM file (or a folder) of the CA certificates "
                    f"to trust, such as your company's bundle, or unset it to use the certifi bundle")
            if https:
                _check_ca_bundle(name, value)
            return value
    return None


def _check_ca_bundle(name: str, value: str) -> None:
    import ssl

    from ._framing import ssl_context

    try:
        ssl_context(value)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise errors.ConfigurationError(
            f"{name}={value!r} holds no CA certificate that can be read ({reason}); point it at a PEM file (or a "
            f"folder) of the CA certificates to trust, such as your company's bundle, or unset it to use the "
            f"certifi bundle") from None
