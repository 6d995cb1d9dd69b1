"""What an operation costs, in the unit it is sold in: the one place results are priced (``charge``) and a call's
worst case is estimated before anything is sent (the ``*_worst`` functions, each giving an ``Estimate``).

Every unit has one function, on ``Pricing`` (``pepperpy.types``): tokens (``token_cost``), images
(``image_cost``, by size and quality), characters spoken (``character_cost``), seconds of audio transcribed
(``audio_cost``, sold per minute) and seconds of video (``video_cost``, by size). ``charge`` picks the unit of a
result: the tokens the provider reported when the catalog has token prices, else the operation's own unit;
batch results at the batch price. A price is the one in force on the day the call was made
(``ModelSpec.price_on``).

Worst cases, for budgets (``pepperpy.observe.budget``): what the call would cost if the provider used everything
the call allows: ``max_tokens`` of output (else the catalog's ``max_output_tokens``, else what the context window
leaves, else ``WORST_OUTPUT_TOKENS``); ``n`` images at the dearest quality and size the call leaves open; the
characters of a text to speak; the seconds of an audio file (read from a WAV header, else its size at
``SLOWEST_AUDIO_BITRATE``); the seconds of a video. Each ``Estimate`` says how it was reached and which of the
call's own parameters would lower it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from ..catalog.tokens import estimate_tokens
from ..types import Completion, ModelSpec, Pricing, Usage
from ..types._evolve import evolve
from ..types._value import Value

__all__ = ["AUDIO_TOKENS_PER_SECOND", "IMAGE_TOKENS", "SLOWEST_AUDIO_BITRATE", "SPEECH_TOKENS_PER_CHARACTER",
           "WORST_OUTPUT_TOKENS", "Estimate", "batch_price", "charge", "chat_worst", "embed_worst", "image_worst",
           "priced", "realtime_worst", "speech_worst", "transcription_worst", "usd", "video_worst",
           "worst_case_tokens"]

WORST_OUTPUT_TOKENS = 4096  # output tokens counted when neither max_tokens nor the catalog bounds them
# Output tokens of one generated image at 1024x1024 by quality (OpenAI's published figures for its gpt-image
# models), scaled by the image's area: what a token-priced image model without its own figures may bill
IMAGE_TOKENS = {"low": 272, "medium": 1056, "high": 4160}
_SHORTHAND_SIZES = {"1K": 1024, "2K": 2048, "4K": 4096}  # Gemini's imageSize values: the longer side
SPEECH_TOKENS_PER_CHARACTER = 4   # audio tokens one character of slow speech may take (32 tokens/s, 8 chars/s)
AUDIO_TOKENS_PER_SECOND = 32      # input tokens one second of audio takes (Gemini's documented rate)
SLOWEST_AUDIO_BITRATE = 16_000    # bits/s: an audio file's longest plausible length is its size at this rate

R = TypeVar("R")


class Estimate(Value):
    """A call's worst case: ``amount`` USD, ``basis`` (how it was reached, for the budget's message) and
    ``knobs`` (the call's parameters that would lower it, as a phrase: ``"lower max_tokens"``)."""

    amount: float
    basis: str
    knobs: str


def usd(amount: float) -> str:
    """``$5.00``, ``$0.80``, or enough digits to show a small amount (``$0.000123``, ``$2.0e-08``)."""
    if amount >= 1 or amount == 0:
        return f"${amount:.2f}"
    if amount < 0.000001:
        return f"${amount:.1e}"
    text = f"{amount:.6f}".rstrip("0")
    return f"${text}{'0' * (4 - len(text))}"  # $0.8 -> $0.80


def _tokens(count: int) -> str:
    return f"{count:,} token{'' if count == 1 else 's'}"


# --------------------------------------------------------------------------- pricing a result

def batch_price(price: Pricing, discount: float | None) -> Pricing | None:
    """The price through the provider's batch API: ``pricing.batch`` when the catalog names one, else the
    standard price less the provider's ``batch_discount``; None when neither is known."""
    if price.batch is not None:
        return price.batch
    if discount is None:
        return None
    keep = 1.0 - discount
    return evolve(price, input=price.input * keep, output=price.output * keep,
                   cached_input=price.cached_input * keep if price.cached_input is not None else None,
                   audio_input=price.audio_input * keep if price.audio_input is not None else None,
                   image_input=price.image_input * keep if price.image_input is not None else None)


def charge(spec: ModelSpec, result: Any, *, day: str | None = None, batch: bool = False,
           batch_discount: float | None = None) -> float | None:
    """USD of one result at ``spec``'s price on ``day`` (None: today), in the result's unit; None when the
    catalog has no price in that unit (or the provider reported nothing to price)."""
    price = spec.price_on(day)
    if price is None:
        return None
    if batch:
        found = batch_price(price, batch_discount)
        return found.token_cost(result.usage) if found is not None else None
    usage: Usage | None = getattr(result, "usage", None)
    by_tokens = usage is not None and usage.total_tokens > 0 and price.per_token
    if isinstance(result, Completion):
        return price.token_cost(result.usage)
    from ..types import Embeddings  # an embed's answer: its class is made already

    if isinstance(result, Embeddings):
        if usage is not None and not usage.total_tokens:
            return None  # no token counts came back (Gemini's batchEmbedContents): unknown, not a false $0
        return price.token_cost(result.usage)
    if by_tokens and usage is not None:
        return price.token_cost(usage)
    from ..media import Images, Speech, Transcription, Video  # a media result: its module is loaded already

    if isinstance(result, Images):
        return price.image_cost(len(result.images), result.size, result.quality)
    if isinstance(result, Speech):
        return price.character_cost(result.characters)
    if isinstance(result, Transcription):
        seconds = result.billed_seconds if result.billed_seconds is not None else result.duration
        return price.audio_cost(seconds) if seconds is not None else None
    if isinstance(result, Video):
        return price.video_cost(result.seconds, result.size) if result.seconds else None
    return None


def priced(spec: ModelSpec, result: R, *, day: str | None = None, batch: bool = False,
           batch_discount: float | None = None) -> R:
    """``result`` with its ``cost``: what the provider reported when it did (OpenRouter), else ``charge``."""
    if getattr(result, "cost", None) is not None and not batch:
        return result
    cost = charge(spec, result, day=day, batch=batch, batch_discount=batch_discount)
    return evolve(result, cost=cost)


# --------------------------------------------------------------------------- worst cases

def worst_case_tokens(spec: ModelSpec, *, messages: Sequence[Mapping[str, Any]] | None = None,
                      texts: Sequence[str] | None = None, max_tokens: Any = None,
                      tools: Any = None) -> tuple[int, int]:
    """(input tokens estimated, output tokens at most) of one chat or embedding call."""
    return _chat_tokens(spec, messages=messages, texts=texts, max_tokens=max_tokens, tools=tools)[:2]


def _chat_tokens(spec: ModelSpec, *, messages: Sequence[Mapping[str, Any]] | None = None,
                 texts: Sequence[str] | None = None, max_tokens: Any = None,
                 tools: Any = None) -> tuple[int, int, str]:
    if texts is not None:
        return sum(math.ceil(len(t.encode("utf-8")) / 4) for t in texts), 0, ""
    input_tokens = estimate_tokens(messages or (), tools=tools)
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0:
        return input_tokens, max_tokens, "its max_tokens"
    if spec.max_output_tokens:
        return input_tokens, spec.max_output_tokens, "the model's max_output_tokens, as max_tokens was not given"
    if spec.context_window:
        return input_tokens, max(spec.context_window - input_tokens, 0), "what its context window leaves"
    return input_tokens, WORST_OUTPUT_TOKENS, "no limit known"


def chat_worst(spec: ModelSpec, price: Pricing, *, messages: Sequence[Mapping[str, Any]] | None,
               max_tokens: Any = None, tools: Any = None, items: int = 1) -> Estimate:
    """A chat call (or ``items`` of them, a batch at ``price``): its estimated input and its output bound."""
    input_tokens, output_tokens, why = _chat_tokens(spec, messages=messages, max_tokens=max_tokens, tools=tools)
    amount = (input_tokens * price.input + output_tokens * price.output) / 1_000_000 * items
    each = f" for each of {items} items" if items > 1 else ""
    return Estimate(amount, f"{_tokens(input_tokens)} of input estimated + {_tokens(output_tokens)} of output "
                            f"({why}){each}", "lower max_tokens" + (" or send fewer items" if items > 1 else ""))


def embed_worst(spec: ModelSpec, price: Pricing, texts: Sequence[str]) -> Estimate:
    """An embedding call: its input tokens (embeddings bill no output)."""
    tokens = _chat_tokens(spec, texts=texts)[0]
    return Estimate(tokens * price.input / 1_000_000,
                    f"{_tokens(tokens)} of input estimated for {len(texts)} text{'' if len(texts) == 1 else 's'}",
                    "embed fewer or shorter texts")


def image_worst(spec: ModelSpec, price: Pricing, *, prompt: str, n: int, size: str | None,
                quality: str | None) -> Estimate:
    """``n`` images: at ``per_image`` for the size and quality (the dearest the call leaves open), else at token
    prices with each image's output tokens (``IMAGE_TOKENS`` by quality, scaled by the image's area)."""
    knobs = _image_knobs(spec)
    if price.per_image:
        each, size_used, quality_used = _dearest_image(price, size, quality)
        if each is not None:
            shown = ", ".join(v for v in (quality_used, size_used) if v)
            return Estimate(each * n, f"{n} image{'s' if n != 1 else ''} at {usd(each)} each"
                                      f"{f' ({shown})' if shown else ''}", knobs)
    quality_used = quality if quality in IMAGE_TOKENS else "high"
    size_used = size if size not in (None, "auto") else ("1536x1024" if not spec.sizes else _largest(spec.sizes))
    per_image = math.ceil(IMAGE_TOKENS[quality_used] * _area(size_used) / (1024 * 1024))
    input_tokens = math.ceil(len(prompt.encode("utf-8")) / 4)
    amount = (input_tokens * price.input + n * per_image * price.output) / 1_000_000
    return Estimate(amount, f"{n} image{'s' if n != 1 else ''} of up to {_tokens(per_image)} each at {quality_used} "
                            f"quality and {size_used}, + {_tokens(input_tokens)} of prompt", knobs)


def _image_knobs(spec: ModelSpec) -> str:
    """``lower n, quality or size``: the image parameters this model lets a call change."""
    names = []
    count = spec.params.get("n")
    if count is None or (count.supported and count.max != 1):
        names.append("n")
    quality = spec.params.get("quality")
    if quality is None or quality.supported:
        names.append("quality")
    names.append("size")
    return "lower " + (", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0])


def _dearest_image(price: Pricing, size: str | None, quality: str | None) -> tuple[float | None, str, str]:
    """(price of one image, size, quality): for what the call left open, the dearest the table lists."""
    table = price.per_image or {}
    nested = any(isinstance(value, Mapping) for value in table.values())
    qualities = [quality] if quality not in (None, "auto") or not nested else list(table)
    best: tuple[float | None, str, str] = (None, "", "")
    for q in qualities:
        row = table.get(q or "", table.get("*")) if nested else table
        sizes = [size] if size not in (None, "auto") else list(row) if isinstance(row, Mapping) else []
        for s in sizes:
            found = price.image_price(s, q if nested else None)
            if found is not None and (best[0] is None or found > best[0]):
                best = (found, s or "", q or "" if nested else "")
    return best


def _area(size: str) -> int:
    if size in _SHORTHAND_SIZES:
        side = _SHORTHAND_SIZES[size]
        return side * side
    match = re.fullmatch(r"(\d+)x(\d+)", size)
    return int(match[1]) * int(match[2]) if match else 1536 * 1024


def _largest(sizes: Sequence[str]) -> str:
    return max((s for s in sizes if s != "auto"), key=_area, default="1536x1024")


def realtime_worst(price: Pricing, *, text_tokens: int, audio_seconds: float, history_text: int,
                   history_audio: int, max_output: int, audio_out: bool) -> Estimate:
    """One realtime answer: the conversation the provider bills again each turn (``history_*`` tokens), the new
    input (text tokens estimated, audio at ``AUDIO_TOKENS_PER_SECOND``) and the session's ``max_output`` tokens at
    the dearer of the text and audio output prices when the answer is spoken."""
    text_in = history_text + text_tokens
    audio_in = history_audio + math.ceil(audio_seconds * AUDIO_TOKENS_PER_SECOND)
    out_price = max(price.output, price.audio_output or 0.0) if audio_out else price.output
    amount = (text_in * price.input + audio_in * (price.audio_input or price.input) + max_output * out_price) / 1e6
    return Estimate(amount, f"{_tokens(text_in + audio_in)} of input (the conversation so far included) + up to "
                            f"{_tokens(max_output)} of output", "lower the session's max_output_tokens")


def speech_worst(spec: ModelSpec, price: Pricing, *, text: str, speed: Any = None, max_tokens: Any = None) -> Estimate:
    """Speaking ``text``: its characters at ``per_million_characters``, else its tokens and the audio tokens slow
    speech of it would take (``SPEECH_TOKENS_PER_CHARACTER``; at most ``max_tokens``, where the wire takes it, or
    the model's ``max_output_tokens``)."""
    characters = len(text)
    by_characters = price.character_cost(characters)
    if by_characters is not None and not price.per_token:
        return Estimate(by_characters, f"{characters:,} characters to speak", "speak a shorter text")
    slower = 1.0 / speed if isinstance(speed, (int, float)) and not isinstance(speed, bool) and speed > 0 else 1.0
    output_tokens = math.ceil(characters * SPEECH_TOKENS_PER_CHARACTER * max(slower, 1.0))
    cap = _cap(max_tokens) or spec.max_output_tokens
    if cap:
        output_tokens = min(output_tokens, cap)
    input_tokens = math.ceil(len(text.encode("utf-8")) / 4)
    return Estimate((input_tokens * price.input + output_tokens * price.output) / 1_000_000,
                    f"{_tokens(input_tokens)} of text + up to {_tokens(output_tokens)} of audio for {characters:,} "
                    f"characters", "speak a shorter text" + (" or lower max_tokens" if _cap(max_tokens) else ""))


def _cap(max_tokens: Any) -> int | None:
    ok = isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens > 0
    return max_tokens if ok else None


def transcription_worst(spec: ModelSpec, price: Pricing, *, seconds: float, exact: bool,
                        prompt: str | None = None, max_tokens: Any = None) -> Estimate:
    """Transcribing ``seconds`` of audio: at ``per_minute``, else its audio tokens (``AUDIO_TOKENS_PER_SECOND``)
    and the transcript's tokens (at most the model's ``max_output_tokens``)."""
    length = f"{seconds:,.1f} s of audio{'' if exact else ' at most (its size at 16 kbit/s)'}"
    by_minutes = price.audio_cost(seconds)
    if by_minutes is not None and not price.per_token:
        return Estimate(by_minutes, length, "send a shorter recording")
    input_tokens = math.ceil(seconds * AUDIO_TOKENS_PER_SECOND) + math.ceil(len((prompt or "").encode()) / 4)
    output_tokens = _cap(max_tokens) or spec.max_output_tokens or math.ceil(seconds * 8)  # fast talk, as tokens
    amount = (input_tokens * (price.audio_input if price.audio_input is not None else price.input)
              + output_tokens * price.output) / 1_000_000
    return Estimate(amount, f"{length}: {_tokens(input_tokens)} of input + up to {_tokens(output_tokens)} of "
                            f"transcript", "send a shorter recording")


def video_worst(spec: ModelSpec, price: Pricing, *, seconds: int | None, size: str | None) -> Estimate:
    """A video of ``seconds`` (None: the longest the model makes) at ``size`` (None: the provider's default, at
    the catalog's ``default`` price)."""
    length = seconds if seconds is not None else max(spec.seconds, default=8)
    told = "" if seconds is not None else " (seconds not given: the longest it makes)"
    return Estimate(price.video_cost(length, size) or 0.0, f"{length} s of video{f' at {size}' if size else ''}{told}",
                    "lower seconds or size")
