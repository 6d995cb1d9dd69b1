"""A Client's way into realtime sessions (``client.realtime`` / ``client.arealtime``): ``Sessions``, made on
first use so that a Client that never opens one never imports this area."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._async import AsyncRealtimeSession
from ._plan import Plan, plan
from ._session import RealtimeSession

if TYPE_CHECKING:
    from ..config import Settings
    from ..pipeline._blocking import Pipeline
    from ..pipeline._bridge import Submit

__all__ = ["Sessions"]


class Sessions:
    """One Client's realtime sessions: the model checked by ``resolve`` (the Client's ``Preparer.media_model``),
    its credentials and transport seam (``adapter``, read when a session opens: ``use_transport`` may change it),
    opened through the Client's pipeline; the async twin's blocking steps run in ``submit``'s workers."""

    def __init__(self, resolve: Any, settings: Settings, adapter: Any, pipeline: Pipeline, submit: Submit) -> None:
        self.resolve = resolve
        self.settings = settings
        self.adapter = adapter
        self.pipeline = pipeline
        self.submit = submit

    def plan(self, model: str, method: str, **arguments: Any) -> Plan:
        provider, spec, runtime = self.resolve(model, "realtime", method)
        return plan(provider, spec, runtime, self.settings, self.adapter(), **arguments)

    def open(self, model: str, **arguments: Any) -> RealtimeSession:
        """``client.realtime``: a session connected now."""
        return RealtimeSession.open(self.plan(model, "realtime", **arguments), self.pipeline)

    def open_async(self, model: str, **arguments: Any) -> AsyncRealtimeSession:
        """``client.arealtime``: the arguments checked now, connected by ``async with`` (or ``await``)."""
        return AsyncRealtimeSession(self.plan(model, "arealtime", **arguments), self.pipeline, self.submit)
