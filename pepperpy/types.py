"""The values pepperpy hands out: Completion, Chunk, Stream, Usage, Embeddings, ToolStep, TokenCount, and the
catalog's ModelSpec and ProviderSpec. All are frozen dataclasses except Stream, which is an iterator."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any

from ._redact import safe_url
from .errors import StreamError

__all__ = [
    "FINISH_REASONS", "Chunk", "Completion", "Embeddings", "ModelSpec", "ParamRange", "Pricing", "ProviderSpec",
    "Stream", "ToolCall", "Usage", "text_chunk",
]

FINISH_REASONS = ("stop", "length", "tool_calls", "content_filter", "error")
_THINKING = ("thinking", "redacted_thinking")


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


REPR_TEXT = 60  # characters of a text shown by a repr; the whole text stays in the attribute


def short_text(text: str, limit: int = REPR_TEXT) -> str:
    """``text`` for a repr: quoted, cut at ``limit`` characters with its length said (reprs show shapes, not
    contents, as numpy and pandas do; the data stays in the attributes)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} chars)"


def short_value(value: Any, limit: int = REPR_TEXT) -> str:
    """Any value for a repr, its own repr cut at ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({type(value).__name__})"


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call. ``total_tokens`` defaults to input + output.

    ``input_audio_tokens`` and ``input_image_tokens`` are the part of ``input_tokens`` that was audio or
    images, when the provider says so (some price them apart: ``Pricing.audio_input`` / ``image_input``).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = -1
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    input_audio_tokens: int = 0
    input_image_tokens: int = 0

    def __post_init__(self) -> None:
        if self.total_tokens < 0:
            object.__setattr__(self, "total_tokens", self.input_tokens + self.output_tokens)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the model asked for; ``arguments`` is the parsed JSON object."""

    id: str
    name: str
    arguments: Mapping[str, Any]

    def to_message(self) -> dict[str, Any]:
        """The call as an assistant message's ``tool_calls`` item (OpenAI shape: arguments as a JSON string)."""
        return {"id": self.id, "type": "function",
                "function": {"name": self.name, "arguments": json.dumps(dict(self.arguments), default=str)}}


@dataclass(frozen=True, slots=True)
class ToolStep:
    """One tool call made by ``client.run``: what the model asked for and what the function gave back.

    ``error`` is the text the model was sent instead of a result (the tool raised, or its arguments failed
    the tool's schema); ``result`` is then None. ``seconds`` is the time the function ran.
    """

    name: str
    arguments: Mapping[str, Any]
    result: Any = None
    error: str | None = None
    seconds: float = 0.0
    id: str = ""

    def __repr__(self) -> str:
        outcome = f"error={short_text(self.error)}" if self.error is not None else f"result={short_value(self.result)}"
        return f"ToolStep({self.name!r}, arguments={short_value(dict(self.arguments))}, {outcome}, " \
               f"seconds={self.seconds:.3f})"


@dataclass(frozen=True, slots=True)
class TokenCount:
    """The size of a prompt in tokens: ``exact`` when the provider counted it, else pepperpy's estimate.

    >>> client.count_tokens("Hello there", model="claude-haiku")   # doctest: +SKIP
    TokenCount(tokens=10, exact=True)
    """

    tokens: int
    exact: bool

    def __int__(self) -> int:
        return self.tokens


@dataclass(frozen=True, slots=True)
class Pricing:
    """USD per 1M tokens (``input``, ``output``, ``cached_input``, and ``audio_input`` / ``image_input`` for
    input tokens of those kinds when they cost another price); ``batch`` is the price through the provider's
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

    @property
    def per_token(self) -> bool:
        """Whether token prices are known (media models may list only their own units)."""
        return bool(self.input or self.output)

    def cost(self, usage: Usage) -> float:
        cached = min(usage.cached_tokens, usage.input_tokens) if self.cached_input is not None else 0
        audio = usage.input_audio_tokens if self.audio_input is not None else 0
        image = usage.input_image_tokens if self.image_input is not None else 0
        text = max(usage.input_tokens - cached - audio - image, 0)
        total = (text * self.input + cached * (self.cached_input or 0.0) + audio * (self.audio_input or 0.0)
                 + image * (self.image_input or 0.0) + usage.output_tokens * self.output)
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


@dataclass(frozen=True, slots=True)
class Completion:
    """The answer of one call. ``str(completion)`` is its text.

    >>> r = client.complete("Say hi", model="gpt-4o-mini")   # doctest: +SKIP
    >>> r.text, r.finish_reason, r.usage.total_tokens, r.cost  # doctest: +SKIP
    """

    text: str
    model: str
    provider: str
    finish_reason: str | None = None
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    raw: Any = None
    cached: bool = False
    tool_calls: tuple[ToolCall, ...] = ()
    request_id: str | None = None
    parsed: Any = None  # the validated value when the call had a response_format
    steps: tuple[ToolStep, ...] = ()  # the tool calls client.run made on the way to this answer

    def __str__(self) -> str:
        return self.text

    @property
    def message(self) -> dict[str, Any]:
        """This answer as the assistant turn of a conversation, ready to append to ``messages``.

        >>> messages.append(r.message)   # then one pepperpy.tool_result(call, value) per r.tool_calls  # doctest: +SKIP
        """
        message: dict[str, Any] = {"role": "assistant", "content": self.text or None}
        if self.tool_calls:
            message["tool_calls"] = [call.to_message() for call in self.tool_calls]
            blocks = self.raw.get("content") if isinstance(self.raw, Mapping) else None
            if isinstance(blocks, list) and any(isinstance(b, Mapping) and b.get("type") in _THINKING
                                                for b in blocks):
                message["content"] = list(blocks)  # Anthropic: thinking must come back, signed, before tool_use
        elif message["content"] is None:
            message["content"] = ""
        return message

    def __repr__(self) -> str:
        parts = [f"text={short_text(self.text)}", f"model={self.model!r}", f"provider={self.provider!r}",
                 f"finish_reason={self.finish_reason!r}", f"usage={self.usage!r}", f"cost={self.cost!r}"]
        if self.tool_calls:
            parts.append(f"tool_calls=[{', '.join(call.name for call in self.tool_calls)}]")
        if self.parsed is not None:
            parts.append(f"parsed={short_value(self.parsed)}")
        if self.steps:
            parts.append(f"steps={len(self.steps)}")
        if self.cached:
            parts.append("cached=True")
        if self.request_id is not None:
            parts.append(f"request_id={self.request_id!r}")
        return f"Completion({', '.join(parts)})"

    def _repr_markdown_(self) -> str:
        cost = f" · ${self.cost:.6f}" if self.cost is not None else ""
        meta = (f"*{self.provider}/{self.model} · {self.finish_reason} · "
                f"{self.usage.input_tokens}→{self.usage.output_tokens} tokens{cost}"
                f"{' · cached' if self.cached else ''}*")
        return f"{self.text}\n\n{meta}"


def combine_usage(answers: Sequence[Completion]) -> tuple[Usage, float | None]:
    """The usage and cost of several requests made for one answer (a tool loop, a repair round), added up;
    the cost is None unless every request had one."""
    usage = Usage(sum(a.usage.input_tokens for a in answers), sum(a.usage.output_tokens for a in answers),
                  sum(a.usage.total_tokens for a in answers), sum(a.usage.cached_tokens for a in answers),
                  sum(a.usage.reasoning_tokens for a in answers))
    costs = [a.cost for a in answers]
    return usage, (round(sum(c for c in costs if c is not None), 10) if None not in costs else None)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One piece of a stream: new text, and on the last pieces the finish reason and usage."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    cost: float | None = None  # when the provider reports it (OpenRouter)
    raw: Any = None

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        parts = [f"text={short_text(self.text)}"]
        parts += [f"{name}={value!r}" for name, value in (("finish_reason", self.finish_reason), ("usage", self.usage),
                                                          ("cost", self.cost)) if value is not None]
        if self.tool_calls:
            parts.append(f"tool_calls=[{', '.join(call.name for call in self.tool_calls)}]")
        return f"Chunk({', '.join(parts)})"


def _text_chunk_maker() -> Callable[[str, Any], Chunk]:
    """A constructor for the most common Chunk, a piece of text, at half the cost of ``Chunk(...)``: it fills
    the slots directly instead of going through the frozen dataclass's ``__init__`` (one per stream event)."""
    new = object.__new__
    fields = ("text", "finish_reason", "usage", "tool_calls", "cost", "raw")
    set_text, set_finish, set_usage, set_tools, set_cost, set_raw = (
        getattr(Chunk, name).__set__ for name in fields)

    def text_chunk(text: str, raw: Any) -> Chunk:
        chunk: Chunk = new(Chunk)
        set_text(chunk, text)
        set_finish(chunk, None)
        set_usage(chunk, None)
        set_tools(chunk, ())
        set_cost(chunk, None)
        set_raw(chunk, raw)
        return chunk

    return text_chunk


text_chunk = _text_chunk_maker()


@dataclass(frozen=True, slots=True)
class Embeddings:
    """Vectors in input order, with usage and cost."""

    vectors: list[list[float]]
    model: str
    provider: str
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    raw: Any = None
    cached: bool = False

    def __len__(self) -> int:
        return len(self.vectors)

    def __iter__(self) -> Iterator[list[float]]:
        return iter(self.vectors)

    def __getitem__(self, index: int) -> list[float]:
        return self.vectors[index]

    def _repr_markdown_(self) -> str:
        dims = len(self.vectors[0]) if self.vectors else 0
        return f"*{len(self.vectors)} vectors × {dims} dims from {self.provider}/{self.model}*"

    def __repr__(self) -> str:
        dims = len(self.vectors[0]) if self.vectors else 0
        return (f"Embeddings({len(self.vectors)} vectors × {dims} dims, model={self.model!r}, "
                f"provider={self.provider!r}, usage={self.usage!r}, cost={self.cost!r}"
                f"{', cached=True' if self.cached else ''})")


class Stream(Iterator[Chunk]):
    """An iterator of Chunks and a context manager; ``.completion`` is the whole answer.

    Closing it early (``close()``, leaving the ``with`` block, or garbage collection) closes the HTTP
    response so the connection is not left half-read.

    >>> with client.stream("Tell a story", model="gpt-4o-mini") as s:   # doctest: +SKIP
    ...     for chunk in s:
    ...         print(chunk.text, end="")
    >>> s.completion.usage                                               # doctest: +SKIP
    """

    def __init__(self, chunks: Iterator[Chunk], *, model: str, provider: str,
                 close: Callable[[], None] | None = None, spec: ModelSpec | None = None,
                 on_end: Callable[[Completion | None, BaseException | None], None] | None = None,
                 interrupt: Callable[[], None] | None = None, request_id: str | None = None,
                 finish: Callable[[Completion], Completion] | None = None) -> None:
        self.model = model
        self.provider = provider
        self.request_id = request_id
        self._chunks = chunks
        self._close = close
        self._spec = spec
        self._on_end = on_end  # called once: (completion, None), (None, error) or (None, None) if left early
        self._interrupt = interrupt
        self._aborted = False
        self._parts: list[str] = []
        self._finish: str | None = None
        self._usage: Usage | None = None
        self._cost: float | None = None
        self._tool_calls: tuple[ToolCall, ...] = ()
        self._last: Any = None
        self._completion: Completion | None = None
        self._finish_with = finish  # completes the answer (``parsed``); what it raises, ``completion`` raises
        self._failure: Exception | None = None
        self._closed = False

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> Chunk:
        if self._closed:
            raise StopIteration
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self._complete()
            raise
        except StreamError as exc:
            self._end(None, exc)
            self.close()
            if self._aborted:
                raise StreamError("the stream was stopped by Stream.abort()", provider=self.provider,
                                  model=self.model) from exc
            raise
        except BaseException as exc:
            self._end(None, exc)
            self.close()
            raise
        if chunk.text:
            self._parts.append(chunk.text)
        if chunk.finish_reason is not None:
            self._finish = chunk.finish_reason
        if chunk.usage is not None:
            self._usage = chunk.usage
        if chunk.cost is not None:
            self._cost = chunk.cost
        if chunk.tool_calls:
            self._tool_calls = chunk.tool_calls
        self._last = chunk.raw
        return chunk

    def _complete(self) -> None:
        usage = self._usage or Usage()
        cost = self._cost if self._cost is not None else (self._spec.cost(usage) if self._spec else None)
        self._completion = Completion(
            text="".join(self._parts), model=self.model, provider=self.provider,
            finish_reason=self._finish, usage=usage, cost=cost, raw=self._last, tool_calls=self._tool_calls,
            request_id=self.request_id)
        if self._finish_with is not None:
            try:
                self._completion = self._finish_with(self._completion)
            except Exception as exc:  # e.g. StructuredOutputError: the text was streamed; completion raises it
                self._failure = exc
        self._end(self._completion, None)
        self.close()

    def _end(self, completion: Completion | None, error: BaseException | None) -> None:
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end(completion, error)

    @property
    def text(self) -> str:
        """The text received so far."""
        return "".join(self._parts)

    @property
    def completion(self) -> Completion:
        """The whole answer; reads the rest of the stream first if needed."""
        if self._completion is None:
            if self._closed:
                raise StreamError("the stream was closed before it finished; no completion is available",
                                  provider=self.provider, model=self.model)
            for _ in self:
                pass
        if self._failure is not None:
            raise self._failure
        assert self._completion is not None
        return self._completion

    def close(self) -> None:
        """Stop reading and release the HTTP connection. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._end(None, None)  # left before the end (no-op once it ended)
        close_chunks = getattr(self._chunks, "close", None)
        if close_chunks is not None:
            close_chunks()
        if self._close is not None:
            self._close()

    def abort(self) -> None:
        """Stop a read under way in another thread (thread-safe, unlike ``close``): the connection is shut
        down, the reading thread sees the stream break, and the stream then closes itself."""
        if self._interrupt is not None and not self._closed:
            self._aborted = True
            self._interrupt()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing left to release
            pass

    def _ipython_display_(self) -> None:
        """Jupyter: a stream left as a cell's last expression prints as it arrives, then the usage line."""
        for chunk in self:
            print(chunk.text, end="", flush=True)
        if self._completion is not None:
            print(f"\n\n{self._completion._repr_markdown_().rsplit(chr(10), 1)[-1]}", flush=True)

    def __repr__(self) -> str:
        state = "done" if self._completion else ("closed" if self._closed else "open")
        return f"<Stream {self.provider}/{self.model} {state}>"
