"""``client.count_tokens``: the provider's counting endpoint where its dialect has one, else the estimate.

The counting requests go straight through the provider's Transport (its credentials, pool and error
translation), not the call pipeline: they are not cached, retried, rate limited or audited, and cost nothing
at the providers that offer them. A count may take two requests (llama.cpp renders the chat template, then
tokenizes it): the dialect's ``parse_count`` then returns the next request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import errors
from ..catalog.tokens import estimate_tokens
from ..http.transport import Request
from ..pipeline import _decode
from ..pipeline._runtimes import Runtime
from ..types import ModelSpec, ProviderSpec, TokenCount

__all__ = ["count_tokens"]

_MAX_STEPS = 3


def count_tokens(runtime: Runtime, provider: ProviderSpec, model: ModelSpec, messages: Sequence[dict[str, Any]],
                 params: Mapping[str, Any]) -> TokenCount:
    """The prompt's token count: ``exact`` from the provider's endpoint, else pepperpy's estimate."""
    dialect, transport = runtime.dialect, runtime.transport
    request: int | Request | None = dialect.build_count(provider, model, list(messages), params, transport.base_url)
    if request is None:
        schema = params.get("response_format")
        return TokenCount(estimate_tokens(messages, tools=params.get("tools"), schema=schema), exact=False)
    for _ in range(_MAX_STEPS):
        if not isinstance(request, Request):
            break
        sent = request
        response = transport.send(sent, model=model.id)
        payload = _decode.json_body(transport, response, model)
        try:
            request = dialect.parse_count(payload, model, transport.base_url)
        except _decode.SHAPE_ERRORS as exc:
            raise errors.ProviderAPIError(
                f"{provider.name} answered its token-counting request ({sent.path}) in a shape the "
                f"{dialect.name} dialect does not know ({type(exc).__name__}: {exc})", provider=provider.name,
                model=model.id, status_code=response.status_code) from exc
    if not isinstance(request, int):
        raise errors.ProviderAPIError(f"{provider.name} did not finish counting tokens in {_MAX_STEPS} requests",
                                      provider=provider.name, model=model.id)
    return TokenCount(request, exact=True)
