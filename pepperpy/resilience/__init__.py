"""What keeps calls alive when providers fail: the retry policy (``retry``), circuit breakers (``breaker``), the
client-side rate limiter (``limiter``) and the response cache (``cache``), each one process's; their Redis
twins are in ``pepperpy.shared``.

Uses ``http`` (cancel scopes, the request a cache key is made from) and the base modules.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy
from .retry import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_JITTER,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_WAIT,
    RETRY_STATUSES,
    RetryPolicy,
    is_server_failure,
)

if TYPE_CHECKING:
    from ._breaker_stats import BreakerStats
    from .breaker import (
        DEFAULT_FAIL_MAX,
        DEFAULT_RESET_TIMEOUT,
        HALF_OPEN_RETRY_AFTER,
        BreakerConfig,
        ProviderBreaker,
    )
    from .cache import CacheConfig, CacheInfo

__all__ = [
    "DEFAULT_BACKOFF_BASE", "DEFAULT_BACKOFF_MAX", "DEFAULT_FAIL_MAX", "DEFAULT_JITTER", "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_WAIT", "DEFAULT_RESET_TIMEOUT", "HALF_OPEN_RETRY_AFTER", "RETRY_STATUSES", "BreakerConfig",
    "BreakerStats", "CacheConfig", "CacheInfo", "ProviderBreaker", "RetryPolicy", "is_server_failure",
]


# the breaker (pybreaker) and the response cache (pickle, hmac) load when first used
__getattr__, __dir__ = lazy(__name__, {
    **dict.fromkeys(("DEFAULT_FAIL_MAX", "DEFAULT_RESET_TIMEOUT", "HALF_OPEN_RETRY_AFTER", "BreakerConfig",
                     "ProviderBreaker"), "breaker"),
    "BreakerStats": "_breaker_stats",
    "CacheConfig": "cache", "CacheInfo": "cache"})
