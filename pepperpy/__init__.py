"""pepperpy: one blocking interface to many LLM providers, driven by a YAML catalog.

>>> import pepperpy
>>> r = pepperpy.complete("Explain quantum computing", model="gpt-4o-mini")   # doctest: +SKIP
>>> print(r.text, r.usage.total_tokens, r.cost)                              # doctest: +SKIP
"""

from .api import complete, default_client, embed, reset_default_client, stream
from .client import Client
from .errors import (
    AuthenticationError,
    CatalogError,
    CircuitOpenError,
    ConfigurationError,
    ContextLengthError,
    InvalidRequestError,
    ModelNotFoundError,
    PepperpyError,
    ProviderAPIError,
    ProviderConnectionError,
    ProviderError,
    ProviderRateLimitError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
    StreamError,
    ValidationError,
)
from .types import Chunk, Completion, Embeddings, ModelSpec, ProviderSpec, Stream, ToolCall, Usage

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "CatalogError",
    "Chunk",
    "CircuitOpenError",
    "Client",
    "Completion",
    "ConfigurationError",
    "ContextLengthError",
    "Embeddings",
    "InvalidRequestError",
    "ModelNotFoundError",
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
    "Stream",
    "StreamError",
    "ToolCall",
    "Usage",
    "ValidationError",
    "__version__",
    "complete",
    "default_client",
    "embed",
    "reset_default_client",
    "stream",
]
