"""The catalog's entries: ModelSpec (with its Pricing and ParamRanges) and ProviderSpec, frozen dataclasses
built from the YAML files (``pepperpy.catalog``)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .._redact import safe_url
from ._usage import Usage
from ._value import InitVar, Value, field

__all__ = ["ModelSpec", "ParamRange", "Pricing", "ProviderSpec", "RetiredModel", "day_of", "today"]


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


class Pricing(Value):
    """One price of a model, in the units it is sold in. USD per 1M tokens: ``input``, ``output``,
    ``cached_input``, and ``audio_input`` / ``image_input`` for input tokens of those kinds when they cost another
    price, ``cached_audio_input`` for cached audio and ``audio_output`` for spoken output tokens (realtime models);
    ``batch`` is the price through the provider's batch API when the catalog names one. Other units:
    ``per_second`` of video (one number or one per size/resolution), ``per_image`` (USD per image by
    ``{quality: {size: usd}}`` or ``{size: usd}``), ``per_million_characters`` (speech) and ``per_minute`` (audio
    transcribed).

    ``since`` and ``until`` (``YYYY-MM-DD``, both days included) bound when the price is in force, when the
    provider announced them; None: from the start, and until further notice.

    Each method below is the one place a unit is priced (``pepperpy.observe.pricing`` picks the unit of an
    operation): ``token_cost``, ``image_cost``, ``character_cost``, ``audio_cost``, ``video_cost``.
    """

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
    since: str | None = None
    until: str | None = None

    @property
    def per_token(self) -> bool:
        """Whether token prices are known (media models may list only their own units)."""
        return bool(self.input or self.output)

    def token_cost(self, usage: Usage) -> float:
        """USD for the tokens of ``usage``: each kind of token at its own price where the catalog gives one, else
        at the text price of its side (cached audio at ``cached_audio_input``, else ``cached_input``)."""
        if usage.input_tokens >= 0 and not (usage.cached_tokens or usage.input_audio_tokens
                                            or usage.input_image_tokens or usage.output_audio_tokens):
            # text tokens only: the sum below without its terms of zero (the same float)
            return round((usage.input_tokens * self.input + usage.output_tokens * self.output) / 1_000_000, 10)
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

    cost = token_cost  # the name it had first

    def video_cost(self, seconds: float, size: str | None = None) -> float | None:
        """USD for ``seconds`` of video at ``size``; None when the catalog has no price for that size.

        >>> Pricing(0, 0, per_second={"1280x720": 0.1, "1792x1024": 0.5}).video_cost(8, "1792x1024")
        4.0
        """
        price = self.per_second
        if isinstance(price, Mapping):
            label = size or "default"
            if label not in price:
                label = _resolution(label)
            price = price.get(label, price.get("default"))
        return None if price is None else round(float(price) * seconds, 10)

    def image_cost(self, count: int, size: str | None, quality: str | None) -> float | None:
        """USD for ``count`` images of this size and quality at ``per_image``; None without such a price."""
        price = self.image_price(size, quality)
        return None if price is None else round(price * count, 10)

    def character_cost(self, characters: int) -> float | None:
        """USD for speaking ``characters`` at ``per_million_characters``; None without that price."""
        if self.per_million_characters is None:
            return None
        return round(characters * self.per_million_characters / 1_000_000, 10)

    def audio_cost(self, seconds: float) -> float | None:
        """USD for ``seconds`` of audio transcribed at ``per_minute``; None without that price."""
        if self.per_minute is None:
            return None
        return round(seconds / 60.0 * self.per_minute, 10)

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

    def in_force(self, day: str) -> bool:
        """Whether the price applies on ``day`` (``YYYY-MM-DD``) by its own dates."""
        return (self.since is None or self.since <= day) and (self.until is None or day <= self.until)


def _resolution(size: str) -> str:
    """The resolution a ``WIDTHxHEIGHT`` size is sold as (``1280x720`` -> ``720p``, ``3840x2160`` -> ``4k``), for
    per-second tables keyed that way (Veo's)."""
    width, _, height = size.partition("x")
    if not (width.isdigit() and height.isdigit()):
        return size
    short = min(int(width), int(height))
    return "4k" if short >= 2160 else f"{short}p"


def today() -> str:
    """Today's date in UTC, ``YYYY-MM-DD``: the day prices are looked up for (providers bill by UTC days)."""
    return time.strftime("%Y-%m-%d", time.gmtime())


def day_of(moment: float | str | datetime.date | None) -> str:
    """``YYYY-MM-DD`` of a Unix time, a date or a day already written so (None: today)."""
    if moment is None:
        return today()
    if isinstance(moment, str):
        return moment
    if isinstance(moment, datetime.date):
        return moment.isoformat()
    return time.strftime("%Y-%m-%d", time.gmtime(moment))


class ParamRange(Value):
    """The allowed values of one parameter; ``supported=False`` means the model refuses it."""

    min: float | None = None
    max: float | None = None
    supported: bool = True


class ModelSpec(Value):
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
    prices: tuple[Pricing, ...] = ()  # every price the catalog lists, oldest first (``since`` / ``until`` dates)
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
    # ``pricing``: reading it gives the price in force today (``price_on``), assigned below the class; giving it to
    # the constructor (``ModelSpec(..., pricing=Pricing(...))``) makes it the model's one price
    if TYPE_CHECKING:
        @property
        def pricing(self) -> Pricing | None: ...
    else:
        pricing: InitVar[Pricing | None] = None

    def __post_init__(self, pricing: Pricing | None = None) -> None:
        if pricing is not None and pricing not in self.prices:
            object.__setattr__(self, "prices", (pricing,))

    def price_on(self, day: float | str | datetime.date | None = None) -> Pricing | None:
        """The price in force on ``day`` (a date, ``YYYY-MM-DD`` or a Unix time; None: today, in UTC): the
        latest listed price that had started by then. A price whose announced ``until`` has passed stays in
        force until the catalog lists its successor. None: the catalog has no price.

        >>> spec = ModelSpec("m", "p", prices=(Pricing(2, 10, until="2026-11-30"), Pricing(4, 20, since="2026-12-01")))
        >>> spec.price_on("2026-11-30").input, spec.price_on("2026-12-07").input
        (2, 4)
        """
        prices = self.prices
        if len(prices) <= 1:
            return prices[0] if prices else None
        when = day_of(day)
        found = prices[0]
        for price in prices[1:]:
            if price.since is not None and price.since <= when:
                found = price
        return found

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.id}"

    @property
    def wire_name(self) -> str:
        return self.api_name or self.id

    def cost(self, usage: Usage, day: float | str | datetime.date | None = None) -> float | None:
        """USD for the tokens of ``usage`` at the price in force on ``day`` (None: today); None without a price."""
        price = self.price_on(day)
        return price.token_cost(usage) if price is not None else None

    def __repr__(self) -> str:
        parts = [repr(self.name), f"mode={self.mode!r}"]
        if self.context_window is not None:
            parts.append(f"context_window={self.context_window}")
        if self.max_output_tokens is not None:
            parts.append(f"max_output_tokens={self.max_output_tokens}")
        if self.capabilities:
            parts.append(f"capabilities={sorted(self.capabilities)}")
        pricing = self.pricing
        if pricing is not None:
            parts.append(f"pricing=({pricing.input:g}, {pricing.output:g})")
        if self.deprecated:
            parts.append(f"deprecated={self.deprecated!r}")
        if self.open:
            parts.append("open=True")
        return f"ModelSpec({', '.join(parts)})"


ModelSpec.pricing = property(  # type: ignore[method-assign,assignment]
    ModelSpec.price_on, doc="The price in force today (``price_on()``); None when the catalog has no price.")


class RetiredModel(Value):
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


class ProviderSpec(Value):
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
