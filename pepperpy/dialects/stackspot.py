"""StackSpot AI agents: OAuth2 client-credentials auth and ``POST /v1/agent/{agent_id}/chat``.

A "model" is an agent (``"stackspot/<agent_id>"``) whose LLM, system prompt, temperature and token limits
are set on the agent, so the request carries one ``user_prompt`` and no sampling params. Earlier turns and a
system message are folded into that prompt as a plain transcript rather than dropped (or pass
``conversation_id=`` to let StackSpot keep the history). Other params (``stackspot_knowledge``,
``upload_ids``, ...) go into the body as they are. Streams are SSE ``data:`` events, each with a ``message``
fragment, and NO ``[DONE]``: the event carrying ``stop_reason`` (and ``tokens``) is the last.

Tokens come from the realm's IDM (``options.auth_url``) for the client id (``options.client_id_env``), the
provider's key as client secret and the realm (``options.realm_env``); ``pepperpy._oauth`` fetches and caches them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .. import errors
from ..http._targets import name_problem, path_segment
from ..http.transport import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, Request
from ..types import Chunk, Completion, ModelSpec, ProviderSpec, Usage
from ._grant import TokenGrant
from .base import (
    Dialect,
    Lookup,
    Message,
    StreamParser,
    completion,
    decode_json,
    normalize_finish,
    raise_error_event,
    text_of,
)
from .openai import parse_usage as openai_usage

__all__ = [
    "DEFAULT_AUTH_URL", "DIALECT", "PLACEHOLDER_AGENT", "REFUSED_PARAMS", "StackSpotDialect", "StackSpotStreamParser",
    "no_agent_id", "parse_tokens", "user_prompt"
]

DEFAULT_AUTH_URL = "https://idm.stackspot.com/{realm}/oidc/oauth/token"
# Set on the agent, never per request: refused before any request so a setting is not silently ignored.
REFUSED_PARAMS = frozenset({"temperature", "top_p", "top_k", "max_tokens", "stop", "seed", "presence_penalty",
                            "frequency_penalty", "response_format", "tools", "tool_choice"})

PLACEHOLDER_AGENT = "agent"  # the catalog's stand-in entry, which gives agents their limits: no agent has this id


def no_agent_id(provider: str, given: str | None = None) -> errors.ConfigurationError:
    """The error of a StackSpot call that names no agent: the model IS the agent's id."""
    what = f"model={given!r} is not an agent id" if given else "no agent id was given"
    return errors.ConfigurationError(
        f"{provider} calls an agent, and the model is the agent's id: {what}. Pass "
        f"model='{provider}/<agent id>' (create_provider({provider!r}, model='<agent id>') in the seed API), with the "
        f"id the StackSpot AI portal shows for the agent (its model, prompt and temperature are set on the agent)")


def _given(options: Mapping[str, Any], name: str) -> str | None:
    value = options.get(name)
    return str(value) if value not in (None, "") else None


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
    params = REFUSED_PARAMS | {"conversation_id", "stackspot_knowledge", "return_ks_in_response", "upload_ids",
                               "use_conversation"}
    supports_embeddings = False
    supports_tools = False  # an agent's tools are configured on the agent, not sent per call
    structured_output = "prompt"  # no JSON mode on the wire: the schema travels in the prompt

    def token_grant(self, provider: ProviderSpec, key: str | None, lookup: Lookup,
                    base_url: str) -> TokenGrant | None:
        options = provider.options
        id_vars = list(options.get("client_id_env") or ["STACKSPOT_CLIENT_ID"])
        realm_vars = list(options.get("realm_env") or ["STACKSPOT_REALM"])
        secret_vars = list(provider.key_vars)
        # code first (create_provider's extra_config / keywords, Client(providers=) options), then the variables,
        # .env, the keyring and the user configuration file (lookup, in that order)
        client_id = _given(options, "client_id") or lookup(id_vars, "client_id")
        realm = _given(options, "realm") or lookup(realm_vars, "realm")
        if not (client_id and realm and key):
            wanted = ((id_vars, client_id), (secret_vars, key), (realm_vars, realm))
            missing = "; ".join(" or ".join(names) for names, value in wanted if not value)
            raise errors.ConfigurationError(
                f"provider {provider.name!r} authenticates with StackSpot client credentials: it needs "
                f"{id_vars[0]}, {secret_vars[-1]} and {realm_vars[0]} in the environment or a .env file (create "
                f"the credentials in the StackSpot portal); missing: {missing}. The client id and realm may also "
                f"be given in code (create_provider({provider.name!r}, api_key=..., extra_config={{'client_id': "
                f"..., 'realm': ...}})) or stored with `pepperpy keys set {provider.name} -p client_id ID -p "
                f"realm REALM`")
        template = lookup([provider.env_prefix + "AUTH_URL"]) or options.get("auth_url") or DEFAULT_AUTH_URL
        problem = name_problem(realm)
        if problem is not None:  # the realm is a path segment of the token URL, which receives the secret
            raise errors.ConfigurationError(f"the StackSpot realm {realm!r} (from {' or '.join(realm_vars)}) "
                                            f"{problem}; set it to the realm name the StackSpot portal shows")
        url = str(template).replace("{realm}", quote(realm, safe=""))
        if url.startswith("/"):  # relative to the provider's base URL (gateways that proxy the IDM)
            url = base_url + url
        seconds = provider.timeout or DEFAULT_TIMEOUT
        hint = (f"the client id (in code, or {' or '.join(id_vars)}), the secret in {' or '.join(secret_vars)} and "
                f"the realm {realm!r}")
        return TokenGrant(url, client_id, key, hint=hint, timeout=(min(DEFAULT_CONNECT_TIMEOUT, seconds), seconds))

    def build_chat(self, provider: ProviderSpec, model: ModelSpec, messages: Sequence[Message],
                   params: Mapping[str, Any], *, stream: bool) -> Request:
        if model.id == PLACEHOLDER_AGENT and not model.open:
            raise no_agent_id(provider.name)
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
        agent = path_segment(model.wire_name, what="StackSpot agent id", shown=model.name,
                             fix="call an agent as stackspot/<agent id>, with the id the StackSpot portal shows")
        return Request("POST", f"/v1/agent/{agent}/chat", json=body, stream=stream)

    def parse_chat(self, payload: Any, model: ModelSpec) -> Completion:
        if _is_error(payload):
            raise_error_event(payload, model)
        return completion(model, text_of(payload.get("message")), payload.get("stop_reason") or "stop",
                          parse_tokens(payload.get("tokens")) or Usage(), payload,
                          request_id=payload.get("message_id"))

    def stream_parser(self, model: ModelSpec) -> StreamParser:
        return StackSpotStreamParser(model)


DIALECT = StackSpotDialect()
