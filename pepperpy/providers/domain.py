"""The seed API's error names (``from pepperpy.providers.domain import ProviderError, ...``)."""

from ..errors import (
    AuthenticationError,
    ProviderAPIError,
    ProviderError,
    ProviderRateLimitError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)

__all__ = [
    "AuthenticationError", "ProviderAPIError", "ProviderError", "ProviderRateLimitError", "ProviderTimeoutError",
    "ProviderUnavailableError",
]
