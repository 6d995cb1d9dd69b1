"""Realtime voice sessions: OpenAI's Realtime API and Gemini's Live API over a WebSocket, blocking with an async twin.
Uses pipeline/, observe/, catalog/, tools/, dialects/, http/ and the values below (never the client); websockets lazily.
"""

from ._async import AsyncRealtimeSession
from ._events import (
    AudioDelta,
    ErrorEvent,
    Event,
    GoAway,
    ServerEvent,
    TextDelta,
    ToolCallEvent,
    TranscriptDelta,
    TurnDone,
)
from ._plan import Plan, audio_rates, plan
from ._reply import RealtimeReply
from ._session import RealtimeSession
from ._sessions import Sessions

__all__ = ["AsyncRealtimeSession", "AudioDelta", "ErrorEvent", "Event", "GoAway", "Plan", "RealtimeReply",
           "RealtimeSession", "ServerEvent", "Sessions", "TextDelta", "ToolCallEvent", "TranscriptDelta", "TurnDone",
           "audio_rates", "plan"]
