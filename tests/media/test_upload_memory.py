"""A 20 MB audio upload streams from disk: the uploading process's peak RSS grows by far less than the file.

The client runs in a child process (the fake server, which keeps what it receives, stays in this one) and
reads its own peak RSS (``ru_maxrss``) before and after the upload, over a real loopback connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pepperpy.testing import FakeProviderServer

UPLOAD = 20 * 1024 * 1024
LIMIT = 30 * 1024 * 1024  # the bound for the growth of the peak RSS

CHILD = r"""
import resource, sys
import pepperpy

base_url, path = sys.argv[1], sys.argv[2]
client = pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-key-0000"},
                         providers={"openai": {"base_url": base_url}})
client.transcribe(b"ID3" + bytes(1000), model="gpt-transcribe")  # warm up: imports, catalog, connection
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = client.transcribe(path, model="gpt-transcribe")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before * 1024, after * 1024, result.text)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in kilobytes on Linux (bytes on macOS)")
def test_a_20_mb_upload_grows_peak_rss_by_far_less_than_the_file(server: FakeProviderServer, tmp_path: Path) -> None:
    path = tmp_path / "meeting.mp3"
    block = bytes(range(256)) * 4096  # 1 MiB, written 20 times: a real file, not a sparse one
    with path.open("wb") as out:
        out.write(b"ID3\x04\x00\x00\x00\x00\x00\x00")
        for _ in range(UPLOAD // len(block)):
            out.write(block)
    size = path.stat().st_size
    child = subprocess.run([sys.executable, "-c", CHILD, server.base_url("openai"), str(path)], capture_output=True,
                           text=True, timeout=120, env=dict(os.environ), check=False)
    assert child.returncode == 0, child.stderr
    before, after, text = child.stdout.split(" ", 2)
    growth = int(after) - int(before)
    print(f"\n20 MB upload: peak RSS {int(before) / 2**20:.1f} MB -> {int(after) / 2**20:.1f} MB "
          f"(+{growth / 2**20:.1f} MB for a {size / 2**20:.1f} MB file)")
    assert text.strip() == f"fake transcript of meeting.mp3 ({size:,} bytes)"
    assert server.requests[-1].files("file")[0].data[:3] == b"ID3" and len(server.requests[-1].body) > size
    assert growth < LIMIT
    assert growth < size // 2  # not even one copy of the file was held: it went out block by block
