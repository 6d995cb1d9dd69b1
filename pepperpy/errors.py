"""The pepperpy exception tree, and the one place that turns HTTP and transport failures into it.

```
PepperpyError
├── ConfigurationError       missing credentials (names every env var that would work), bad options
├── CatalogError             file, line and schema path of the problem (also a ValueError)
├── ModelNotFoundError       .suggestions (close matches)
├── ValidationError          bad params, caught before any request (also a ValueError)
│   └── StructuredOutputError   an answer that is not the JSON asked for: .text, .errors [(json_path, message)]
├── MaxTurnsError            a tool loop that reached max_turns: .messages (the transcript), .steps
└── ProviderError            .provider (alias .provider_type), .model, .status_code, .details, .request_id, .retryable
    ├── ProviderAPIError     an HTTP error answer
    │   ├── AuthenticationError      401, 403, Gemini API_KEY_INVALID
    │   ├── RateLimitError           429 (alias ProviderRateLimitError); .retry_after seconds when known
    │   ├── ContextLengthError       prompt too long, whatever the provider calls it; .tokens, .limit when known
    │   ├── InvalidRequestError      other 4xx, and OpenRouter's 403 for input flagged by moderation
    │   └── ProviderUnavailableError 5xx, 529 overloaded
    ├── ProviderTimeoutError
    ├── ProviderConnectionError
    ├── StreamError                  a stream that broke or ended without its terminator
    └── CircuitOpenError             raised without touching the network; .retry_after
```

`from_response`, `from_error_payload` and `from_transport_error` are the only translation points; the client
always raises their result `from` the original exception. No message or repr ever carries a credential:
every text taken from a provider goes through `redact` with the caller's secrets.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "AuthenticationError",
    "CatalogError",
    "CircuitOpenError",
    "ConfigurationError",
    "ContextLengthError",
    "InvalidRequestError",
    "MaxTurnsError",
    "ModelNotFoundError",
    "PepperpyError",
    "ProviderAPIError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderRateLimitError",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "RateLimitError",
    "StreamError",
    "StructuredOutputError",
    "ValidationError",
]


class PepperpyError(Exception):
    """Base class of every error pepperpy raises."""


class ConfigurationError(PepperpyError):
    """Missing credentials or a bad option; the message says what to set."""


class CatalogError(PepperpyError, ValueError):
    """A catalog file that cannot be used, with ``.file``, ``.line`` and ``.field`` of the problem."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.file, self.line, self.field = file, line, field
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        at = f"{field}: " if field else ""
        super().__init__(f"{where}{at}{message}")


class ModelNotFoundError(PepperpyError, LookupError):
    """No catalog model (or provider) has this name; ``.suggestions`` lists close matches."""

    def __init__(self, name: str, suggestions: Sequence[str] = (), hint: str = "", *, kind: str = "model") -> None:
        self.name = name
        self.suggestions = list(suggestions)
        text = f"unknown {kind} {name!r}"
        if self.suggestions:
            text += f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?"
        text += hint or " See client.models() for every model, or add one to a catalog YAML file."
        super().__init__(text)

    def __str__(self) -> str:  # LookupError would otherwise quote the message
        return str(self.args[0])


class ValidationError(PepperpyError, ValueError):
    """A parameter refused before any request: names the param, the value and the allowed range."""

    def __init__(self, message: str, *, param: str | None = None, value: Any = None) -> None:
        self.param, self.value = param, value
        super().__init__(message)


class StructuredOutputError(ValidationError):
    """The answer is not the JSON asked for by ``response_format``, even after the repair round.

    ``text`` is the raw answer; ``errors`` lists every problem as ``(json_path, message)``, e.g.
    ``("$.items[0].price", "'ten' is not of type 'number'")``; ``completion`` is the last answer received.
    """

    def __init__(self, message: str, *, text: str, errors: Sequence[tuple[str, str]],
                 completion: Any = None) -> None:
        super().__init__(message, param="response_format")
        self.text = text
        self.errors = list(errors)
        self.completion = completion


class MaxTurnsError(PepperpyError):
    """``client.run`` reached ``max_turns`` while the model was still asking for tools.

    ``messages`` is the whole transcript (ready to continue with ``messages=``), ``steps`` every tool call
    made, ``completion`` the last answer (its ``tool_calls`` are the ones left unanswered).
    """

    def __init__(self, message: str, *, messages: Sequence[Any] = (), steps: Sequence[Any] = (),
                 completion: Any = None, max_turns: int | None = None) -> None:
        super().__init__(message)
        self.messages = list(messages)
        self.steps = list(steps)
        self.completion = completion
        self.max_turns = max_turns


class ProviderError(PepperpyError):
    """A provider call that failed. ``provider_type`` is the seed API's name for ``provider``."""

    retryable_default = False

    def __init__(self, message: str, *, provider: str | None = None, model: str | None = None,
                 status_code: int | None = None, details: Any = None, request_id: str | None = None,
                 retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.details = details
        self.request_id = request_id
        self.retryable = self.retryable_default if retryable is None else retryable
        self.should_retry: bool | None = None  # the provider's x-should-retry: true overrides the status rules

    @property
    def provider_type(self) -> str | None:
        return self.provider

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, provider={self.provider!r}, status_code={self.status_code!r})"


class ProviderAPIError(ProviderError):
    """The provider answered with an HTTP error."""


class AuthenticationError(ProviderAPIError):
    """The credentials were refused (401, 403, Gemini API_KEY_INVALID)."""


class RateLimitError(ProviderAPIError):
    """Too many requests (429); ``retry_after`` is the wait in seconds when the provider said it."""

    retryable_default = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


ProviderRateLimitError = RateLimitError


class ContextLengthError(ProviderAPIError):
    """The prompt (plus max_tokens) does not fit the model's context window.

    ``tokens`` is the prompt's size in tokens and ``limit`` the model's context window, when known: the
    pre-flight check sets both (``tokens`` is then a lower bound), a provider's message may state them.
    """

    def __init__(self, message: str, *, tokens: int | None = None, limit: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.tokens = tokens
        self.limit = limit


class InvalidRequestError(ProviderAPIError):
    """Any other 4xx answer: the request needs fixing."""


class ProviderUnavailableError(ProviderAPIError):
    """5xx or 529 overloaded: the provider failed, try again later."""

    retryable_default = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ProviderTimeoutError(ProviderError):
    """No answer within the timeout."""

    retryable_default = True


class ProviderConnectionError(ProviderError):
    """The provider could not be reached (refused, reset, DNS, TLS)."""

    retryable_default = True


class StreamError(ProviderError):
    """A stream that broke, or ended without its terminator."""


class CircuitOpenError(ProviderError):
    """The provider's circuit breaker is open; raised without touching the network."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


# --------------------------------------------------------------------------- redaction

_KEY_PATTERNS = re.compile(
    r"(sk-[A-Za-z0-9_\-*]{8,}|sk-ant-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,}|gsk_[A-Za-z0-9]{8,}"
    r"|xai-[A-Za-z0-9]{8,}|(?<=Bearer )[A-Za-z0-9._\-]{8,})"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every known secret, and anything shaped like an API key, with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "***")
    return _KEY_PATTERNS.sub("***", text)


def _redact_any(value: Any, secrets: Sequence[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: _redact_any(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_any(v, secrets) for v in value]
    return value


def scrub(exc: ProviderError, secrets: Sequence[str]) -> ProviderError:
    """Redact ``secrets`` from an error built where they were not known (a dialect's stream parser)."""
    if secrets:
        exc.message = redact(exc.message, secrets)
        exc.args = (exc.message, *exc.args[1:])
        exc.details = _redact_any(exc.details, secrets)
    return exc


# --------------------------------------------------------------------------- retry hints

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def parse_retry_after(headers: Mapping[str, str] | None, body: Any = None) -> float | None:
    """Seconds to wait, from ``retry-after-ms``, ``retry-after`` (seconds or HTTP date) or Gemini's
    ``RetryInfo.retryDelay`` in the body; None when the provider said nothing."""
    import email.utils

    if headers:
        ms = headers.get("retry-after-ms")
        if ms:
            try:
                return max(0.0, float(ms) / 1000.0)
            except ValueError:
                pass
        value = headers.get("retry-after")
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                parsed = email.utils.parsedate_to_datetime(value) if _looks_like_date(value) else None
                if parsed is not None:
                    return max(0.0, parsed.timestamp() - time.time())
    for detail in _error_object(body).get("details") or ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("RetryInfo"):
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _looks_like_date(value: str) -> bool:
    import email.utils

    try:
        return email.utils.parsedate_to_datetime(value) is not None
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- translation

_CONTEXT = re.compile(
    r"prompt is too long|context[_ ]length|maximum context|context window|too many tokens|"
    r"input token count.*exceeds|exceeds the maximum number of tokens|reduce the length|"
    r"exceeds? context limit", re.I)  # Anthropic: "input length and `max_tokens` exceed context limit"


def _error_object(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return err
        if isinstance(err, str):
            return {"message": err}
        return body
    return {}


def decode_body(content: bytes) -> Any:
    """The JSON of an error answer, or its text when it is not JSON."""
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")[:1000]


def _describe(body: Any) -> tuple[str, set[str]]:
    """(message, lower-cased codes) from any provider's error body."""
    err = _error_object(body)
    if not err:
        return (str(body).strip()[:500] if body else ""), set()
    message = err.get("message") or err.get("details") or err.get("detail") or ""
    if not isinstance(message, str):
        message = json.dumps(message)[:500]
    codes = {str(err[k]).lower() for k in ("code", "type", "status") if err.get(k) is not None}
    for detail in err.get("details") or () if isinstance(err.get("details"), list) else ():
        if isinstance(detail, dict) and detail.get("reason"):
            codes.add(str(detail["reason"]).lower())
    return message, codes


def _classify(status: int | None, message: str, codes: set[str]) -> type[ProviderError]:
    if "api_key_invalid" in codes or "authentication_error" in codes or status in (401, 403):
        return AuthenticationError
    if "context_length_exceeded" in codes or (status in (400, 413, None) and _CONTEXT.search(message)):
        return ContextLengthError
    if status == 429 or codes & {"rate_limit_error", "resource_exhausted", "rate_limit_exceeded",
                                 "toomanyrequests", "insufficient_quota"}:
        return RateLimitError
    if status == 408 or "deadline_exceeded" in codes:
        return ProviderTimeoutError
    if (status is not None and status >= 500) or codes & {
            "overloaded_error", "api_error", "server_error", "internal", "unavailable", "500", "502", "503",
            "internalservererror", "serviceunavailable"}:  # StackSpot names errors by their HTTP reason
        return ProviderUnavailableError
    if status is None:
        return StreamError
    return InvalidRequestError


def _flagged_by_moderation(status: int | None, body: Any) -> bool:
    """OpenRouter's 403 for input a moderated model flagged (``error.metadata`` has ``reasons`` /
    ``flagged_input``): the request must change, the key is fine. The one exception to 403 → auth."""
    metadata = _error_object(body).get("metadata") if status == 403 else None
    return isinstance(metadata, dict) and ("reasons" in metadata or "flagged_input" in metadata)


# Ollama's 404 for a model that is not downloaded: 'model "x" not found, try pulling it first'
_PULL = re.compile(r"""model(?:\s+["']?([^"'\s]+)["']?)?\s+not found,?\s+try pulling""", re.I)


def _display_code(body: Any, status: int | None) -> str | None:
    """The most telling code of an error body: a Gemini reason (API_KEY_INVALID), else the type or status,
    else the code, never a bare repeat of the HTTP status."""
    err = _error_object(body)
    details = err.get("details")
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and detail.get("reason"):
            return str(detail["reason"])
    for key in ("type", "status", "code"):
        value = err.get(key)
        if value is not None and str(value) != str(status) and str(value).strip():
            return str(value)
    return None


def _not_found_hint(message: str, model: str | None) -> str:
    """How to fix a 404: the pull command when the server says to pull the model, else check the name."""
    pull = _PULL.search(message)
    if pull:
        return f"; download it with `ollama pull {pull.group(1) or model}`"
    return f". Check the model name {model!r}."


def from_error_payload(body: Any, *, status: int | None, provider: str, model: str | None,
                       headers: Mapping[str, str] | None = None, secrets: Sequence[str] = (),
                       key_vars: Sequence[str] = ()) -> ProviderError:
    """Build the typed error for an error body (an HTTP error answer, or an error event mid-stream)."""
    message, codes = _describe(body)
    if status is None:  # a mid-stream error: Gemini carries the HTTP code inside
        inner = _error_object(body).get("code")
        status_like = inner if isinstance(inner, int) and 400 <= inner < 600 else None
        cls = _classify(status_like, message, codes)
    else:
        cls = _classify(status, message, codes)
    moderated = _flagged_by_moderation(status, body)
    if moderated:
        cls = InvalidRequestError
    message = redact(message, secrets)
    request_id = None
    if headers:
        request_id = headers.get("x-request-id") or headers.get("request-id")
    if request_id is None and isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    code = _display_code(body, status)
    where = f"{provider} returned {status}" if status else f"{provider} sent an error mid-stream"
    message = " ".join(message.split()).rstrip(".")  # one line; our hints add their own full stop
    text = f"{where}{f' ({code})' if code else ''}: {message or 'no message'}"
    kw: dict[str, Any] = {}
    if moderated:
        reasons = _error_object(body)["metadata"].get("reasons")
        why = f" ({', '.join(map(str, reasons))})" if isinstance(reasons, list) and reasons else ""
        text += (f". The input was flagged by content moderation{why}; rephrase it, or pick a model whose "
                 f"provider does not moderate")
    elif cls is AuthenticationError and key_vars:
        text += f". Check the key in {' or '.join(key_vars)}."
    elif cls is ContextLengthError:
        text += ". Shorten the prompt or lower max_tokens."
    elif cls is InvalidRequestError and status == 404:
        text += _not_found_hint(message, model)
    elif cls is InvalidRequestError and (status == 402 or "billing_error" in codes):
        text += f". Add credits or check the billing settings of your {provider} account."
    if cls in (RateLimitError, ProviderUnavailableError):
        kw["retry_after"] = parse_retry_after(headers, body)
    if cls is RateLimitError and "insufficient_quota" in codes:
        kw["retryable"] = False
    if cls is InvalidRequestError and status == 409:
        kw["retryable"] = True
    hint = (headers or {}).get("x-should-retry")  # OpenAI and Anthropic say so explicitly at times
    if hint in ("true", "false"):
        kw["retryable"] = hint == "true"
    error = cls(redact(text, secrets), provider=provider, model=model, status_code=status,
                details=_redact_any(body, secrets), request_id=request_id, **kw)
    error.should_retry = True if hint == "true" else None
    return error


def from_response(status: int, content: bytes, headers: Mapping[str, str], *, provider: str,
                  model: str | None, secrets: Sequence[str] = (), key_vars: Sequence[str] = (),
                  url: str = "") -> ProviderError:
    """Build the typed error for a non-2xx HTTP answer (a 3xx too: redirects are not followed)."""
    content_type = headers.get("content-type", "")
    if "html" in content_type and status in (404, 405):  # a web page: the path is wrong, not the model
        where = f" at {safe_url(url)}" if url else ""
        return InvalidRequestError(
            f"the server{where} answered {status} with an HTML page, not a {provider} API error; check the "
            f"provider's base_url (OpenAI-compatible APIs usually end in /v1)", provider=provider, model=model,
            status_code=status, details=redact(content.decode("utf-8", "replace")[:500], secrets),
            request_id=headers.get("x-request-id"))
    if 300 <= status < 400:
        target = safe_url(headers.get("location", "")) or "elsewhere"
        return InvalidRequestError(
            f"{provider} answered {status}, a redirect to {target}: pepperpy does not follow redirects (they "
            f"would carry the API key to another host); set the provider's base_url to the final address",
            provider=provider, model=model, status_code=status, request_id=headers.get("x-request-id"))
    return from_error_payload(decode_body(content), status=status, provider=provider, model=model,
                              headers=headers, secrets=secrets, key_vars=key_vars)


_USER_INFO = re.compile(r"^([A-Za-z][\w+.-]*://)?[^/@\s]*@")


def safe_url(url: str) -> str:
    """A URL fit for a message: user info (it may hold a password) shown as ``***@``, no query string (it may
    hold a key). Works on text that is not a valid URL too."""
    return _USER_INFO.sub(r"\1***@", url).split("?", 1)[0].split("#", 1)[0]


def from_transport_error(exc: BaseException, *, provider: str, model: str | None, url: str = "",
                         streaming: bool = False, secrets: Sequence[str] = ()) -> ProviderError:
    """Build the typed error for a requests/urllib3 exception (never includes headers or query strings)."""
    import requests  # already imported by the transport; local to keep this module light

    reason = redact(_root_reason(exc), secrets)
    where = f"{provider} at {safe_url(url)}" if url else provider
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in reason.lower():
        return ProviderTimeoutError(f"{where} did not answer in time ({reason}); raise the timeout or retry later",
                                    provider=provider, model=model)
    if streaming or isinstance(exc, requests.exceptions.ChunkedEncodingError):
        if _CRYPTIC_CUT.search(reason):  # urllib3's words for a body cut short
            reason = "the connection closed before the answer was complete"
        return StreamError(f"the answer from {where} broke off: {reason}", provider=provider, model=model)
    retryable = not isinstance(exc, requests.exceptions.SSLError)
    return ProviderConnectionError(f"could not reach {where}: {reason}", provider=provider, model=model,
                                   retryable=retryable)


_CRYPTIC_CUT = re.compile(r"invalid literal for int|InvalidChunkLength|IncompleteRead|Response ended prematurely|"
                          r"Connection broken|Remote end closed", re.I)


def _root_reason(exc: BaseException) -> str:
    seen: set[int] = set()
    current: BaseException | None = exc
    last = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        last = current
        nested = getattr(current, "reason", None)
        current = nested if isinstance(nested, BaseException) else (current.__cause__ or current.__context__)
        if current is None and last.args and isinstance(last.args[0], BaseException):
            current = last.args[0]
    text = str(last) or type(last).__name__
    # urllib3 prefixes reasons with an object repr; keep the human part
    text = re.sub(r"<[^>]+>:\s*", "", text)
    return redact(text)[:300]
