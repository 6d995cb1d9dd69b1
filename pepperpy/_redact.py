"""Keeping credentials out of text: ``redact`` (known secrets and anything shaped like an API key) and
``safe_url`` (no user info, no query string). Used by every message, log record and repr pepperpy makes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["redact", "redact_any", "safe_url"]

_KEY_PATTERNS = re.compile(
    r"(sk-[A-Za-z0-9_\-*]{8,}|sk-ant-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|gsk_[A-Za-z0-9]{8,}"
    r"|xai-[A-Za-z0-9]{8,}|(?<=Bearer )[A-Za-z0-9._\-]{8,})"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every known secret, and anything shaped like an API key, with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "***")
    return _KEY_PATTERNS.sub("***", text)


def redact_any(value: Any, secrets: Sequence[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: redact_any(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_any(v, secrets) for v in value]
    return value


_USER_INFO = re.compile(r"^([A-Za-z][\w+.-]*://)?[^/@\s]*@")


def safe_url(url: str) -> str:
    """A URL fit for a message: user info (it may hold a password) shown as ``***@``, no query string (it may
    hold a key). Works on text that is not a valid URL too."""
    return _USER_INFO.sub(r"\1***@", url).split("?", 1)[0].split("#", 1)[0]
