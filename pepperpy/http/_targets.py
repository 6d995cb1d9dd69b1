"""Request targets that cannot be forged: names that land in a URL path or query, checked, then quoted.

A model name, a StackSpot agent id, a batch, file or video id is typed by a user, read from a job id or taken
from a provider's answer, and some of them become part of a request's URL (Gemini's
``models/{model}:generateContent``, ``/v1/agent/{id}/chat``, ``/batches/{id}``). Quoted blindly, a carriage
return would end the request line and start a second request carrying the key (request smuggling on a raw
HTTP/1.1 connection), a ``..`` segment would point the key at another endpoint (urllib3 and most servers remove
dot segments), a ``?`` or ``#`` would end the path. So each name is checked first, and refused with a
ValidationError naming the character, where it is and how to fix it, before anything is sent:

- control and format characters (``U+0000``-``U+001F``, ``U+007F``, bidi overrides, zero-width...), and
  whitespace of any kind;
- ``?`` and ``#``;
- ``.`` and ``..`` segments, and empty ones;
- ``/``, except where the provider's own path has it (``path_segments``: Gemini's ``tunedModels/NAME``).

What passes is quoted with ``urllib.parse.quote(..., safe="")``: one path segment, whatever it holds. A name
outside ASCII (``gemini/模型``) is percent-encoded as UTF-8 (RFC 3986 / 3987), the same bytes on both roads:
the provider then answers whether it knows the name (a 404 naming it), rather than pepperpy guessing its naming
rules. ``check_target`` is the transports' last look at a relative path before sending, for any builder that
forgot.

``query_value`` checks and quotes a name sent in a query string (the realtime model in ``?model=``), where
``/``, ``?``, ``#`` and dots are only quoted.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse

from .._redact import describe_char
from ..errors import ValidationError

__all__ = ["check_target", "name_problem", "path_segment", "path_segments", "query_value"]

# What no name may hold, in a path or a query: the bytes that end a request line or a header, whitespace, and
# the two characters that end a URL path.
_ENDS_PATH = {"?": "which would end the URL path and start a query string",
              "#": "which would cut the URL there (a fragment is never sent)"}
_FORMAT_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp", "Zs"})


def _char_problem(char: str, position: int) -> str | None:
    """``contains X at position N, which ...`` for a character no name may hold; None for the others."""
    if char in _ENDS_PATH:
        return f"contains {char!r} at position {position}, {_ENDS_PATH[char]}"
    category = unicodedata.category(char)
    if char.isspace() or category in _FORMAT_CATEGORIES:
        kind = "a control character" if category == "Cc" else "whitespace" if char.isspace() else "a format character"
        return f"contains {kind}, {describe_char(char)}, at position {position}, which cannot be part of a URL"
    return None


def name_problem(value: str, *, slashes: bool = False, offset: int = 0) -> str | None:
    """Why ``value`` cannot go into a URL path segment (or a query value), as the end of a sentence that starts
    with the name; None when it can. ``slashes``: ``/`` separates segments, each checked (no empty, ``.`` or
    ``..`` one). ``offset``: where ``value`` starts in the name the message shows (positions count from there)."""
    if not value:
        return "is empty"
    for position, char in enumerate(value):
        problem = _char_problem(char, offset + position)
        if problem is not None:
            return problem
    start = offset
    for segment in value.split("/"):
        if segment in (".", ".."):
            return (f"has a {segment!r} segment at position {start}, which would point the request at another "
                    f"endpoint (dot segments are resolved before sending)")
        if not segment and slashes:
            return f"has an empty segment at position {start} (a '/' at either end, or two in a row)"
        start += len(segment) + 1
    if not slashes and "/" in value:
        return f"contains '/' at position {offset + value.index('/')}, which would split it into two URL path segments"
    return None


def _offset(value: str, shown: str | None) -> int:
    return len(shown) - len(value) if shown is not None and shown.endswith(value) else 0


def _refuse(value: str, problem: str, what: str, param: str, fix: str) -> ValidationError:
    return ValidationError(f"the {what} {value!r} {problem}; {fix}", param=param, value=value)


_DEFAULT_FIX = "remove it: names go into the request's URL exactly as the provider lists them"


def path_segment(value: str, *, what: str = "model name", param: str = "model", fix: str = _DEFAULT_FIX,
                 shown: str | None = None) -> str:
    """``value`` checked and quoted as one URL path segment; ValidationError (``param``) saying what is wrong.
    ``what`` names the value in the message ("model name", "batch id"); ``shown`` is the name the message
    quotes when ``value`` is its end (the full ``provider/model``), positions then counting in ``shown``.

    >>> path_segment("gpt-4o")
    'gpt-4o'
    >>> path_segment("a b")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pepperpy.errors.ValidationError: the model name 'a b' contains whitespace, U+0020 (SPACE), at position 1, ...
    """
    problem = name_problem(value, offset=_offset(value, shown))
    if problem is not None:
        raise _refuse(shown if shown is not None else value, problem, what, param, fix)
    return urllib.parse.quote(value, safe="")


def path_segments(value: str, *, what: str = "model name", param: str = "model", fix: str = _DEFAULT_FIX,
                  shown: str | None = None) -> str:
    """``value`` as ``/``-separated URL path segments, each checked and quoted (a provider's resource names:
    Gemini's ``batches/123``, ``models/veo-3/operations/abc``)."""
    problem = name_problem(value, slashes=True, offset=_offset(value, shown))
    if problem is not None:
        raise _refuse(shown if shown is not None else value, problem, what, param, fix)
    return "/".join(urllib.parse.quote(segment, safe="") for segment in value.split("/"))


def query_value(value: str, *, what: str = "model name", param: str = "model", fix: str = _DEFAULT_FIX) -> str:
    """``value`` checked and quoted for a query string (``?model=`` + ``query_value(name)``): for names sent in a
    URL's query, such as the realtime model. Control and format characters and whitespace are refused as in a
    path; ``/``, ``?``, ``#`` and dots are only quoted, a query value being one opaque string (a fine-tuned
    model's ``ft:...`` name)."""
    if not value:
        raise _refuse(value, "is empty", what, param, fix)
    for position, char in enumerate(value):
        problem = None if char in _ENDS_PATH else _char_problem(char, position)
        if problem is not None:
            raise _refuse(value, problem, what, param, fix)
    return urllib.parse.quote(value, safe="")


# A relative target as a dialect builds it: the path (ASCII, quoted) and, after '?', a fixed query string.
_UNSENDABLE = re.compile(r"[^\x21-\x7e]|#")


def check_target(path: str) -> None:
    """The transports' last check of a relative request target built by a dialect or a job: ASCII without
    whitespace or ``#``, and no dot segment in its path. ValidationError naming the character otherwise (a
    name that reached the URL unquoted)."""
    odd = _UNSENDABLE.search(path)
    if odd is not None:
        char, position = odd.group(), odd.start()
        problem = _char_problem(char, position) or (
            f"contains {describe_char(char)} at position {position}, which a request target carries only "
            f"percent-encoded")
        raise ValidationError(f"the request path {path!r} {problem}; a name in it was not quoted: check the model "
                              f"name or id you passed", param="path", value=path)
    route = path.split("?", 1)[0]
    for segment in route.split("/")[1:]:
        if segment in (".", ".."):
            raise ValidationError(f"the request path {path!r} has a {segment!r} segment, which would point the "
                                  f"request at another endpoint; check the model name or id you passed",
                                  param="path", value=path)
