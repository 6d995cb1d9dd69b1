"""A real redis-server for the tests: a free loopback port, no persistence, stopped at the end.

Not a mock and not fakeredis: the shared state is Lua scripts and timeouts, which only the real server runs.
``make test`` installs redis-server when it is missing; without it (or without the ``redis`` client library)
the tests that need it fail with a message saying how to get it, they are never skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

SERVER_ENV = "PEPPERPY_TEST_REDIS_SERVER"  # path of a redis-server binary, when it is not on PATH
HOW_TO_GET_IT = ("run `make test` (it installs redis-server: apt-get install -y redis-server as root), or install "
                 f"redis-server yourself, or point {SERVER_ENV} at its binary")


TIMEOUT = 2.0  # seconds per Redis operation in the tests: this 2-core machine may be busy with other suites, and
               # an operation that times out sends its caller to local state (only the fault tests want that)
PATIENT = f"?socket_timeout={TIMEOUT:g}&socket_connect_timeout={TIMEOUT:g}"  # the same, in a URL


def find_binary() -> str:
    """The redis-server binary, or a test failure saying how to get one."""
    for candidate in (os.environ.get(SERVER_ENV), shutil.which("redis-server"), "/usr/bin/redis-server",
                      "/usr/sbin/redis-server", "/usr/local/bin/redis-server"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"these tests need a real redis-server and none was found: {HOW_TO_GET_IT}", pytrace=False)


def require_client_library() -> None:
    try:
        import redis  # noqa: F401
    except ImportError:
        pytest.fail('these tests need the redis client library: pip install -e ".[dev]" (it includes the redis '
                    'extra), or run `make test`', pytrace=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One redis-server process on 127.0.0.1; ``kill()``, ``restart()``, ``pause()`` and ``resume()`` for faults."""

    def __init__(self, workdir: Path, password: str | None = None) -> None:
        self.binary = find_binary()
        self.workdir = workdir
        self.password = password
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @property
    def patient_url(self) -> str:
        """``url`` with ``TIMEOUT`` for the socket operations (the Client's default is 50 ms)."""
        return self.url + PATIENT

    def start(self) -> RedisServer:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.workdir), "--daemonize", "no", "--loglevel", "warning", "--databases", "2"]
        if self.password:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10.0
        while not self.ping():
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                pytest.fail(f"redis-server exited at start ({self.process.returncode}): {err[-500:]}", pytrace=False)
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"redis-server did not answer on port {self.port} within 10 s", pytrace=False)
            time.sleep(0.01)
        return self

    def ping(self) -> bool:
        """Whether the server answers PING (a raw socket: works without the client library)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                reply = s.recv(64)
        except OSError:
            return False
        return reply.startswith((b"+PONG", b"-NOAUTH"))

    def kill(self) -> None:
        """SIGKILL, as a crashed server: nothing is flushed, connections are cut."""
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.process.kill()
            self.process.wait(5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()

    def restart(self) -> RedisServer:
        """Start again on the same port, empty (no persistence)."""
        self.stop()
        return self.start()

    def pause(self) -> None:
        """SIGSTOP: the server keeps its port open but answers nothing (a slow or hung Redis)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
