"""The library's messages as the ``pepperpy`` command says them: commands and flags where the library advises
Python (``client.video_job(id)`` is ``pepperpy video --job ID``, ``raise budget=`` is ``raise --budget``).

>>> cli_wording("generate_image() needs an image model such as 'openai/gpt-image-2.6-flare'")
"`pepperpy image` needs an image model such as 'openai/gpt-image-2.6-flare'"
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["COMMANDS", "cli_wording"]

COMMANDS = {"generate_image": "image", "synthesize_stream": "speak", "synthesize": "speak",
            "transcribe_stream": "transcribe --stream", "transcribe": "transcribe", "generate_video": "video",
            "embed": "embed", "batch": "batch submit", "complete": "complete", "stream": "complete",
            "map": "map"}
"""A Client method, and the command that calls it."""

_METHODS = "|".join(sorted(COMMANDS, key=len, reverse=True))
_FLAGS = {"max_tokens": "--max-tokens", "n": "-n", "quality": "--quality", "size": "--size", "seconds": "--seconds"}


def _knobs(match: re.Match[str]) -> str:
    """``To fit: lower n, quality or size`` -> ``To fit: lower -n, --quality or --size``."""
    flags = [_FLAGS.get(name, name) for name in re.split(r", | or ", match[1])]
    return "To fit: lower " + (", ".join(flags[:-1]) + " or " + flags[-1] if len(flags) > 1 else flags[0])


def _command(match: re.Match[str]) -> str:
    """``use client.embed()`` / ``embed()`` -> ``use `pepperpy embed``` / ```pepperpy embed```."""
    verb = "use " if match[0].startswith("use ") else ""
    return f"{verb}`pepperpy {COMMANDS[match[1]]}`"


Replacement = str | Callable[[re.Match[str]], str]
_WORDING: tuple[tuple[re.Pattern[str], Replacement], ...] = (
    (re.compile(r",? or pass Client\(api_keys=\{'[\w-]+': \.\.\.\}\) \(create_provider\(\.\.\., api_key=\.\.\.\) "
                r"in the seed API\)"), " (`pepperpy providers` shows what each provider needs)"),
    (re.compile(r"client\.models\(capability='(\w+)'\)"), r"`pepperpy models --capability \1`"),
    (re.compile(r"See client\.models\(\) for every model"), "Run `pepperpy models` to list them"),
    (re.compile(r"\(client\.models\(\)\)|client\.models\(\)"), "`pepperpy models`"),
    (re.compile(r",? or pass strict_models=True to refuse unlisted names"), ""),
    # jobs: the command that resumes them
    (re.compile(r"client\.video_job\((['\"])([^'\"]+)\1\)"), r"`pepperpy video --job \2 -o FILE`"),
    (re.compile(r"client\.batch_job\((['\"])([^'\"]+)\1\)"), r"`pepperpy batch results \2`"),
    (re.compile(r"client\.video_job\(id\)"), "`pepperpy video --job ID -o FILE`"),
    (re.compile(r"client\.batch_job\(id\)"), "`pepperpy batch status ID`"),
    (re.compile(r"call job\.wait\(\) before job\.results\(\)"), "wait for it (`pepperpy batch results ID --wait`)"),
    (re.compile(r"call job\.wait\(\) before job\.result\(\)"), "wait for it (`pepperpy video --job ID -o FILE`)"),
    # budgets: the flags, and no Python
    (re.compile(r"raise budget="), "raise --budget"),
    (re.compile(r"\(its max_tokens\)"), "(its --max-tokens)"),
    (re.compile(r"\(the model's max_output_tokens, as max_tokens was not given\)"),
     "(the model's longest answer, as --max-tokens was not given)"),
    (re.compile(r"To fit: lower ((?:max_tokens|n|quality|size|seconds)(?:(?:, | or )(?:n|quality|size|seconds))*)"),
     _knobs),
    (re.compile(r" ?\(Budget\(limit, per='day'\) starts it daily\)"), ""),
    (re.compile(r"It has no period: it lasts as long as this Client"), "It counts this run only"),
    (re.compile(r"give it one \(Budget\(limit, per='day'\)\), or "), ""),
    (re.compile(r" \(Budget\(\.\.\., strict=True\) refuses them\)"), ""),
    # a method named as Python: the command that calls it
    (re.compile(rf"\b(?:use )?client\.({_METHODS})\(\)"), _command),
    (re.compile(rf"\b({_METHODS})\(\)"), _command),
)


def cli_wording(text: str) -> str:
    """A library message as the command line says it: a command or flag where the library advises Python."""
    for pattern, replacement in _WORDING:
        text = pattern.sub(replacement, text)
    return text
