"""Keeping credentials out of text: ``redact`` (known secrets and anything shaped like an API key) and
``safe_url`` (no user info, no query string). Used by every message, log record and repr pepperpy makes.

``RedactionFilter`` applies ``redact`` to every record of pepperpy's loggers (``get_logger``).

``header_problem`` says why a value (often a credential) cannot travel in an HTTP header without showing it:
http.client would otherwise raise a UnicodeEncodeError whose repr holds the whole header."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["RedactionFilter", "describe_char", "get_logger", "header_problem", "paste_hint", "redact", "redact_any",
           "safe_url"]

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

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


# user info ends at the LAST "@" before the path, as urllib and redis-py read it ("p@ss" is one password)
_USER_INFO = re.compile(r"^([A-Za-z][\w+.-]*://)?[^/?#]*@")


def safe_url(url: str) -> str:
    """A URL fit for a message: user info (it may hold a password) shown as ``***@``, no query string (it may
    hold a key). Works on text that is not a valid URL too."""
    return _USER_INFO.sub(r"\1***@", url).split("?", 1)[0].split("#", 1)[0]


def describe_char(char: str) -> str:
    """One character named for a message, e.g. ``U+201D (RIGHT DOUBLE QUOTATION MARK)``: the stray character
    of a credential is shown this way, never the credential."""
    import unicodedata

    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


# Control characters have no name in the Unicode database; these are their ISO 6429 names
_CONTROL_NAMES = {"\x00": "NULL", "\t": "CHARACTER TABULATION", "\n": "LINE FEED", "\x0b": "LINE TABULATION",
                  "\x0c": "FORM FEED", "\r": "CARRIAGE RETURN", "\x1b": "ESCAPE", "\x7f": "DELETE"}


def paste_hint(char: str) -> str:
    """A hint for characters that come along when a value is copied from a document (smart quotes, dashes)."""
    import unicodedata

    name = unicodedata.name(char, "")
    if any(word in name for word in ("QUOTATION", "APOSTROPHE", "DASH", "SPACE", "PRIME")):
        return " (a typographic quote, dash or space often comes along when a value is copied from a document)"
    return ""


def header_problem(value: str) -> str | None:
    """Why ``value`` cannot be an HTTP header value (http.client sends Latin-1, and no control characters), as
    the end of a sentence that names where the value came from; None when it can be sent."""
    odd = next((c for c in value if ord(c) > 255 or ord(c) < 32 or ord(c) == 127), None)
    if odd is None:
        return None
    return (f"contains {describe_char(odd)}, which cannot be sent in an HTTP header; set it to plain text"
            f"{paste_hint(odd)}")


class RedactionFilter(logging.Filter):
    """Scrubs credentials from a record's message and extra fields; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        for name, value in list(vars(record).items()):
            if name not in _RECORD_FIELDS and isinstance(value, (str, list, dict, tuple)):
                setattr(record, name, self._scrub(value))
        return True

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, self.secrets)
        if isinstance(value, dict):
            return {k: self._scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._scrub(v) for v in value]
        return value


def get_logger(name: str) -> logging.Logger:
    """A pepperpy logger with the redaction filter on it (added once)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactionFilter) for f in logger.filters):
        logger.addFilter(RedactionFilter())
    return logger
