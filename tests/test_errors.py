"""The one translation point: (status, body, headers / transport exception) -> the typed error."""

from __future__ import annotations

import email.utils
import json
import time

import pytest
import requests

from pepperpy import errors as e
from pepperpy._redact import redact
from pepperpy.http import _translate as t

OPENAI_CONTEXT = {"error": {"message": "This model's maximum context length is 128000 tokens.",
                            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}
ANTHROPIC_LONG = {"type": "error", "error": {"type": "invalid_request_error",
                                             "message": "prompt is too long: 205000 tokens > 200000 maximum"},
                  "request_id": "req_011"}
GEMINI_BAD_KEY = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                            "status": "INVALID_ARGUMENT",
                            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                         "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}
GEMINI_429 = {"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED",
                        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}]}}
OLLAMA_404 = {"error": 'model "llama9" not found, try pulling it first'}
ANTHROPIC_CONTEXT_LIMIT = {"type": "error", "error": {"type": "invalid_request_error", "message":
                           "input length and `max_tokens` exceed context limit: 178959 + 64000 > 200000, "
                           "decrease input length or `max_tokens` and try again"}, "request_id": "req_1"}
# openrouter.ai/docs/errors: "403: Your chosen model requires moderation and your input was flagged"
OPENROUTER_MODERATION = {"error": {"code": 403, "message": "Input flagged by moderation", "metadata": {
    "reasons": ["violence"], "flagged_input": "...", "provider_name": "openai", "model_slug": "gpt-4o"}}}
STACKSPOT_429 = {"type": "TooManyRequests", "code": "CODEBUDDY_1044_QUICK_COMMAND_RATE_LIMIT_EXCEEDED",
                 "details": "Too many requests"}


def translate(status: int, body: object, headers: dict[str, str] | None = None) -> e.ProviderError:
    content = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return t.from_response(status, content, headers or {}, provider="p", model="m", key_vars=["P_API_KEY"])


@pytest.mark.parametrize(("status", "body", "cls"), [
    (401, {"error": {"message": "Incorrect API key", "type": "invalid_request_error", "code": "invalid_api_key"}},
     e.AuthenticationError),
    (403, {"type": "error", "error": {"type": "permission_error", "message": "no"}}, e.AuthenticationError),
    (400, GEMINI_BAD_KEY, e.AuthenticationError),
    (429, {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
     e.RateLimitError),
    (429, STACKSPOT_429, e.RateLimitError),
    (400, OPENAI_CONTEXT, e.ContextLengthError),
    (400, ANTHROPIC_LONG, e.ContextLengthError),
    (400, ANTHROPIC_CONTEXT_LIMIT, e.ContextLengthError),
    (403, OPENROUTER_MODERATION, e.InvalidRequestError),
    (403, {"error": {"code": 403, "message": "Key disabled", "metadata": {"provider_name": "x"}}},
     e.AuthenticationError),
    (413, {"type": "error", "error": {"type": "request_too_large", "message": "Request exceeds the maximum size"}},
     e.InvalidRequestError),
    (404, OLLAMA_404, e.InvalidRequestError),
    (422, b"not json at all", e.InvalidRequestError),
    (500, {"error": {"message": "boom", "type": "server_error"}}, e.ProviderUnavailableError),
    (503, {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}},
     e.ProviderUnavailableError),
    (529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
     e.ProviderUnavailableError),
    (408, {"error": {"message": "timeout"}}, e.ProviderTimeoutError),
])
def test_status_and_body_map_to_class(status: int, body: object, cls: type) -> None:
    err = translate(status, body)
    assert type(err) is cls
    assert err.status_code == status
    assert err.provider == err.provider_type == "p"


def test_every_api_error_is_a_provider_api_error_and_rate_limit_alias() -> None:
    assert e.ProviderRateLimitError is e.RateLimitError
    for cls in (e.AuthenticationError, e.RateLimitError, e.ContextLengthError, e.InvalidRequestError,
                e.ProviderUnavailableError):
        assert issubclass(cls, e.ProviderAPIError)
    assert issubclass(e.CatalogError, ValueError) and issubclass(e.ValidationError, ValueError)


def test_auth_error_names_the_variables_to_fix() -> None:
    err = translate(401, {"error": {"message": "bad key", "code": "invalid_api_key"}})
    assert "P_API_KEY" in str(err)


def test_moderation_403_says_the_input_was_flagged_not_the_key() -> None:
    err = translate(403, OPENROUTER_MODERATION)
    assert "moderation (violence)" in str(err) and "P_API_KEY" not in str(err) and not err.retryable


def test_retry_after_seconds_ms_date_and_gemini_delay() -> None:
    assert translate(429, {}, {"retry-after": "7"}).retry_after == 7.0  # type: ignore[attr-defined]
    assert translate(429, {}, {"retry-after-ms": "1500"}).retry_after == 1.5  # type: ignore[attr-defined]
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < translate(429, {}, {"retry-after": date}).retry_after <= 30  # type: ignore[attr-defined,operator]
    assert translate(429, GEMINI_429).retry_after == 12.0  # type: ignore[attr-defined]


def test_insufficient_quota_is_not_retryable_but_rate_limit_is() -> None:
    quota = translate(429, {"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}})
    assert isinstance(quota, e.RateLimitError) and not quota.retryable
    assert translate(429, {"error": {"message": "slow down"}}).retryable


def test_request_id_from_header_or_body() -> None:
    assert translate(500, {}, {"x-request-id": "req_1"}).request_id == "req_1"
    assert translate(400, ANTHROPIC_LONG).request_id == "req_011"


def test_mid_stream_error_objects() -> None:
    over = t.from_error_payload({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
                                status=None, provider="anthropic", model="m")
    assert isinstance(over, e.ProviderUnavailableError)
    gem = t.from_error_payload({"error": {"code": 500, "message": "Error", "status": "INTERNAL"}},
                               status=None, provider="gemini", model="m")
    assert isinstance(gem, e.ProviderUnavailableError)
    router = t.from_error_payload({"error": {"code": "server_error", "message": "Provider disconnected"}},
                                  status=None, provider="openrouter", model="m")
    assert isinstance(router, e.ProviderUnavailableError)
    odd = t.from_error_payload({"error": {"code": 42, "message": "weird"}}, status=None, provider="x", model="m")
    assert isinstance(odd, e.StreamError)


def test_secrets_never_appear_in_message_details_or_repr() -> None:
    secret = "sk-live-abcdefghijklmnop1234"
    body = {"error": {"message": f"Incorrect API key provided: {secret}", "code": "invalid_api_key"}}
    err = t.from_response(401, json.dumps(body).encode(), {}, provider="openai", model="gpt-4o", secrets=[secret])
    for text in (str(err), repr(err), json.dumps(err.details)):
        assert secret not in text
        assert "***" in text or text == repr(err)
    assert "AIzaSyA" not in redact("key=AIzaSyA1234567890abcdefghijklmno")


@pytest.mark.parametrize(("exc", "cls"), [
    (requests.exceptions.ConnectTimeout("timed out"), e.ProviderTimeoutError),
    (requests.exceptions.ReadTimeout("read timed out"), e.ProviderTimeoutError),
    (requests.exceptions.ConnectionError("Connection refused"), e.ProviderConnectionError),
    (requests.exceptions.ChunkedEncodingError("Connection broken"), e.StreamError),
])
def test_transport_exceptions(exc: Exception, cls: type) -> None:
    err = t.from_transport_error(exc, provider="p", model="m", url="http://h/v1/x?key=secret")
    assert type(err) is cls
    assert "secret" not in str(err)


def test_ssl_errors_are_not_retryable() -> None:
    err = t.from_transport_error(requests.exceptions.SSLError("bad cert"), provider="p", model="m")
    assert isinstance(err, e.ProviderConnectionError) and not err.retryable


def test_messages_read_well() -> None:
    gem = translate(400, GEMINI_BAD_KEY)
    assert "(API_KEY_INVALID)" in str(gem) and "(400)" not in str(gem)
    assert ".." not in str(gem) and str(gem).endswith("Check the key in P_API_KEY.")
    multi = translate(500, {"error": {"message": "line one\n\n  line two", "type": "server_error"}})
    assert "line one line two" in str(multi)


def test_an_html_404_blames_the_base_url_not_the_model() -> None:
    err = t.from_response(404, b"<html><body>Not Found</body></html>", {"content-type": "text/html"},
                          provider="openai", model="gpt-4o-mini", url="http://user:pw@proxy.local/wrong/chat")
    assert isinstance(err, e.InvalidRequestError) and "check the provider's base_url" in str(err)
    assert "http://***@proxy.local/wrong/chat" in str(err) and "pw" not in str(err) and "model" not in str(err)


def test_a_stream_cut_short_says_so_in_words() -> None:
    exc = requests.exceptions.ChunkedEncodingError("invalid literal for int() with base 16: b''")
    err = t.from_transport_error(exc, provider="p", model="m", streaming=True)
    assert isinstance(err, e.StreamError) and "closed before the answer was complete" in str(err)
