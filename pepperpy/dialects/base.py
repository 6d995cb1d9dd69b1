"""What every wire dialect provides, and the helpers they share.

A dialect is stateless and does no I/O: it builds `Request`s from plain values and parses plain JSON
into pepperpy types. Streams are parsed by a small per-stream object (`StreamParser`) because some formats
(tool-call deltas, Anthropic's usage split over events) need memory between events.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from .. import errors
from .._lazy import lazy
from ..http.transport import Request
from ..types import Chunk, Completion, ModelSpec, ProviderSpec, ToolCall, Usage
from ..types._answer import created_at
from . import _registry

if TYPE_CHECKING:
    from ..http._upload import Upload
    from ..media import Images, Speech, Transcription
    from ..types import Embeddings
    from ._grant import TokenGrant
    from ._media import MediaCall

__all__ = ["COMMON_PARAMS", "DIALECTS", "Dialect", "Lookup", "MediaCall", "MediaParser", "Message", "StreamParser",
           "TokenGrant", "completion", "decode_json", "get_dialect", "normalize_finish", "parse_arguments",
           "raise_error_event", "register_dialect", "text_of", "tool_call_names"]

# MediaCall is the media calls' (dialects/_media.py), TokenGrant OAuth's (dialects/_grant.py), loaded with them
__getattr__, __dir__ = lazy(__name__, {"MediaCall": "pepperpy.dialects._media",
                                      "TokenGrant": "pepperpy.dialects._grant"})

Message = dict[str, Any]


class Lookup(Protocol):
    """The first of these environment variables that is set (the environment, then the Client's .env file).
    With ``field`` (``"client_id"``), a credential none of them holds is then looked for in the keyring and the
    user configuration file, under the provider's name and that field (``pepperpy.config``)."""

    def __call__(self, names: Sequence[str], field: str | None = None, /) -> str | None: ...


DIALECTS = _registry.SHIPPED  # the dialects pepperpy ships; others come from register_dialect and entry points
# Call params every dialect knows by these names; each dialect adds its own in ``Dialect.params``
COMMON_PARAMS = frozenset({"temperature", "max_tokens", "top_p", "stop", "seed", "tools", "tool_choice",
                           "response_format", "parallel_tool_calls"})

_FINISH = {
    "stop": "stop", "end_turn": "stop", "stop_sequence": "stop", "pause_turn": "stop", "eos": "stop",
    "length": "length", "max_tokens": "length", "model_length": "length", "model_context_window_exceeded": "length",
    "tool_calls": "tool_calls", "function_call": "tool_calls", "tool_use": "tool_calls",
    "content_filter": "content_filter", "refusal": "content_filter", "safety": "content_filter",
    "recitation": "content_filter", "blocklist": "content_filter", "prohibited_content": "content_filter",
    "spii": "content_filter", "image_safety": "content_filter", "image_prohibited_content": "content_filter",
    "image_recitation": "content_filter", "model_armor": "content_filter",
    "error": "error", "malformed_function_call": "error", "other": "error", "unexpected_tool_call": "error",
    "too_many_tool_calls": "error", "language": "error", "no_image": "error", "image_other": "error",
    "missing_thought_signature": "error", "malformed_response": "error",
}


_decode = json.JSONDecoder().decode


def decode_json(data: bytes) -> Any:
    """One stream event's JSON. Decoding to str first skips json's byte-encoding sniffing (hot path)."""
    return _decode(data.decode("utf-8"))


def normalize_finish(reason: Any) -> str | None:
    """Map any provider's finish/stop reason to stop | length | tool_calls | content_filter | error."""
    if reason is None or reason == "" or reason == "FINISH_REASON_UNSPECIFIED":
        return None
    return _FINISH.get(str(reason).lower(), "stop")


def parse_arguments(arguments: Any) -> Mapping[str, Any]:
    """Tool-call arguments as an object, whether they came as a JSON string or an object."""
    if isinstance(arguments, Mapping):
        return arguments
    if not arguments:
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        return {"_raw": arguments}
    return value if isinstance(value, dict) else {"_value": value}


def raise_error_event(body: Any, model: ModelSpec) -> None:
    """Raise the typed error for an error object received with a 200 answer or inside a stream."""
    from ..http import _translate  # an error only

    raise _translate.from_error_payload(body, status=None, provider=model.provider, model=model.id)


def text_of(content: Any) -> str:
    """The text of a message content that is either a string or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type", "text") == "text")
    return "" if content is None else str(content)


def tool_call_names(messages: Sequence[Message]) -> dict[str, str]:
    """Tool call id -> function name, from the assistant turns' ``tool_calls``.

    OpenAI tool results carry only ``tool_call_id``; dialects whose results name the function instead
    (Gemini's ``functionResponse``, Ollama's ``tool_name``) look the name up here.
    """
    names: dict[str, str] = {}
    for message in messages:
        for call in message.get("tool_calls") or ():
            if isinstance(call, Mapping):
                names[str(call.get("id", ""))] = str((call.get("function") or {}).get("name", ""))
    return names


class StreamParser:
    """Turns one stream's events into Chunks. ``done`` is set when the format's terminator arrives;
    ``reported_usage`` is the usage the provider has stated so far (None until it does), for a stream that
    breaks before its end (Anthropic bills the input it states in ``message_start``)."""

    done = False

    @property
    def reported_usage(self) -> Usage | None:
        return None

    def feed(self, event: str, data: bytes) -> Chunk | None:  # pragma: no cover - abstract
        raise NotImplementedError


class MediaParser:
    """Turns one media stream's events into audio bytes or transcript pieces (the last one a Transcription)."""

    done = False
    usage: Usage | None = None  # token usage the stream reported, when it does (OpenAI's speech events)

    def feed(self, event: str, data: bytes) -> bytes | str | Transcription | None:  # pragma: no cover
        raise NotImplementedError


class Dialect:
    """One wire format. Subclasses override what differs; every method is pure."""

    name = ""
    stream_format = "sse"  # or "ndjson"
    supports_embeddings = True
    supports_tools = True
    # Call params this wire (and the servers that speak it) knows: they pass through without a question, and a
    # name one typo away from one of them is refused with the suggestion (pepperpy.validation.check_params)
    params: frozenset[str] = COMMON_PARAMS
    embed_params: frozenset[str] = frozenset({"dimensions"})  # the same, for embed()
    # Chat params this wire's media endpoints take too, by mode (image, speech, transcription): the others are
    # refused there (a max_tokens sent to an images endpoint does nothing but mislead a budget)
    media_params: Mapping[str, frozenset[str]] = MappingProxyType({})
    # "native": the wire has a JSON-schema answer mode (response_format converted by build_chat); "prompt": it
    # has none, so the client states the schema in the prompt and only checks the answer
    structured_output = "native"

    def headers(self, provider: ProviderSpec, key: str | None, lookup: Lookup) -> dict[str, str]:
        """Static headers of every request: authentication and the provider's extra headers."""
        return dict(provider.headers)

    def token_grant(self, provider: ProviderSpec, key: str | None, lookup: Lookup,
                    base_url: str) -> TokenGrant | None:
        """The OAuth2 grant of token-based schemes (StackSpot's); None for static keys."""
        return None

    def build_chat(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                   params: Mapping[str, Any], *, stream: bool) -> Request:
        raise NotImplementedError

    def parse_chat(self, payload: Any, model: ModelSpec) -> Completion:
        raise NotImplementedError

    def stream_parser(self, model: ModelSpec) -> StreamParser:
        raise NotImplementedError

    def build_embed(self, provider: ProviderSpec, model: ModelSpec, texts: Sequence[str],
                    params: Mapping[str, Any]) -> Request:
        raise errors.InvalidRequestError(f"provider {provider.name!r} ({self.name} dialect) has no embeddings API",
                                         provider=provider.name, model=model.id)

    def parse_embed(self, payload: Any, model: ModelSpec) -> Embeddings:
        raise NotImplementedError

    def build_count(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                    params: Mapping[str, Any], base_url: str) -> Request | None:
        """The request that counts a prompt's tokens; None where the provider has no counting endpoint
        (``count_tokens`` then estimates)."""
        return None

    def parse_count(self, payload: Any, model: ModelSpec, base_url: str) -> int | Request:
        """The token count in the counting endpoint's answer, or the next request of a two-step count."""
        raise NotImplementedError

    def build_list_models(self, provider: ProviderSpec, cursor: str | None) -> Request | None:
        """The request of one page of the provider's model listing (``cursor``: where the previous page said
        the next one starts; None for the first); None where the provider has no listing API."""
        return None

    def parse_list_models(self, payload: Any) -> tuple[list[dict[str, Any]], str | None]:
        """One listing page as catalog entries (``dialects._listing``), and the next page's cursor or None."""
        raise NotImplementedError

    def build_model_details(self, provider: ProviderSpec, entry: Mapping[str, Any]) -> Request | None:
        """The request that tells more about one listed model (Ollama's ``/api/show``); None when the listing
        says all there is."""
        return None

    def parse_model_details(self, payload: Any, entry: Mapping[str, Any]) -> dict[str, Any]:
        """``entry`` completed with the details answer."""
        return dict(entry)

    # ------------------------------------------------------------------ media (images, speech, transcription)
    # Parsers get the answer's bytes and Content-Type (speech is binary on some wires, JSON on others).

    upload_limit: int | None = None  # bytes per uploaded file when the model's catalog entry names none
    speech_formats: tuple[str, ...] = ()  # the formats synthesize() can hand back on this wire (first: default)
    transcribes_with_chat = False  # True: transcribe() also takes chat models with the ``audio`` capability

    def build_image(self, provider: ProviderSpec, model: ModelSpec, prompt: str, params: Mapping[str, Any], *,
                    images: Sequence[Upload] = (), mask: Upload | None = None) -> Request:
        raise self._no_media(provider, model, "image generation")

    def parse_image(self, body: bytes, content_type: str, model: ModelSpec, call: MediaCall) -> Images:
        raise NotImplementedError

    def build_speech(self, provider: ProviderSpec, model: ModelSpec, text: str, params: Mapping[str, Any],
                     call: MediaCall, *, stream: bool) -> Request:
        raise self._no_media(provider, model, "speech")

    def parse_speech(self, body: bytes, content_type: str, model: ModelSpec, call: MediaCall) -> Speech:
        raise NotImplementedError

    def speech_stream_parser(self, model: ModelSpec, call: MediaCall) -> MediaParser | None:
        """The parser of a speech stream's events; None when the streamed body is the audio itself."""
        return None

    def build_transcription(self, provider: ProviderSpec, model: ModelSpec, audio: Upload,
                            params: Mapping[str, Any], *, stream: bool) -> Request:
        raise self._no_media(provider, model, "transcription")

    def parse_transcription(self, body: bytes, content_type: str, model: ModelSpec,
                            call: MediaCall) -> Transcription:
        raise NotImplementedError

    def transcription_stream_parser(self, model: ModelSpec, call: MediaCall) -> MediaParser:
        raise NotImplementedError

    def _no_media(self, provider: ProviderSpec, model: ModelSpec, what: str) -> errors.ValidationError:
        return errors.ValidationError(f"{model.name}: the {self.name} dialect of provider {provider.name!r} has no "
                                      f"{what} API", param="model", value=model.name)


def completion(model: ModelSpec, text: str, finish: Any, usage: Usage, raw: Any, *,
               tool_calls: tuple[ToolCall, ...] = (), cost: float | None = None,
               request_id: str | None = None, created: Any = None) -> Completion:
    """A Completion made at ``created`` (the provider's timestamp: epoch seconds or ISO 8601) or, when it gives
    none, now; ``cost`` only when the provider reported one (the ledger prices the rest:
    ``pepperpy.observe.pricing``)."""
    return Completion(text=text, model=model.id, provider=model.provider, finish_reason=normalize_finish(finish),
                      usage=usage, cost=cost, raw=raw, tool_calls=tool_calls, request_id=request_id,
                      created=created_at(created))


_cache: dict[str, Dialect] = {}


def get_dialect(name: str) -> Dialect:
    """The dialect object for a catalog ``dialect:`` name: a shipped one (its module is imported on first use), a
    registered one (``register_dialect``), else one an installed package declares under the ``pepperpy.dialects``
    entry-point group (read only for such a name). ConfigurationError listing the known names otherwise."""
    dialect = _cache.get(name)
    if dialect is None:
        if name in _registry.SHIPPED:
            dialect = importlib.import_module(f"pepperpy.dialects.{name}").DIALECT
        else:
            dialect = _checked(name, _registry.registered(name))
        _cache[name] = dialect
    return dialect


def register_dialect(name: str, dialect: Dialect | type[Dialect], *, replace: bool = False) -> None:
    """Make ``dialect`` (a :class:`Dialect`, or a subclass to instantiate) the wire format of catalog files that
    say ``dialect: <name>``; no change to pepperpy is needed. A package can do the same without being imported
    first, through the ``pepperpy.dialects`` entry-point group (docs/contributing-a-provider.md).

    >>> class AcmeDialect(OpenAIDialect):                 # doctest: +SKIP
    ...     name = "acme"
    >>> pepperpy.register_dialect("acme", AcmeDialect())  # doctest: +SKIP
    """
    checked = _checked(name, dialect)
    _registry.register(name, checked, replace=replace)
    _cache.pop(name, None)  # a replaced dialect must not be served from the cache


def _checked(name: str, dialect: Any) -> Dialect:
    if dialect is None:
        raise errors.ConfigurationError(_registry.unknown_dialect(name))
    if isinstance(dialect, type) and issubclass(dialect, Dialect):
        dialect = dialect()
    if not isinstance(dialect, Dialect):
        raise errors.ConfigurationError(f"dialect {name!r} must be a pepperpy.dialects.base.Dialect (an instance, "
                                        f"or a subclass), not {type(dialect).__name__}")
    if not dialect.name:
        dialect.name = name  # messages say "the <name> dialect"
    return dialect
