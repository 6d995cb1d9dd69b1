"""Helpers for the async tests: observe sockets and file descriptors from outside pepperpy."""

from __future__ import annotations

import os
import sys

import pytest

ESTABLISHED = "01"


def established_to(port: int) -> int:
    """Client-side TCP connections to ``port`` on loopback that are still ESTABLISHED (Linux /proc)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f)
                for line in f:
                    fields = line.split()
                    remote, state = fields[2], fields[3]
                    if state == ESTABLISHED and int(remote.rsplit(":", 1)[1], 16) == port:
                        count += 1
        except FileNotFoundError:
            continue
    return count


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


linux_only = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
