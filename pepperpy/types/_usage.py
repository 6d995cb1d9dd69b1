"""Token counts (``Usage``) and the short texts every result's repr shows (``short_text``, ``plural``,
``result_repr``, ``short_value``): what the answers of every call share."""

from __future__ import annotations

from typing import Any

from ._value import Value

__all__ = ["REPR_TEXT", "Usage", "plural", "result_repr", "short_text", "short_value"]


REPR_TEXT = 60  # characters of a text shown by a repr; the whole text stays in the attribute


def short_text(text: str, limit: int = REPR_TEXT) -> str:
    """``text`` for a repr: quoted, cut at ``limit`` characters with its length said (reprs show shapes, not
    contents, as numpy and pandas do; the data stays in the attributes)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} chars)"


def plural(count: int, noun: str) -> str:
    """``"1 image"``, ``"2 images"``, ``"1,024 bytes"``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def result_repr(name: str, shape: str, result: Any, *extra: str) -> str:
    """The one repr of a result: ``Name(shape, model=..., provider=..., <extra>, usage=..., cost=...)``, then
    ``cached=True`` and ``request_id`` when they apply (Completion, Embeddings and the media results)."""
    parts = [shape, f"model={result.model!r}", f"provider={result.provider!r}", *extra,
             f"usage={result.usage!r}", f"cost={result.cost!r}"]
    if result.cached:
        parts.append("cached=True")
    if result.request_id is not None:
        parts.append(f"request_id={result.request_id!r}")
    return f"{name}({', '.join(parts)})"


def short_value(value: Any, limit: int = REPR_TEXT) -> str:
    """Any value for a repr, its own repr cut at ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({type(value).__name__})"


class Usage(Value):
    """Token counts of one call. ``total_tokens`` defaults to input + output.

    ``input_audio_tokens`` and ``input_image_tokens`` are the part of ``input_tokens`` that was audio or
    images, when the provider says so (some price them apart: ``Pricing.audio_input`` / ``image_input``);
    ``cached_audio_tokens`` the audio part of ``cached_tokens`` and ``output_audio_tokens`` the spoken part of
    ``output_tokens`` (realtime sessions: ``Pricing.cached_audio_input`` / ``audio_output``).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = -1
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    input_audio_tokens: int = 0
    input_image_tokens: int = 0
    cached_audio_tokens: int = 0
    output_audio_tokens: int = 0

    def __post_init__(self) -> None:
        if self.total_tokens < 0:
            object.__setattr__(self, "total_tokens", self.input_tokens + self.output_tokens)

    def __repr__(self) -> str:
        """The three totals, then only the details that are not zero (a repr shows shapes, not every field)."""
        details = "".join(f", {name}={getattr(self, name)}" for name in _USAGE_DETAILS if getattr(self, name))
        return (f"Usage(input_tokens={self.input_tokens}, output_tokens={self.output_tokens}, "
                f"total_tokens={self.total_tokens}{details})")


_USAGE_DETAILS = ("cached_tokens", "reasoning_tokens", "input_audio_tokens", "input_image_tokens",
                  "cached_audio_tokens", "output_audio_tokens")
