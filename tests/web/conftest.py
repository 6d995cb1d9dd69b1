"""The example web apps (examples/), run by their frameworks' test clients against the loopback server."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pepperpy.testing import FakeProviderServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


@pytest.fixture
def client_options(local_catalog: Path) -> dict[str, Any]:
    """What the apps pass to pepperpy.Client: the loopback catalog, short timeouts, no retries."""
    return {"catalog": str(local_catalog), "env_file": None, "timeout": (2.0, 0.5), "max_retries": 0,
            "pool_maxsize": 16}


def _established_to(port: int) -> int:
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                rows = [line.split() for line in list(f)[1:]]
        except FileNotFoundError:
            continue
        count += sum(1 for row in rows if row[3] == "01" and int(row[2].rsplit(":", 1)[1], 16) == port)
    return count


@pytest.fixture
def upstream_connections(server: FakeProviderServer) -> Callable[[float], int]:
    """``upstream_connections(wait)``: ESTABLISHED connections to the provider server, after waiting up to
    ``wait`` seconds for them to drop to zero (Linux /proc)."""
    if sys.platform != "linux":
        pytest.skip("reads /proc/net/tcp")

    def count(wait: float = 0.0) -> int:
        deadline = time.monotonic() + wait
        while _established_to(server.port) and time.monotonic() < deadline:
            time.sleep(0.01)
        return _established_to(server.port)

    return count

