"""Instructions per cache hit, counted by valgrind's callgrind: a figure the machine's load does not move.

    python bench/instructions.py [PYTHONPATH]   # e.g. a worktree of an older commit, to compare

Two runs of the same script (100 and 1,100 hits after a warm-up), each under callgrind; the difference over
1,000 is one hit's cost, start-up and warm-up cancelled. Needs valgrind (``apt-get install valgrind``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

SCRIPT = """
import os
import pepperpy
from pepperpy.testing import FakeProviderServer
server = FakeProviderServer()
server.start()
client = pepperpy.Client(providers={"openai": {"base_url": server.url + "/v1"}}, api_keys={"openai": "sk-bench"},
                         env_file=None, cache=True)
for _ in range(50 + int(os.environ["HITS"])):
    client.complete("hi", model="gpt-4o-mini")
os._exit(0)
"""


def instructions(hits: int, path: str | None) -> int:
    env = {**os.environ, "HITS": str(hits)}
    if path:
        env["PYTHONPATH"] = path
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", sys.executable,
                              "-c", SCRIPT], env=env, cwd=tmp, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no total:\n{run.stderr[-2000:]}")
    return int(found.group(1))


def per_hit(path: str | None = None) -> int:
    return (instructions(1100, path) - instructions(100, path)) // 1000


def main() -> int:
    if shutil.which("valgrind") is None:
        print("bench/instructions.py needs valgrind (apt-get install valgrind)")
        return 1
    path = sys.argv[1] if len(sys.argv) > 1 else None
    print(f"cache hit: {per_hit(path):,} instructions{f' ({path})' if path else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
