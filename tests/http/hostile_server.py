"""Loopback servers that misbehave on purpose, for both HTTP roads: each connection runs a behaviour (a plain
function over a ``Peer``) in its own thread, on a raw socket, so a test can send any bytes at any pace, read
slowly or never, answer early and close. Everything a server received is recorded."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any


class Peer:
    """One accepted connection, as a behaviour sees it."""

    def __init__(self, server: HostileServer, sock: socket.socket) -> None:
        self.server, self.sock, self.buffer = server, sock, b""

    def read_request(self, *, body: bool = True) -> bytes | None:
        """The next request's head (and its Content-Length body unless ``body=False``), recorded in
        ``server.requests``; None when the client closed first."""
        while b"\r\n\r\n" not in self.buffer:
            data = self._recv()
            if not data:
                return None
            self.buffer += data
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if body:
            while len(self.buffer) < length:
                data = self._recv()
                if not data:
                    return None
                self.buffer += data
            self.buffer = self.buffer[length:]
        with self.server.lock:
            self.server.requests.append(head)
        return head

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def drip(self, data: bytes, every: float) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart, until done or the client goes."""
        for i in range(len(data)):
            try:
                self.sock.sendall(data[i:i + 1])
            except OSError:
                return
            time.sleep(every)

    def hold(self, seconds: float = 30.0) -> None:
        """Read nothing, answer nothing, until the client closes (or the server does)."""
        self.server.stopped.wait(seconds)

    def _recv(self) -> bytes:
        try:
            return self.sock.recv(65536)
        except OSError:
            return b""


class HostileServer:
    """Runs ``behaviour(peer)`` for each connection; ``tls``: a server-side SSL context (https)."""

    def __init__(self, behaviour: Callable[[Peer], Any], *, tls: ssl.SSLContext | None = None,
                 receive_buffer: int | None = None) -> None:
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.tls = tls
        self.sock = socket.create_server(("127.0.0.1", 0))
        if receive_buffer is not None:  # inherited by accepted sockets: a small window fills fast
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.port = int(self.sock.getsockname()[1])
        host = "localhost" if tls is not None else "127.0.0.1"
        self.url = f"{'https' if tls is not None else 'http'}://{host}:{self.port}"
        self._live: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self._live.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            self.behaviour(Peer(self, sock))
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()
        with self.lock:
            live = list(self._live)
        for sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def chat(text: str) -> bytes:
    """An OpenAI chat completion body saying ``text``."""
    return json.dumps({"id": "c1", "object": "chat.completion", "model": "local-chat", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()


def answer(body: bytes, *, status: bytes = b"200 OK", headers: bytes = b"") -> bytes:
    """A whole HTTP/1.1 answer with a Content-Length (``headers``: more lines, each ending in CRLF)."""
    return (b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n" + headers
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)
