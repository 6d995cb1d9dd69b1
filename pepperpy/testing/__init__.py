"""Test helpers for pepperpy users and contributors: an offline fake provider server.

``FakeProviderServer`` speaks the OpenAI, Anthropic, Gemini, Ollama and StackSpot wire formats
on a loopback port, so clients can be tested with real HTTP, streams, faults and concurrency,
without network or keys. Only the standard library is imported.

>>> from pepperpy.testing import FakeProviderServer, Fault, Reply
>>> with FakeProviderServer() as server:
...     _ = server.reply(Reply(chunks=["Hel", "lo"]))
...     server.fail(429, headers={"retry-after": "0"})
...     server.fault(Fault.hang(0.1))
...     server.pending
3
"""

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

__all__ = [
    "DEFAULT_EMBEDDING_DIMENSIONS",
    "DEFAULT_HANG_SECONDS",
    "DEFAULT_MODELS",
    "DEFAULT_TOKEN_TTL",
    "FakeProviderServer",
    "Fault",
    "FaultKind",
    "RecordedRequest",
    "Reply",
    "embedding_vector",
]
