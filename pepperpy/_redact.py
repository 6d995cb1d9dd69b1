"""Keeping credentials out of text: ``redact`` (known secrets, in every encoding a server may echo them in, and
anything shaped like an API key) and ``safe_url`` (no user info, no query string). Used by every message, log
record and repr pepperpy makes.

A server that echoes a key rarely echoes it as sent: an error body is JSON (``"a\\/b"``), a gateway repeats the
URL or form it saw (``a%2Fb``, ``a+b``), a proxy repeats the ``Authorization: Basic`` header (base64 of
``user:password``). ``secret_forms`` lists each encoding of one secret, and ``redact`` masks them all;
``basic_auth`` is the base64 form of a user and password pair, for the callers that send one.

``RedactionFilter`` applies ``redact`` to every record of pepperpy's loggers (``get_logger``).

``header_problem`` says why a value (often a credential) cannot travel in an HTTP header without showing it:
http.client would otherwise raise a UnicodeEncodeError whose repr holds the whole header."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["RedactionFilter", "basic_auth", "describe_char", "get_logger", "header_problem", "paste_hint", "redact",
           "redact_any", "safe_url", "secret_forms", "url_secrets"]

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

# The patterns below are texts: ``re`` compiles each when first used (and keeps it), not when pepperpy loads
_KEY_PATTERNS = (
    r"(sk-[A-Za-z0-9_\-*]{8,}|sk-ant-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|gsk_[A-Za-z0-9]{8,}"
    r"|xai-[A-Za-z0-9]{8,}|(?<=Bearer )[A-Za-z0-9._\-]{8,})"
)


def secret_forms(secret: str) -> tuple[str, ...]:
    """Every way ``secret`` may come back in a server's text, longest first: as it is, JSON-escaped (``\\/``
    too, and ``\\uXXXX`` for what is not ASCII), percent-encoded as ``urllib.parse.quote`` and ``quote_plus``
    write it (``/`` kept or not, hex digits upper or lower case), and base64 of it. Empty for a value shorter
    than 4 characters (masking "ab" everywhere would garble messages and protect nothing)."""
    import base64
    import json
    from urllib.parse import quote, quote_plus

    if not secret or len(secret) < 4:
        return ()
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    forms |= {form.replace("/", "\\/") for form in forms}
    encoded = {quote(secret), quote(secret, safe=""), quote_plus(secret), quote_plus(secret, safe="/")}
    forms |= encoded | {re.sub(_PERCENT, lambda m: m.group().lower(), form) for form in encoded}
    raw = secret.encode("utf-8")
    forms |= {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return tuple(sorted(forms, key=len, reverse=True))


def basic_auth(user: str, password: str) -> str:
    """The credentials of an ``Authorization: Basic`` header, as requests sends them (Latin-1, else UTF-8): a
    secret of their own, since a proxy or server that echoes the header shows the password base64-encoded."""
    import base64

    pair = f"{user}:{password}"
    try:
        raw = pair.encode("latin-1")
    except UnicodeEncodeError:
        raw = pair.encode("utf-8")
    return base64.b64encode(raw).decode()


def url_secrets(url: str) -> tuple[str, ...]:
    """The secrets a URL's user info holds: its password as written and decoded, and the ``Authorization: Basic``
    value requests makes of the pair (a server that echoes the header shows them base64-encoded)."""
    from urllib.parse import unquote, urlsplit

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL (a port that is not a number): nothing to read
        return ()
    if not password:
        return ()
    user, plain = unquote(parts.username or ""), unquote(password)
    return tuple(dict.fromkeys((password, plain, basic_auth(user, plain))))


_PERCENT = r"%[0-9A-F]{2}"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every known secret, in each of its ``secret_forms``, and anything shaped like an API key, with
    ``***``."""
    forms = {form for secret in secrets for form in secret_forms(secret)}
    if forms:  # longest first across secrets too: base64 of "user:password" holds that of the password
        text = _mask(text, sorted(forms, key=len, reverse=True))
    return re.sub(_KEY_PATTERNS, "***", text)


def _mask(text: str, forms: Sequence[str]) -> str:
    for form in forms:  # longest first: a form that holds another is masked whole
        if form in text:
            text = text.replace(form, "***")
    return text


def redact_any(value: Any, secrets: Sequence[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: redact_any(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_any(v, secrets) for v in value]
    return value


# user info ends at the LAST "@" before the path, as urllib and redis-py read it ("p@ss" is one password)
_USER_INFO = r"^([A-Za-z][\w+.-]*://)?[^/?#]*@"


def safe_url(url: str) -> str:
    """A URL fit for a message: user info (it may hold a password) shown as ``***@``, no query string (it may
    hold a key). Works on text that is not a valid URL too."""
    return re.sub(_USER_INFO, r"\1***@", url).split("?", 1)[0].split("#", 1)[0]


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
        # every encoding of every secret, longest first, worked out once rather than per record
        self._forms = tuple(sorted({f for s in self.secrets for f in secret_forms(s)}, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self._redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        for name, value in list(vars(record).items()):
            if name not in _RECORD_FIELDS and isinstance(value, (str, list, dict, tuple)):
                setattr(record, name, self._scrub(value))
        return True

    def _redact(self, text: str) -> str:
        return re.sub(_KEY_PATTERNS, "***", _mask(text, self._forms))

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._redact(value)
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
