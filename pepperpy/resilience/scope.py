"""Whose account an answer belongs to: ``credential_scope``, the fingerprint of a provider's base URL and the
credentials that reach it, which response-cache keys (local and shared) and shared guards carry, so that two
accounts never share an answer while every worker of one app does (docs/web-apps.md).

Apart from the cache (pickle, its entries) so that every provider's runtime can compute its scope without it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

__all__ = ["credential_scope"]


def credential_scope(base_url: str, credentials: Iterable[tuple[str, str]]) -> str:
    """The fingerprint of an account at an address (see the module docstring): HMAC-SHA256 of ``base_url``
    (user info left out) keyed by a digest of ``credentials``, ``(name, value)`` pairs in any order (header
    names are case-insensitive). The same pairs give the same fingerprint in every process; none can be
    read back from it.

    >>> a = credential_scope("https://api.example.com/v1", [("Authorization", "Bearer sk-one")])
    >>> a == credential_scope("https://api.example.com/v1/", [("authorization", "Bearer sk-one")])
    True
    >>> a == credential_scope("https://api.example.com/v1", [("Authorization", "Bearer sk-two")])
    False
    """
    import hmac
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base_url.strip().rstrip("/"))
    try:
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    except ValueError:  # a port that is not a number: the address as written
        host = parts.netloc.rpartition("@")[2]
    address = urlunsplit((parts.scheme.lower(), host, parts.path, parts.query, ""))
    canonical = sorted((name.lower(), value) for name, value in credentials if value)
    encoded = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    secret = hashlib.sha256(_SCOPE_DOMAIN + encoded).digest()
    return hmac.new(secret, address.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


_SCOPE_DOMAIN = b"pepperpy response-cache credential scope v1\0"  # a secret for this use only, never the key
