"""The catalog's entries: ModelSpec (with its Pricing and ParamRanges) and ProviderSpec, frozen dataclasses
built from the YAML files (``pepperpy.catalog``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .._redact import safe_url
from ._answer import Usage

__all__ = ["ModelSpec", "ParamRange", "Pricing", "ProviderSpec", "RetiredModel"]


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Pricing:
    """USD per 1M tokens (``input``, ``output``, ``cached_input``, and ``audio_input`` / ``image_input`` for
    input tokens of those kinds when they cost another price, ``cached_audio_input`` for cached audio and
    ``audio_output`` for spoken output tokens: realtime models); ``batch`` is the price through the provider's
    batch API when the catalog names one; and the units other outputs are sold in: ``per_second`` of video
    (one number or one per size/resolution), ``per_image`` (USD per image by ``{quality: {size: usd}}`` or
    ``{size: usd}``), ``per_million_characters`` (speech) and ``per_minute`` (audio transcribed)."""

    input: float = 0.0
    output: float = 0.0
    cached_input: float | None = None
    batch: Pricing | None = None
    per_second: float | Mapping[str, float] | None = None
    audio_input: float | None = None
    image_input: float | None = None
    per_image: Mapping[str, Any] | None = None
    per_million_characters: float | None = None
    per_minute: float | None = None
    cached_audio_input: float | None = None
    audio_output: float | None = None

    @property
    def per_token(self) -> bool:
        """Whether token prices are known (media models may list only their own units)."""
        return bool(self.input or self.output)

    def cost(self, usage: Usage) -> float:
        """USD for ``usage``: each kind of token at its own price where the catalog gives one, else at the
        text price of its side (cached audio at ``cached_audio_input``, else ``cached_input``)."""
        cached = min(usage.cached_tokens, usage.input_tokens) if self.cached_input is not None else 0
        cached_audio = min(usage.cached_audio_tokens, cached) if self.cached_audio_input is not None else 0
        audio = max(usage.input_audio_tokens - cached_audio, 0) if self.audio_input is not None else 0
        image = usage.input_image_tokens if self.image_input is not None else 0
        text = max(usage.input_tokens - cached - audio - image, 0)
        spoken = min(usage.output_audio_tokens, usage.output_tokens) if self.audio_output is not None else 0
        total = (text * self.input + (cached - cached_audio) * (self.cached_input or 0.0)
                 + cached_audio * (self.cached_audio_input or 0.0) + audio * (self.audio_input or 0.0)
                 + image * (self.image_input or 0.0) + (usage.output_tokens - spoken) * self.output
                 + spoken * (self.audio_output or 0.0))
        return round(total / 1_000_000, 10)

    def video_cost(self, seconds: float, size: str | None = None) -> float | None:
        """USD for ``seconds`` of video at ``size``; None when the catalog has no price for that size.

        >>> Pricing(0, 0, per_second={"1280x720": 0.1, "1792x1024": 0.5}).video_cost(8, "1792x1024")
        4.0
        """
        price = self.per_second
        if isinstance(price, Mapping):
            price = price.get(size or "") if size in price else price.get("default")
        return None if price is None else round(float(price) * seconds, 10)

    def image_price(self, size: str | None, quality: str | None) -> float | None:
        """USD for one image of this size and quality from ``per_image``; None when the table has no entry
        (``"*"`` stands for any size or quality; a size given alone must be unambiguous)."""
        table = self.per_image
        if not table:
            return None
        nested = any(isinstance(value, Mapping) for value in table.values())
        if nested:
            row = table.get(quality or "") or table.get("*")
            if row is None and quality is None and len(table) == 1:
                row = next(iter(table.values()))
            table = row if isinstance(row, Mapping) else {}
        price = table.get(size or "") or table.get("*")
        if price is None and size is None and len(table) == 1:
            price = next(iter(table.values()))
        return float(price) if isinstance(price, (int, float)) else None


@dataclass(frozen=True, slots=True)
class ParamRange:
    """The allowed values of one parameter; ``supported=False`` means the model refuses it."""

    min: float | None = None
    max: float | None = None
    supported: bool = True


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One catalog model. ``name`` is the unambiguous ``"<provider>/<id>"``.

    >>> spec = pepperpy.Client().model("gpt-4o")   # doctest: +SKIP
    >>> spec.provider, spec.context_window          # doctest: +SKIP
    ('openai', 128000)
    """

    id: str
    provider: str
    mode: str = "chat"
    api_name: str = ""
    aliases: tuple[str, ...] = ()
    snapshots: tuple[str, ...] = ()  # dated provider names: they resolve here and go on the wire as typed
    context_window: int | None = None
    max_output_tokens: int | None = None
    capabilities: frozenset[str] = frozenset()
    params: Mapping[str, ParamRange] = field(default_factory=_empty)
    pricing: Pricing | None = None
    dimensions: int | None = None
    deprecated: str | None = None
    source: str | None = None
    notes: str | None = None
    open: bool = False  # synthesized for an open_models provider, not listed in its file
    # media models: the values a call may use where the provider fixes them (empty: not checked)
    sizes: tuple[str, ...] = ()   # the size= values the model takes, when they are fixed (images, video)
    seconds: tuple[int, ...] = ()  # a video model's allowed durations
    voices: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    qualities: tuple[str, ...] = ()
    max_upload_bytes: int | None = None  # the provider's limit on an uploaded file (audio, input image)
    # realtime models: what they answer in (text, audio) and the PCM16 sample rates they take and give (Hz)
    outputs: tuple[str, ...] = ()
    input_audio_rate: int | None = None
    output_audio_rate: int | None = None
    display_name: str | None = None  # the provider's name for people ("GPT-4.1 mini"), when the catalog gives one

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.id}"

    @property
    def wire_name(self) -> str:
        return self.api_name or self.id

    def cost(self, usage: Usage) -> float | None:
        return self.pricing.cost(usage) if self.pricing is not None else None

    def batch_cost(self, usage: Usage, discount: float | None) -> float | None:
        """USD for ``usage`` through the provider's batch API: ``pricing.batch`` when the catalog has it, else
        the standard price less the provider's ``batch_discount``; None when neither is known."""
        if self.pricing is None:
            return None
        if self.pricing.batch is not None:
            return self.pricing.batch.cost(usage)
        if discount is None:
            return None
        return round(self.pricing.cost(usage) * (1.0 - discount), 10)

    def __repr__(self) -> str:
        parts = [repr(self.name), f"mode={self.mode!r}"]
        if self.context_window is not None:
            parts.append(f"context_window={self.context_window}")
        if self.max_output_tokens is not None:
            parts.append(f"max_output_tokens={self.max_output_tokens}")
        if self.capabilities:
            parts.append(f"capabilities={sorted(self.capabilities)}")
        if self.pricing is not None:
            parts.append(f"pricing=({self.pricing.input:g}, {self.pricing.output:g})")
        if self.deprecated:
            parts.append(f"deprecated={self.deprecated!r}")
        if self.open:
            parts.append("open=True")
        return f"ModelSpec({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class RetiredModel:
    """A model name its provider no longer serves (a catalog file's ``retired:`` list): asking for it is a
    ``ModelRetiredError`` naming the date and ``replacement``, the closest model the provider still serves.

    >>> RetiredModel("gpt-4", date="2026-10-23", replacement="gpt-4.1").names
    ('gpt-4',)
    """

    id: str
    date: str  # YYYY-MM-DD: the day the provider stopped serving it
    replacement: str  # a current model of the same provider (an id or alias of its file)
    aliases: tuple[str, ...] = ()
    by: str | None = None  # who retired it, when not the provider itself (OpenRouter relays others' models)
    source: str | None = None
    notes: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One catalog provider: where it lives, how it authenticates and which dialect it speaks."""

    name: str
    dialect: str
    base_url: str
    api_key_env: tuple[str, ...] = ()
    requires_api_key: bool = True
    open_models: bool = False
    headers: Mapping[str, str] = field(default_factory=_empty)
    timeout: float | None = None
    limits: Mapping[str, int] = field(default_factory=_empty)
    breaker: Mapping[str, float] = field(default_factory=_empty)
    options: Mapping[str, Any] = field(default_factory=_empty)
    docs: str | None = None
    checked: str | None = None  # the day its figures were last checked against the provider (YYYY-MM-DD)
    batch_discount: float | None = None  # 0.5: the batch API costs half the standard price
    models: tuple[ModelSpec, ...] = ()
    file: str | None = None
    display_name: str | None = None  # "OpenAI", for messages; the name when the catalog gives none
    retired: tuple[RetiredModel, ...] = ()  # names the provider no longer serves

    @property
    def title(self) -> str:
        """The provider's name for people: ``display_name``, else its catalog name."""
        return self.display_name or self.name

    @property
    def env_prefix(self) -> str:
        return "PEPPERPY_PROVIDER_" + self.name.upper().replace("-", "_") + "_"

    @property
    def key_vars(self) -> tuple[str, ...]:
        """Every environment variable that may hold the key, in the order they are tried."""
        return (self.env_prefix + "API_KEY", *self.api_key_env)

    def __repr__(self) -> str:  # short, and never a header value or a password in base_url
        return (f"ProviderSpec({self.name!r}, dialect={self.dialect!r}, base_url={safe_url(self.base_url)!r}, "
                f"models={len(self.models)})")
