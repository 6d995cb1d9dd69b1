"""Test helpers for pepperpy users and contributors: an offline fake provider server, and an in-process fake.

``FakeProviderServer`` speaks the OpenAI, Anthropic, Gemini, Ollama and StackSpot wire formats
on a loopback port, so clients can be tested with real HTTP, streams, faults and concurrency,
without network or keys. ``fake_providers(client)`` / ``FakeAdapter`` fake the same providers in-process,
at the requests adapter level, for fast unit tests (see ``pepperpy.testing.adapter``). ``FakeRealtimeServer``
speaks OpenAI's Realtime and Gemini's Live WebSocket sessions (``client.realtime``); the two other fakes hand
realtime sessions to one. Importing this package loads only the standard library; the adapter module (requests)
and websockets load on first use.

>>> from pepperpy.testing import FakeProviderServer, Fault, Reply
>>> with FakeProviderServer() as server:
...     _ = server.reply(Reply(chunks=["Hel", "lo"]))
...     server.fail(429, headers={"retry-after": "0"})
...     server.fault(Fault.hang(0.1))
...     server.pending
3
"""

from typing import TYPE_CHECKING, Any

from pepperpy.testing._realtime import FakeRealtimeServer, RecordedSession
from pepperpy.testing._realtime_wire import RealtimeAnswer
from pepperpy.testing._script import (
    DEFAULT_EMBEDDING_DIMENSIONS,
    DEFAULT_HANG_SECONDS,
    Fault,
    FaultKind,
    RecordedRequest,
    Reply,
    embedding_vector,
)
from pepperpy.testing.server import DEFAULT_MODELS, DEFAULT_TOKEN_TTL, FakeProviderServer

if TYPE_CHECKING:
    from pepperpy.testing.adapter import FAKE_API_KEY, FakeAdapter, fake_providers, server_environ

_ADAPTER_NAMES = frozenset({"FAKE_API_KEY", "FakeAdapter", "fake_providers", "server_environ"})

__all__ = [
    "DEFAULT_EMBEDDING_DIMENSIONS", "DEFAULT_HANG_SECONDS", "DEFAULT_MODELS", "DEFAULT_TOKEN_TTL", "FAKE_API_KEY",
    "FakeAdapter", "FakeProviderServer", "FakeRealtimeServer", "Fault", "FaultKind", "RealtimeAnswer",
    "RecordedRequest", "RecordedSession", "Reply", "embedding_vector", "fake_providers", "server_environ",
]


def __getattr__(name: str) -> Any:
    """Load the adapter helpers (and requests) only when a test asks for them."""
    if name in _ADAPTER_NAMES:
        from pepperpy.testing import adapter

        return getattr(adapter, name)
    raise AttributeError(f"module 'pepperpy.testing' has no attribute {name!r}")
