"""The one place that turns HTTP answers and transport failures into pepperpy's exception tree.

``from_response`` (a non-2xx answer), ``from_error_payload`` (an error body, also one sent mid-stream)
and ``from_transport_error`` (a requests/urllib3 exception) classify the failure (status, the provider's
error codes, its wording), build a message that says how to fix it, read the retry hints (``Retry-After``,
``retry-after-ms``, Gemini's ``RetryInfo``, ``x-should-retry``) and redact every credential they know of.
Callers always raise their result ``from`` the original exception.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._redact import redact, redact_any, safe_url, url_secrets
from ..errors import (
    AuthenticationError,
    ContextLengthError,
    InvalidRequestError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
)

if TYPE_CHECKING:
    pass

__all__ = ["decode_body", "from_close", "from_error_payload", "from_realtime_error", "from_response",
           "from_transport_error", "parse_retry_after", "provider_message", "scrub", "transport_failure"]


def scrub(exc: ProviderError, secrets: Sequence[str]) -> ProviderError:
    """Redact ``secrets`` from an error built where they were not known (a dialect's stream parser)."""
    if secrets:
        exc.message = redact(exc.message, secrets)
        exc.args = (exc.message, *exc.args[1:])
        exc.details = redact_any(exc.details, secrets)
    return exc


# --------------------------------------------------------------------------- retry hints

_DURATION = r"^\s*(\d+(?:\.\d+)?)s\s*$"  # patterns of error paths: compiled when first used (re caches them)


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
            match = re.match(_DURATION, str(detail.get("retryDelay", "")))
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

def _error_object(body: Any) -> dict[str, Any]:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return err
        if isinstance(err, str):
            nested = _json_object(err)  # Ollama passes llama.cpp's error body on as a string
            return _error_object(nested) if nested is not None and "error" in nested else {"message": err}
        return body
    return {}


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _upstream(err: dict[str, Any]) -> Any:
    """The upstream provider's own error that a router passed on (OpenRouter: ``metadata.raw``), or None."""
    metadata = err.get("metadata")
    raw = metadata.get("raw") if isinstance(metadata, dict) else None
    if isinstance(raw, str):
        return _json_object(raw) or (raw.strip()[:500] or None)
    return raw if isinstance(raw, dict) else None


def decode_body(content: bytes) -> Any:
    """The JSON of an error answer, or its text when it is not JSON."""
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")[:1000]


def provider_message(body: Any) -> str:
    """What a provider's error body says, in its own words (no hint of pepperpy's), on one line."""
    return " ".join(_describe(body)[0].split()).rstrip(".")


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
    upstream = _upstream(err)
    if upstream is not None:  # "Provider returned error" says little: the upstream's words and codes count
        inner, inner_codes = _describe(upstream)
        if inner and inner not in message:
            name = err["metadata"].get("provider_name")
            message = f"{message} ({f'{name}: ' if name else ''}{inner})" if message else inner
        codes |= inner_codes
    return message, codes


def _classify(status: int | None, message: str, codes: set[str]) -> type[ProviderError]:
    from ._overflow import is_overflow
    if codes & {"api_key_invalid", "authentication_error", "invalid_api_key"} or status in (401, 403):
        return AuthenticationError
    if is_overflow(status, message, codes):
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


def from_error_payload(body: Any, *, status: int | None, provider: str, model: str | None,
                       headers: Mapping[str, str] | None = None, secrets: Sequence[str] = (),
                       key_vars: Sequence[str] = (), url: str = "", base_url: str = "",
                       status_like: int | None = None, where: str | None = None) -> ProviderError:
    """Build the typed error for an error body (an HTTP error answer, or an error event mid-stream).
    ``url`` is the address requested and ``base_url`` the provider's, for the hint of a 404. Without an HTTP
    status, ``status_like`` is the one the error stands for (a realtime error event's type) and ``where`` how the
    message starts (``"openai sent an error event"``)."""
    from ._error_text import UNSUPPORTED_INPUT, not_found_hint
    from ._overflow import context_numbers

    message, codes = _describe(body)
    if status is None:  # a mid-stream error: Gemini carries the HTTP code inside
        inner = _error_object(body).get("code")
        if status_like is None:
            status_like = inner if isinstance(inner, int) and 400 <= inner < 600 else None
        cls = _classify(status_like, message, codes)
    else:
        cls = _classify(status, message, codes)
    moderated = _flagged_by_moderation(status, body)
    unsupported = cls is not ContextLengthError and bool(UNSUPPORTED_INPUT.search(message))
    if moderated or unsupported:
        cls = InvalidRequestError
    message = redact(message, secrets)
    request_id = None
    if headers:
        request_id = headers.get("x-request-id") or headers.get("request-id")
    if request_id is None and isinstance(body, dict) and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    code = _display_code(body, status)
    where = where or (f"{provider} returned {status}" if status else f"{provider} sent an error mid-stream")
    message = " ".join(message.split()).rstrip(".")  # one line; our hints add their own full stop
    text = f"{where}{f' ({code})' if code else ''}: {message or 'no message'}"
    kw: dict[str, Any] = {}
    if moderated:
        reasons = _error_object(body)["metadata"].get("reasons")
        why = f" ({', '.join(map(str, reasons))})" if isinstance(reasons, list) and reasons else ""
        text += (f". The input was flagged by content moderation{why}; rephrase it, or pick a model whose "
                 f"provider does not moderate")
    elif unsupported:
        text += (". The model does not take this kind of input (retrying would not help); pick one that does: "
                 "client.models(capability='vision'), 'audio' or 'tools'")
    elif cls is AuthenticationError and key_vars:
        text += f". Check the key in {' or '.join(key_vars)}."
    elif cls is ContextLengthError:
        text += ". Shorten the prompt or lower max_tokens."
        inner = _upstream(_error_object(body))  # OpenRouter: the upstream's body holds the fields
        kw["tokens"], kw["limit"] = context_numbers(message, _error_object(inner) or _error_object(body))
    elif cls is InvalidRequestError and status in (404, 405):
        text += not_found_hint(message, model, url, base_url)
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
                details=redact_any(body, secrets), request_id=request_id, **kw)
    error.should_retry = True if hint == "true" else None
    return error


def from_response(status: int, content: bytes, headers: Mapping[str, str], *, provider: str,
                  model: str | None, secrets: Sequence[str] = (), key_vars: Sequence[str] = (),
                  url: str = "", base_url: str = "") -> ProviderError:
    """Build the typed error for a non-2xx HTTP answer (a 3xx too: redirects are not followed)."""
    from ._error_text import doubled_hint, undoubled

    content_type = headers.get("content-type", "")
    if "html" in content_type and status in (404, 405):  # a web page: the path is wrong, not the model
        where = f" at {safe_url(url)}" if url else ""
        fixed = undoubled(url, base_url)
        hint = (doubled_hint(url, base_url, fixed) if fixed is not None else
                "check the provider's base_url (OpenAI-compatible APIs usually end in /v1)")
        return InvalidRequestError(
            f"the server{where} answered {status} with an HTML page, not an API error from {provider}; {hint}",
            provider=provider, model=model, status_code=status,
            details=redact(content.decode("utf-8", "replace")[:500], secrets), request_id=headers.get("x-request-id"))
    if 300 <= status < 400:
        target = safe_url(headers.get("location", "")) or "elsewhere"
        return InvalidRequestError(
            f"{provider} answered {status}, a redirect to {target}: pepperpy does not follow redirects (they "
            f"would carry the API key to another host); set the provider's base_url to the final address",
            provider=provider, model=model, status_code=status, request_id=headers.get("x-request-id"))
    return from_error_payload(decode_body(content), status=status, provider=provider, model=model,
                              headers=headers, secrets=secrets, key_vars=key_vars, url=url, base_url=base_url)


# --------------------------------------------------------------------------- WebSocket sessions (realtime)

# What an error type stands for, as an HTTP status would (OpenAI's realtime ``error`` events carry no status)
_REALTIME_TYPES = {"invalid_request_error": 400, "authentication_error": 401, "permission_error": 403,
                   "not_found_error": 404, "rate_limit_error": 429, "server_error": 500}
# WebSocket close codes (RFC 6455 and the IANA registry's 3000 unauthorized, 3003 forbidden, 3008 timeout)
_CLOSE_STATUS = {1007: 400, 1008: 400, 1009: 413, 1011: 503, 1012: 503, 1013: 503, 1014: 502, 3000: 401,
                 3003: 403, 3008: 408}
_AUTH_REASON = r"(?i)api key|unregistered callers|authentication credentials|invalid_api_key|unauthori[sz]ed"
_NOT_FOUND_REASON = r"(?i)not found|model_not_found|invalid_model|is not supported for"


def from_realtime_error(body: Any, *, provider: str, model: str | None, secrets: Sequence[str] = (),
                        key_vars: Sequence[str] = ()) -> ProviderError:
    """The typed error of a realtime session's ``error`` event (``{"type": "error", "error": {type, code,
    message}}``): an ``invalid_api_key`` is an AuthenticationError, a bad request an InvalidRequestError."""
    kind = _error_object(body).get("type")
    return from_error_payload(body, status=None, provider=provider, model=model, secrets=secrets,
                              key_vars=key_vars, status_like=_REALTIME_TYPES.get(str(kind), 400),
                              where=f"{provider} sent an error event")


def from_close(code: int | None, reason: str, *, provider: str, model: str | None, secrets: Sequence[str] = (),
               key_vars: Sequence[str] = (), last_error: ProviderError | None = None) -> ProviderError:
    """The typed error of a realtime session the provider closed with an error code: OpenAI's ``3000
    invalid_request_error.invalid_api_key`` and Gemini's ``1007 API key not valid`` are AuthenticationErrors,
    Gemini's ``1008 ... is not found`` an InvalidRequestError naming the model, ``1011`` a retryable
    ProviderUnavailableError. ``last_error``: the error event that came just before, which says it better."""
    if last_error is not None:
        return last_error
    reason = redact(reason or "", secrets)
    status = _CLOSE_STATUS.get(code or 0, 400 if code is not None and 4000 <= code < 5000 else None)
    if re.search(_AUTH_REASON, reason):
        status = 401
    elif re.search(_NOT_FOUND_REASON, reason) and status in (400, None):
        status = 404
    cls = _classify(status, reason, set()) if status is not None else StreamError
    text = f"{provider} closed the realtime session ({code} {reason})".replace(" )", ")")
    if cls is AuthenticationError:
        text += f". Check the key in {' or '.join(key_vars)}." if key_vars else ". Check the API key."
    elif status == 404:
        text += f". Check the model name ({model}): client.models(mode='realtime') lists the realtime models."
    elif cls is InvalidRequestError:
        text += ". The session's settings or a message were refused; check the parameters passed to realtime()."
    return cls(redact(text, secrets), provider=provider, model=model, status_code=None,
               details={"close_code": code, "close_reason": reason})


def from_transport_error(exc: BaseException, *, provider: str, model: str | None, url: str = "",
                         streaming: bool = False, secrets: Sequence[str] = (), proxy: str | None = None,
                         expired: bool = False) -> ProviderError:
    """Build the typed error for a requests/urllib3 exception (never includes headers or query strings).
    ``proxy`` is the proxy the request went through, if any (named, without its credentials, when it failed);
    ``expired``: the call's total_timeout shut the socket down (``_deadline``), whatever the read then raised."""
    import requests  # already imported by the transport; local to keep this module light

    if proxy:
        secrets = (*secrets, *url_secrets(proxy))
    if expired:
        return transport_failure("timeout", "total_timeout ran out before the answer was complete",
                                 provider=provider, model=model, url=url, secrets=secrets)
    malformed = _malformed(exc)
    if malformed is not None:
        return transport_failure(*malformed, provider=provider, model=model, url=url, secrets=secrets)
    reason = _root_reason(exc)
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in reason.lower():
        kind = "timeout"
    elif streaming or isinstance(exc, requests.exceptions.ChunkedEncodingError):
        kind = "cut"
    elif isinstance(exc, requests.exceptions.ProxyError):
        where = f"{provider} at {safe_url(url)}" if url else provider
        where += f" through the proxy {safe_url(proxy)}" if proxy else " through a proxy"
        return ProviderConnectionError(f"could not reach {where}: {redact(reason, secrets)}; check HTTPS_PROXY / "
                                       f"HTTP_PROXY, and NO_PROXY for the hosts to reach directly",
                                       provider=provider, model=model)
    else:
        kind = "tls" if isinstance(exc, requests.exceptions.SSLError) else "connect"
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            reason = f"the answer could not be decoded ({reason})"
    return transport_failure(kind, reason, provider=provider, model=model, url=url, secrets=secrets)


def _malformed(exc: BaseException) -> tuple[str, str] | None:
    """``(kind, reason)`` when urllib3 or http.client refused the answer's framing: ``"malformed"`` for its
    head (a bad status line, too many headers, two different Content-Lengths...), ``"cut"`` for its body (a
    chunk size that is not one); None for any other failure."""
    import http.client

    import urllib3

    root = _root(exc)
    if isinstance(root, http.client.RemoteDisconnected):  # no answer at all: a connection failure
        return None
    if isinstance(root, http.client.BadStatusLine):
        line = str(root.args[0] if root.args else "").strip()  # http.client quotes nothing: the raw line
        return "malformed", f"status line {line[:40]!r}"
    if isinstance(root, urllib3.exceptions.InvalidChunkLength):
        line = root.length.strip().decode("latin-1")[:40]
        return "cut", f"invalid framing: chunk size line {line!r}"
    if isinstance(root, ValueError) and "read length must be" in str(root):  # a negative chunk size
        return "cut", "invalid framing: a negative chunk size"
    if isinstance(root, (http.client.HTTPException, urllib3.exceptions.InvalidHeader)) and not isinstance(
            root, http.client.IncompleteRead):  # too many headers, a line too long, Content-Lengths that differ
        return "malformed", str(root)[:200] or type(root).__name__
    return None


def transport_failure(kind: str, reason: str, *, provider: str, model: str | None, url: str = "",
                      secrets: Sequence[str] = ()) -> ProviderError:
    """The typed error for a failure below HTTP, whichever client met it (requests, or the event loop's):
    ``kind`` is ``"timeout"``, ``"cut"`` (the answer began and broke off), ``"malformed"`` (an answer that is
    not valid HTTP/1.1: never retried, the server may have acted on the request), ``"tls"`` (the TLS handshake
    failed: never retried, the certificate will not change) or ``"connect"`` (no answer)."""
    reason = redact(reason, secrets)[:300]
    where = f"{provider} at {safe_url(url)}" if url else provider
    if kind == "timeout":
        return ProviderTimeoutError(f"{where} did not answer in time ({reason}); raise the timeout or retry later",
                                    provider=provider, model=model)
    if kind == "cut":
        if re.search(_CRYPTIC_CUT, reason):  # urllib3's words for a body cut short
            reason = "the connection closed before the answer was complete"
        return StreamError(f"the answer from {where} broke off: {reason}", provider=provider, model=model)
    if kind == "malformed":
        return ProviderConnectionError(f"{where} sent an answer that is not valid HTTP/1.1: {reason}; a server "
                                       f"or proxy on the way is broken or is not the provider's API",
                                       provider=provider, model=model, retryable=False)
    advice = _tls_advice(reason) if kind == "tls" else ""
    return ProviderConnectionError(f"could not reach {where}: {reason}{advice}", provider=provider, model=model,
                                   retryable=kind != "tls")


def _tls_advice(reason: str) -> str:
    """What to do about a failed TLS handshake, from OpenSSL's words."""
    lowered = reason.lower()
    if "mismatch" in lowered:  # "Hostname mismatch", "IP address mismatch"
        return "; the server's certificate was issued for another name: use the host name it names in base_url"
    if "expired" in lowered:
        return "; the server's certificate has expired: its operator must renew it"
    if "certificate verify failed" in lowered:  # unable to get local issuer certificate, self-signed (in chain)
        return ("; if a company proxy or a private CA signs this server's certificate, set REQUESTS_CA_BUNDLE to a "
                "PEM file holding that CA")
    if "wrong_version_number" in lowered or "record layer" in lowered or "packet length" in lowered:
        return "; the server does not speak TLS at this address: check http:// or https:// and the port in base_url"
    return ""


_CRYPTIC_CUT = (r"(?i)invalid literal for int|InvalidChunkLength|IncompleteRead|Response ended prematurely|"
                r"Connection broken|Remote end closed")


def _root(exc: BaseException) -> BaseException:
    """The exception at the bottom of requests' and urllib3's wrappers."""
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
    return last


def _root_reason(exc: BaseException) -> str:
    last = _root(exc)
    text = str(last) or type(last).__name__
    # urllib3 prefixes reasons with an object repr; keep the human part
    text = re.sub(r"<[^>]+>:\s*", "", text)
    return redact(text)[:300]
