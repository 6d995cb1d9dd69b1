"""pepperpy: one blocking interface to many LLM providers, driven by a YAML catalog.

>>> import pepperpy
>>> r = pepperpy.complete("Explain quantum computing", model="gpt-4o-mini")   # doctest: +SKIP
>>> print(r.text, r.usage.total_tokens, r.cost)                              # doctest: +SKIP
"""

from typing import TYPE_CHECKING, Any

from ._moved import MOVED, install
from ._version import __version__
from .errors import (
    AuthenticationError,
    BridgeTimeoutError,
    BudgetExceededError,
    CatalogError,
    CircuitOpenError,
    ConfigurationError,
    ContextLengthError,
    InvalidRequestError,
    JobError,
    JobTimeoutError,
    MaxTurnsError,
    ModelNotFoundError,
    ModelRetiredError,
    PepperpyError,
    ProviderAPIError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
    StructuredOutputError,
    ValidationError,
)

install()  # old module paths (pepperpy.transport, pepperpy.budget ...) keep working; see pepperpy/_moved.py

if TYPE_CHECKING:
    from .api import (
        complete,
        default_client,
        embed,
        generate_image,
        reset_default_client,
        stream,
        synthesize,
        transcribe,
    )
    from .client import Client
    from .client._catalog_sync import CatalogDiff, ModelChange
    from .dialects.base import register_dialect
    from .jobs import BatchJob, JobStatus, VideoJob
    from .media import AudioStream, Image, Images, Segment, Speech, Transcription, TranscriptionStream, Video
    from .observe.budget import Budget
    from .realtime import AsyncRealtimeSession, RealtimeReply, RealtimeSession
    from .resilience import BreakerConfig, CacheConfig, RetryPolicy
    from .tools import tool_result
    from .types import (
        Chunk,
        Completion,
        Embeddings,
        ModelSpec,
        ProviderSpec,
        Stream,
        TokenCount,
        ToolCall,
        ToolStep,
        Usage,
    )

# The client side (requests, urllib3, the dataclasses) loads on first use, so `import pepperpy` stays cheap
# for programs that only touch it sometimes, such as a CLI or a Django app at startup.
_LAZY = {
    "Budget": "observe.budget", "Client": "client", "RetryPolicy": "resilience", "BreakerConfig": "resilience",
    "CatalogDiff": "client._catalog_sync", "ModelChange": "client._catalog_sync",
    "CacheConfig": "resilience",
    "complete": "api", "default_client": "api", "embed": "api", "reset_default_client": "api", "stream": "api",
    "Chunk": "types", "Completion": "types", "Embeddings": "types", "ModelSpec": "types", "ProviderSpec": "types",
    "Stream": "types", "TokenCount": "types", "ToolCall": "types", "ToolStep": "types", "Usage": "types",
    "tool_result": "tools", "BatchJob": "jobs", "JobStatus": "jobs", "Video": "media", "VideoJob": "jobs",
    "generate_image": "api", "synthesize": "api", "transcribe": "api", "register_dialect": "dialects.base",
    "AudioStream": "media", "Image": "media", "Images": "media", "Segment": "media", "Speech": "media",
    "Transcription": "media", "TranscriptionStream": "media",
    "AsyncRealtimeSession": "realtime", "RealtimeReply": "realtime", "RealtimeSession": "realtime",
}


# `pepperpy.aio.create_provider(...)` after a bare `import pepperpy`: the public packages and modules, and the old
# paths of those that moved (pepperpy._moved)
_SUBMODULES = frozenset({"aio", "api", "catalog", "cli", "client", "config", "dialects", "errors", "http", "jobs",
                         "media", "observe", "pipeline", "providers", "realtime", "resilience", "shared", "testing",
                         "tools", "types", "web"}) | {name.rpartition(".")[2] for name in MOVED}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module(f"pepperpy.{name}")
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'pepperpy' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pepperpy.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))



__all__ = [
    "AsyncRealtimeSession",
    "AudioStream",
    "AuthenticationError",
    "BatchJob",
    "BreakerConfig",
    "BridgeTimeoutError",
    "Budget",
    "BudgetExceededError",
    "CacheConfig",
    "CatalogDiff",
    "CatalogError",
    "Chunk",
    "CircuitOpenError",
    "Client",
    "Completion",
    "ConfigurationError",
    "ContextLengthError",
    "Embeddings",
    "Image",
    "Images",
    "InvalidRequestError",
    "JobError",
    "JobStatus",
    "JobTimeoutError",
    "MaxTurnsError",
    "ModelChange",
    "ModelNotFoundError",
    "ModelRetiredError",
    "ModelSpec",
    "PepperpyError",
    "ProviderAPIError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderRateLimitError",
    "ProviderSpec",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "RateLimitError",
    "RealtimeReply",
    "RealtimeSession",
    "RetryPolicy",
    "Segment",
    "Speech",
    "Stream",
    "StreamError",
    "StructuredOutputError",
    "TokenCount",
    "ToolCall",
    "ToolStep",
    "Transcription",
    "TranscriptionStream",
    "Usage",
    "ValidationError",
    "Video",
    "VideoJob",
    "__version__",
    "complete",
    "default_client",
    "embed",
    "generate_image",
    "register_dialect",
    "reset_default_client",
    "stream",
    "synthesize",
    "tool_result",
    "transcribe",
]
