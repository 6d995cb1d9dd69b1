"""The one convention of the ``pepperpy`` command: ``-p/--param KEY VALUE`` for any call parameter on every command
that sends some, ``-o/--output FILE`` for what a command writes, and flags that close to a mistyped one suggested.

``-o KEY VALUE`` was once the parameter form of ``complete``, ``map`` and ``batch submit``: a ``-o`` whose value
names a parameter of the model and has no file extension is refused with the ``-p`` form, rather than writing a
file named ``seed`` and sending "42 hi" as the prompt.
"""

from __future__ import annotations

import argparse
import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import errors

__all__ = ["RENAMED", "add_output", "add_params", "looks_like_param", "option_value", "param_values",
           "refuse_param_as_output", "refuse_unknown_flags", "suggest_flag"]

RENAMED = {"--option": "-p/--param", "--options": "-p/--param", "--params": "-p/--param", "--out": "-o/--output",
           "--save": "-o/--output", "--model": "-m/--model", "--max_tokens": "--max-tokens"}
"""Flags other tools (and older pepperpy) use, and this command's name for them."""


def add_params(parser: argparse.ArgumentParser, what: str = "another call parameter") -> None:
    """``-p/--param KEY VALUE`` (repeatable) on a command that sends parameters."""
    parser.add_argument("-p", "--param", dest="params", nargs=2, action="append", metavar=("KEY", "VALUE"),
                        help=f"{what} (repeatable): -p seed 42 -p top_p 0.9; VALUE is read as JSON when it parses, "
                             f"else as a string")


def add_output(parser: argparse.ArgumentParser, help: str, **kw: Any) -> None:
    """``-o/--output FILE`` on a command that writes."""
    parser.add_argument("-o", "--output", metavar="FILE", help=help, **kw)


def option_value(text: str) -> Any:
    """``-p`` values are JSON when they parse as JSON (``0.5``, ``true``, ``{"type": "json_object"}``), else
    the string as typed (``-p user alice``)."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def param_values(args: argparse.Namespace, given: Mapping[str, tuple[Any, str]],
                 reserved: Mapping[str, str]) -> dict[str, Any]:
    """The call's parameters: ``given`` (name -> (value, the flag that set it)) without the None ones, then every
    ``-p KEY VALUE``; ValidationError for a reserved name (``reserved``: what to use instead) or one given twice."""
    params = {name: value for name, (value, _) in given.items() if value is not None}
    for key, text in getattr(args, "params", None) or ():
        if key in reserved:
            raise errors.ValidationError(f"-p {key}: {reserved[key]}", param=key)
        if key in params:
            flag = given[key][1] if key in given else f"-p {key}"
            raise errors.ValidationError(f"{key} is given twice (by {flag} and -p {key}); keep one", param=key)
        params[key] = option_value(text)
    return params


def looks_like_param(output: str | None, names: Iterable[str]) -> bool:
    """Whether ``-o``'s value is a parameter name of the model (``seed``, ``top_p``) rather than a file: no
    extension, no folder, and a name the model takes."""
    if not output or "/" in output or output.startswith("."):
        return False
    return not Path(output).suffix and output in set(names)


def refuse_param_as_output(args: argparse.Namespace, names: Iterable[str], command: str) -> None:
    """A usage error (exit 2) for ``-o KEY VALUE``, the old parameter form, naming the ``-p`` form."""
    output = getattr(args, "output", None)
    if looks_like_param(output, names):
        args.usage_error(f"-o writes the output to a FILE; {output!r} is a parameter of {args.model}, so pass it "
                         f"with -p: pepperpy {command} -m {args.model} -p {output} VALUE ... (to write a file named "
                         f"{output}, give ./{output})")


def suggest_flag(unknown: str, known: Iterable[str]) -> str | None:
    """The flag meant by ``unknown`` (a rename this command knows, or the closest of ``known``), or None."""
    flag = unknown.split("=", 1)[0]
    if flag in RENAMED:
        return RENAMED[flag]
    close = difflib.get_close_matches(flag, list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def refuse_unknown_flags(parser: argparse.ArgumentParser, unknown: Sequence[str]) -> None:
    """A usage error (exit 2) for arguments the command does not know, with the flag meant when one is close."""
    known = list(parser._option_string_actions)
    hints = []
    for word in unknown:
        if word.startswith("-") and word != "-":
            meant = suggest_flag(word, known)
            if meant is not None:
                hints.append(f"{word.split('=', 1)[0]}: did you mean {meant}?")
    hint = f" ({'; '.join(hints)})" if hints else f" (`{parser.prog} --help` lists its flags)"
    parser.error(f"unrecognized arguments: {' '.join(unknown)}{hint}")
