"""From ``client.realtime(...)``'s arguments to a session ready to open: the arguments checked against the model's
catalog entry (what it answers in, its voices, its output cap), the wire format of its provider, and the
endpoint (address, headers with the key, proxy, CA bundle, timeouts), all before anything is sent.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from ..catalog.validation import check_choice, check_params
from ..errors import ValidationError
from ..http.transport import Request
from ..pipeline._call import Prepared
from ..tools import ToolSet
from ..types import ModelSpec, ProviderSpec
from . import _gemini, _openai
from ._config import OUTPUTS, SessionConfig
from ._link import Endpoint

if TYPE_CHECKING:
    from requests.adapters import BaseAdapter

    from ..config import Settings
    from ..pipeline._runtimes import Runtime

__all__ = ["Plan", "Wire", "audio_rates", "plan"]

Wire = _openai.OpenAIWire | _gemini.GeminiWire
_WIRES: dict[str, tuple[type[_openai.OpenAIWire] | type[_gemini.GeminiWire], frozenset[str], int]] = {
    "openai": (_openai.OpenAIWire, _openai.PARAMS, 24000),
    "gemini": (_gemini.GeminiWire, _gemini.PARAMS, 16000),
}
_TURN_DETECTION = ("server_vad", "semantic_vad")


@dataclass(frozen=True)
class Plan:
    """Everything a session needs to open, checked."""

    provider: ProviderSpec
    spec: ModelSpec
    config: SessionConfig
    wire: Wire
    endpoint: Endpoint
    prepared: Prepared  # for the pipeline: the runtime, the model, the address (the audit records' request)
    base_url: str


def plan(provider: ProviderSpec, spec: ModelSpec, runtime: Runtime, settings: Settings,
         adapter: BaseAdapter | None, *, instructions: str | None, output: str, voice: str | None,
         tools: Sequence[Any] | None, turn_detection: Any, params: Mapping[str, Any]) -> Plan:
    """Check a session's arguments (ValidationError naming the argument, before anything is sent) and work out
    where it connects. ``adapter`` is the Client's transport seam: a test adapter with ``realtime_base_url``
    (``pepperpy.testing.FakeAdapter``) sends the session to its fake realtime server."""
    known = _WIRES.get(provider.dialect)
    if known is None:
        raise ValidationError(f"{provider.name} ({provider.dialect} dialect) has no realtime API pepperpy speaks; "
                              f"realtime sessions go to OpenAI's Realtime API and Gemini's Live API",
                              param="model", value=spec.name)
    wire_type, wire_params, _ = known
    if output not in OUTPUTS:
        raise ValidationError(f"output={output!r}: use 'text' or 'audio'", param="output", value=output)
    if spec.outputs and output not in spec.outputs:
        raise ValidationError(f"{spec.name} answers in {' and '.join(spec.outputs)} only: open the session with "
                              f"output={spec.outputs[0]!r}" + (" (the reply's transcript is its text)"
                                                                 if output == "text" else ""),
                              param="output", value=output)
    if instructions is not None and not isinstance(instructions, str):
        raise ValidationError(f"instructions takes a string, not {type(instructions).__name__}",
                              param="instructions", value=type(instructions).__name__)
    if voice is not None and not isinstance(voice, str):
        raise ValidationError(f"voice takes a voice's name, not {type(voice).__name__}", param="voice")
    check_choice(spec, "voice", voice, spec.voices)
    _check_turn_detection(turn_detection, provider.dialect)
    extra = dict(params)
    if "max_output_tokens" in extra and "max_tokens" in extra:
        raise ValidationError("max_output_tokens and max_tokens say the same thing: keep one", param="max_tokens")
    extra["max_tokens"] = extra.pop("max_output_tokens", extra.get("max_tokens"))
    checked = check_params(spec, extra, wire_params | {"max_tokens"})
    cap = checked.pop("max_tokens", None)
    toolset = ToolSet.of([_chat_shaped(tool) for tool in tools]) if tools else None
    rates = audio_rates(spec, provider.dialect)
    config = SessionConfig(spec.wire_name, output, instructions, voice, toolset, turn_detection, cap, *rates, checked)
    wire = wire_type(config)
    redirect = getattr(adapter, "realtime_base_url", None)
    base_url = redirect(provider) if callable(redirect) else runtime.transport.base_url
    url = wire.url(base_url, spec.wire_name)
    transport = runtime.transport
    proxies = requests.utils.get_environ_proxies(base_url)
    verify = transport.session.verify
    endpoint = Endpoint(provider.name, spec.id, url,
                        runtime.dialect.headers(provider, settings.api_key(provider), settings.lookup),
                        requests.utils.select_proxy(base_url, proxies), verify if isinstance(verify, (bool, str))
                        else True, transport.secrets, transport.key_vars, transport.timeout)
    target = urllib.parse.urlsplit(url)
    prepared = Prepared(runtime, spec, Request("GET", target.path), content={"instructions": instructions})
    return Plan(provider, spec, config, wire, endpoint, prepared, base_url)


def audio_rates(spec: ModelSpec, dialect: str) -> tuple[int, int]:
    """The PCM16 sample rates (Hz) a realtime model takes and answers in: its catalog entry's, else its
    provider's (OpenAI 24 kHz both ways; Gemini 16 kHz in, 24 kHz out)."""
    default = _WIRES[dialect][2] if dialect in _WIRES else 24000
    return spec.input_audio_rate or default, spec.output_audio_rate or 24000


def _check_turn_detection(option: Any, dialect: str) -> None:
    if option is None or isinstance(option, Mapping):
        return
    if option == "semantic_vad" and dialect != "openai":
        raise ValidationError("turn_detection='semantic_vad' is OpenAI's; Gemini takes 'server_vad' or its "
                              "realtimeInputConfig as a dict", param="turn_detection", value=option)
    if option not in _TURN_DETECTION:
        raise ValidationError(f"turn_detection={option!r}: use None (pepperpy asks for each answer), 'server_vad' "
                              f"(the provider answers when the speaker pauses), or the provider's settings as a "
                              f"dict", param="turn_detection", value=option)


def _chat_shaped(tool: Any) -> Any:
    """A tool in the Realtime API's flat shape (``{"type": "function", "name": ...}``) as the chat shape
    ``ToolSet`` reads; functions and chat-shaped dicts pass as they are."""
    if isinstance(tool, Mapping) and tool.get("type") == "function" and "name" in tool and "function" not in tool:
        function = {key: tool[key] for key in ("name", "description", "parameters") if key in tool}
        return {"type": "function", "function": function}
    return tool
