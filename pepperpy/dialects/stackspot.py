"""StackSpot AI agents: OAuth2 client-credentials auth and ``POST /v1/agent/{agent_id}/chat``.

A "model" is an agent (``"stackspot/<agent_id>"``) whose LLM, system prompt, temperature and token limits
are set on the agent, so the request carries one ``user_prompt`` and no sampling params. Earlier turns and a
system message are folded into that prompt as a plain transcript rather than dropped (or pass
``conversation_id=`` to let StackSpot keep the history). Other params (``stackspot_knowledge``,
``upload_ids``, ...) go into the body as they are. Streams are SSE ``data:`` events, each with a ``message``
fragment, and NO ``[DONE]``: the event carrying ``stop_reason`` (and ``tokens``) is the last.

Tokens come from the realm's IDM (``options.auth_url``) for the client id (``options.client_id_env``), the
provider's key as client secret and the realm (``options.realm_env``); `StackSpotAuth` caches them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests
from requests.auth import AuthBase

from .. import errors
from ..config import key_vars
from ..transport import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, USER_AGENT, Request
from ..types import Chunk, Completion, ModelSpec, ProviderSpec, Usage
from .base import Dialect, Message, StreamParser, completion, decode_json, normalize_finish, raise_error_event, text_of
from .openai import parse_usage as openai_usage

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ..config import Settings

DEFAULT_AUTH_URL = "https://idm.stackspot.com/{realm}/oidc/oauth/token"
RENEW_MARGIN = 60.0        # seconds before expiry at which a token is renewed
DEFAULT_TOKEN_TTL = 300.0  # assumed lifetime when the IDM omits expires_in
# Set on the agent, never per request: refused before any request so a setting is not silently ignored.
REFUSED_PARAMS = frozenset({"temperature", "top_p", "top_k", "max_tokens", "stop", "seed", "presence_penalty",
                            "frequency_penalty", "response_format", "tools", "tool_choice"})
Timeout = tuple[float, float]


class StackSpotAuth(AuthBase):
    """Bearer tokens for one set of client credentials, shared by every thread of a Client.

    The first request fetches a token (concurrent threads wait for that one fetch, and share its token or
    its error: a failing IDM costs them one timeout, not one each), it is reused until ``RENEW_MARGIN``
    seconds before expiry, and a 401 answer re-fetches it once and resends the request.
    Token requests use their own small Session so they never carry (or recurse into) this auth.
    ``clock`` is injectable so tests can expire tokens without sleeping.
    """

    def __init__(self, token_url: str, client_id: str, client_secret: str, *, provider: str = "stackspot",
                 timeout: Timeout = (DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT), hint: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url = token_url
        self.provider = provider
        self.timeout = timeout
        self.clock = clock
        self._form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        self._secrets = (client_secret,)
        self._hint = hint or "the client id and secret"
        self._lock = threading.Lock()  # guards the two below; never held while fetching
        self._current: tuple[str, float] | None = None  # (token, renew at); one attribute, read atomically
        self._pending: Future[str | None] | None = None  # the fetch under way; its waiters share its outcome
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        r.hooks["response"].append(self._reauth_on_401)  # what register_hook does; that one is untyped
        return r

    def token(self) -> str:
        """A valid access token, fetched or renewed when needed."""
        current = self._current
        if current is not None and self.clock() < current[1]:
            return current[0]
        from concurrent.futures import Future  # on first fetch: it costs 6 ms to import

        while True:
            with self._lock:  # one fetch at a time; the threads that arrive meanwhile wait for its outcome
                current = self._current
                if current is not None and self.clock() < current[1]:
                    return current[0]
                pending = self._pending
                if pending is None:
                    pending = self._pending = Future()
                    break
            token = pending.result()  # that fetch's token, or its error raised here too
            if token is not None:
                return token
            # that fetch was interrupted (KeyboardInterrupt in its thread): this thread fetches instead
        return self._fetch_shared(pending)

    def _fetch_shared(self, pending: Future[str | None]) -> str:
        try:
            current = self._fetch()  # no lock held while the IDM answers: invalidate() never waits on it
        except BaseException as exc:
            with self._lock:
                self._pending = None  # threads arriving from now on try a fetch of their own
            if isinstance(exc, Exception):
                pending.set_exception(exc)
            else:
                pending.set_result(None)
            raise
        with self._lock:
            self._current, self._pending = current, None
        pending.set_result(current[0])
        return current[0]

    def invalidate(self, token: str) -> None:
        """Forget ``token`` unless another thread has already replaced it."""
        with self._lock:
            if self._current is not None and self._current[0] == token:
                self._current = None

    def close(self) -> None:
        self._session.close()

    def _reauth_on_401(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        # A token can be revoked or expire early; one fresh token decides whether the credentials are bad.
        # The resend goes straight to the adapter, which runs no hooks, so this happens at most once.
        if r.status_code != 401:
            return r
        sent = str(r.request.headers.get("Authorization", "")).removeprefix("Bearer ")
        r.content  # noqa: B018 - drain the body so the connection returns to the pool
        r.close()
        self.invalidate(sent)
        retry = r.request.copy()
        retry.headers["Authorization"] = f"Bearer {self.token()}"
        answer = r.connection.send(retry, **kwargs)
        answer.history.append(r)
        answer.request = retry
        return answer

    def _fetch(self) -> tuple[str, float]:
        started = self.clock()
        try:
            response = self._session.post(self.token_url, data=self._form, timeout=self.timeout,
                                          headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise errors.from_transport_error(exc, provider=self.provider, model=None, url=self.token_url) from exc
        with response:
            if response.status_code >= 400:
                raise self._refused(response)
            try:
                payload = response.json()
                token = str(payload["access_token"])
                ttl = float(payload.get("expires_in") or DEFAULT_TOKEN_TTL)
            except (ValueError, KeyError, TypeError) as exc:
                raise errors.AuthenticationError(f"the StackSpot token endpoint {self.token_url} answered without "
                                                 f"an access_token", provider=self.provider,
                                                 status_code=response.status_code) from exc
        return token, started + ttl - min(RENEW_MARGIN, ttl / 2)

    def _refused(self, response: requests.Response) -> errors.ProviderError:
        status = response.status_code
        if status == 429 or status >= 500:  # the IDM is busy or down, not the credentials: keep it retryable
            return errors.from_response(status, response.content, response.headers, provider=self.provider,
                                        model=None, secrets=self._secrets)
        body = errors.decode_body(response.content)
        reason = (body.get("error_description") or body.get("error")) if isinstance(body, dict) else body
        reason = errors.redact(str(reason or "no reason given"), self._secrets)[:300]
        return errors.AuthenticationError(
            f"StackSpot refused the client credentials ({status} from {self.token_url}: {reason}); check "
            f"{self._hint}", provider=self.provider, status_code=status, details=reason)


def user_prompt(messages: Sequence[Message]) -> str:
    """The last user message, preceded by a plain transcript of anything before it (nothing is dropped)."""
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and any(isinstance(p, Mapping) and p.get("type", "text") != "text"
                                             for p in content):
            raise errors.ValidationError("StackSpot agents take text only; send files with upload_ids=[...]",
                                         param="messages", value=message.get("role"))
    if len(messages) == 1:
        return text_of(messages[0].get("content"))
    return "\n\n".join(f"{str(m.get('role', 'user')).capitalize()}: {text_of(m.get('content'))}" for m in messages)


def parse_tokens(tokens: Any) -> Usage | None:
    """``{"user", "enrichment", "output"}`` (answers) or ``{"input", "output"}`` (the last stream event)."""
    if not isinstance(tokens, Mapping):
        return None
    if "input" in tokens:
        prompt = tokens.get("input") or 0
    else:  # enrichment is the knowledge-source context StackSpot added to the prompt: billed as input
        prompt = (tokens.get("user") or 0) + (tokens.get("enrichment") or 0)
    return Usage(prompt, tokens.get("output") or 0)


def _is_error(obj: Any) -> bool:
    # Error bodies look like {"type", "code", "details"}; answers and fragments always carry "message".
    return isinstance(obj, dict) and "message" not in obj and "choices" not in obj and (
        bool(obj.get("error")) or "details" in obj)


class StackSpotStreamParser(StreamParser):
    """``data: {"message": "..."}`` fragments; the one with ``stop_reason`` is the last."""

    __slots__ = ("done", "model")

    def __init__(self, model: ModelSpec) -> None:
        self.done = False
        self.model = model

    def feed(self, event: str, data: bytes) -> Chunk | None:
        if data == b"[DONE]":  # not sent by the native API; tolerated from OpenAI-style gateways
            self.done = True
            return None
        obj = decode_json(data)
        if _is_error(obj):
            raise_error_event(obj, self.model)
        text, finish, usage = obj.get("message"), obj.get("stop_reason"), parse_tokens(obj.get("tokens"))
        if obj.get("choices"):  # an OpenAI-shaped fragment, as some StackSpot gateways send
            choice = obj["choices"][0]
            text, finish = (choice.get("delta") or {}).get("content"), choice.get("finish_reason")
            usage = openai_usage(obj.get("usage"))
        if finish:
            self.done = True
        elif not text:
            return None
        return Chunk(text if isinstance(text, str) else "", normalize_finish(finish), usage, raw=obj)


class StackSpotDialect(Dialect):
    name = "stackspot"
    supports_embeddings = False
    supports_tools = False  # an agent's tools are configured on the agent, not sent per call
    structured_output = "prompt"  # no JSON mode on the wire: the schema travels in the prompt

    def session_auth(self, provider: ProviderSpec, key: str | None, settings: Settings,
                     base_url: str) -> AuthBase | None:
        options = provider.options
        id_vars = list(options.get("client_id_env") or ["STACKSPOT_CLIENT_ID"])
        realm_vars = list(options.get("realm_env") or ["STACKSPOT_REALM"])
        secret_vars = key_vars(provider)
        client_id, realm = settings.first(id_vars), settings.first(realm_vars)
        if not (client_id and realm and key):
            wanted = ((id_vars, client_id), (secret_vars, key), (realm_vars, realm))
            missing = "; ".join(" or ".join(names) for names, value in wanted if not value)
            raise errors.ConfigurationError(
                f"provider {provider.name!r} authenticates with StackSpot client credentials: it needs "
                f"{id_vars[0]}, {secret_vars[-1]} and {realm_vars[0]} in the environment or a .env file "
                f"(create the credentials in the StackSpot portal); missing: {missing}")
        template = settings.get(provider.env_prefix + "AUTH_URL") or options.get("auth_url") or DEFAULT_AUTH_URL
        url = str(template).replace("{realm}", quote(realm, safe=""))
        if url.startswith("/"):  # relative to the provider's base URL (gateways that proxy the IDM)
            url = base_url + url
        seconds = provider.timeout or DEFAULT_TIMEOUT
        hint = (f"the client id in {' or '.join(id_vars)}, the secret in {' or '.join(secret_vars)} and the realm "
                f"{realm!r} in {' or '.join(realm_vars)}")
        return StackSpotAuth(url, client_id, key, provider=provider.name, hint=hint,
                             timeout=(min(DEFAULT_CONNECT_TIMEOUT, seconds), seconds))

    def build_chat(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                   params: Mapping[str, Any], *, stream: bool) -> Request:
        for name, value in params.items():
            if name in REFUSED_PARAMS:
                raise errors.ValidationError(
                    f"{model.name} does not accept {name}: a StackSpot agent's model settings are fixed; "
                    f"configure {name} on the agent in the StackSpot AI portal instead", param=name, value=value)
        extra = dict(params)
        conversation_id = extra.pop("conversation_id", None)
        body: dict[str, Any] = {"user_prompt": user_prompt(messages), "streaming": stream,
                                "stackspot_knowledge": False, "return_ks_in_response": False,
                                "use_conversation": bool(conversation_id)}
        if conversation_id:
            body["conversation_id"] = conversation_id
        body.update(extra)
        return Request("POST", f"/v1/agent/{quote(model.wire_name, safe='')}/chat", json=body, stream=stream)

    def parse_chat(self, payload: Any, model: ModelSpec) -> Completion:
        if _is_error(payload):
            raise_error_event(payload, model)
        return completion(model, text_of(payload.get("message")), payload.get("stop_reason") or "stop",
                          parse_tokens(payload.get("tokens")) or Usage(), payload,
                          request_id=payload.get("message_id"))

    def stream_parser(self, model: ModelSpec) -> StreamParser:
        return StackSpotStreamParser(model)


DIALECT = StackSpotDialect()
