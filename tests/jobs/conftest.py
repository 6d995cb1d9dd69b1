"""Fixtures of the job tests: a fake clock, and a Client on the loopback fake server that sleeps on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.jobs.helpers import FakeClock, job_client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(server: FakeProviderServer, clock: FakeClock) -> Iterator[pepperpy.Client]:
    policy = pepperpy.RetryPolicy(max_retries=2, sleep=clock.sleep, clock=clock)
    with job_client(server, retry_policy=policy) as c:
        yield c
