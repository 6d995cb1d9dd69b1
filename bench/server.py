"""The benchmark's provider: pepperpy's loopback FakeProviderServer in its own process.

Prints its base URL on stdout, then serves until stdin closes.
"""

from __future__ import annotations

import sys

from pepperpy.testing import FakeProviderServer


def main() -> None:
    with FakeProviderServer() as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
