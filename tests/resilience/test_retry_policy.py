"""RetryPolicy as a plain value: which failures it retries, how long it waits, how Client options combine."""

from __future__ import annotations

from typing import Any

import pytest

import pepperpy
from pepperpy import errors
from pepperpy.resilience.retry import RETRY_STATUSES, RetryPolicy


def err(cls: type[errors.ProviderError], status: int | None = None, **kw: Any) -> errors.ProviderError:
    return cls("x", provider="p", status_code=status, **kw)


def test_defaults_match_the_official_sdks() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.backoff_base, policy.backoff_max, policy.jitter, policy.max_retry_wait) == (
        2, 0.5, 8.0, 0.25, 60.0)
    assert frozenset({408, 409, 429, 500, 502, 503, 504, 529}) == RETRY_STATUSES
    assert policy.total_timeout is None


def test_backoff_doubles_caps_and_jitters_down() -> None:
    exact = RetryPolicy(random=lambda: 0.0)
    assert [exact.backoff(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert RetryPolicy(random=lambda: 1.0).backoff(0) == pytest.approx(0.375)  # at most 25 % shorter


@pytest.mark.parametrize("exc, retried", [
    (err(errors.ProviderUnavailableError, 500), True),
    (err(errors.ProviderUnavailableError, 529), True),
    (err(errors.ProviderUnavailableError, 501), False),
    (err(errors.RateLimitError, 429), True),
    (err(errors.RateLimitError, 429, retryable=False), False),   # insufficient_quota
    (err(errors.ProviderTimeoutError, 408), True),
    (err(errors.InvalidRequestError, 409, retryable=True), True),
    (err(errors.InvalidRequestError, 400), False),
    (err(errors.AuthenticationError, 401), False),
    (err(errors.ContextLengthError, 400), False),
    (err(errors.ProviderTimeoutError), True),
    (err(errors.ProviderConnectionError), True),
    (err(errors.ProviderConnectionError, retryable=False), False),  # TLS: retrying will not help
    (err(errors.StreamError), False),
    (err(errors.CircuitOpenError), False),
    (err(errors.RateLimitError), False),  # the client-side limiter's: no HTTP status, never retried
])
def test_should_retry(exc: errors.ProviderError, retried: bool) -> None:
    assert RetryPolicy().should_retry(exc) is retried


def test_wait_before_retry_honours_retry_after_within_the_bound() -> None:
    policy = RetryPolicy(random=lambda: 0.0, max_retry_wait=30)
    assert policy.wait_before_retry(err(errors.RateLimitError, 429, retry_after=12.0), 0) == 12.0
    assert policy.wait_before_retry(err(errors.RateLimitError, 429, retry_after=0.0), 0) == 0.0
    assert policy.wait_before_retry(err(errors.RateLimitError, 429, retry_after=31.0), 0) is None
    assert policy.wait_before_retry(err(errors.ProviderUnavailableError, 503), 1) == 1.0
    assert policy.wait_before_retry(err(errors.ProviderUnavailableError, 503), 2) is None  # out of retries


def test_bad_policies_are_configuration_errors() -> None:
    for kw in ({"max_retries": -1}, {"jitter": 2}, {"backoff_base": -1}, {"total_timeout": 0}):
        with pytest.raises(pepperpy.ConfigurationError):
            RetryPolicy(**kw)


def test_an_explicit_policy_is_never_overridden(local_catalog: Any) -> None:
    policy = RetryPolicy(max_retries=5, total_timeout=30)
    with pepperpy.Client(catalog=local_catalog, env_file=None, retry_policy=policy) as client:
        assert client.retry_policy is policy and client.max_retries == 5
        assert (client.retry_policy.max_retries, client.retry_policy.total_timeout) == (5, 30)
    with pepperpy.Client(catalog=local_catalog, env_file=None, max_retries=1, max_retry_wait=5,
                         total_timeout=30) as client:
        effective = client.retry_policy
    assert (effective.max_retries, effective.max_retry_wait, effective.total_timeout) == (1, 5, 30)
    assert effective.backoff_max == RetryPolicy().backoff_max


def test_a_setting_said_twice_is_an_error_naming_it(local_catalog: Any) -> None:
    policy = RetryPolicy(max_retries=9, backoff_max=1.0)
    with pytest.raises(pepperpy.ConfigurationError, match=r"max_retries=1.*retry_policy=.*RetryPolicy\(max_ret"):
        pepperpy.Client(catalog=local_catalog, env_file=None, retry_policy=policy, max_retries=1)
    with pytest.raises(pepperpy.ConfigurationError, match="total_timeout=30"):
        pepperpy.Client(catalog=local_catalog, env_file=None, retry_policy=policy, total_timeout=30)
    with pytest.raises(pepperpy.ConfigurationError, match=r"retry_policy takes a pepperpy\.RetryPolicy"):
        pepperpy.Client(catalog=local_catalog, env_file=None, retry_policy={"max_retries": 1})  # type: ignore[arg-type]
    with pytest.raises(pepperpy.ConfigurationError):
        pepperpy.Client(catalog=local_catalog, env_file=None, max_retries=-1)
