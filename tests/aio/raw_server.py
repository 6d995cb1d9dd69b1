"""A loopback HTTP/1.1 server that answers with scripted raw bytes: for what FakeProviderServer never sends
(a gzip body that is not gzip, a body cut short, HTTP/1.0, huge heads), to both transports alike."""

from __future__ import annotations

import json
import socket
import threading
import time


class RawServer:
    """Answers each request with the next of ``answers`` (bytes, sent as they are), counting connections.

    ``close_after_first``: close each connection after its first answer (after a short pause, so that the client
    keeps it as idle first). ``host``: ``"::1"`` listens on IPv6 loopback."""

    def __init__(self, answers: list[bytes], *, close_after_first: bool = False, host: str = "127.0.0.1") -> None:
        self.answers = answers
        self.connections = 0
        self.requests: list[bytes] = []
        self.close_after_first = close_after_first
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.create_server((host, 0), family=family)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{self.port}/v1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        with conn:
            while self.answers:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length:")))
                while len(rest) < length:
                    rest += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + rest[:length])
                data = rest[length:]
                conn.sendall(self.answers.pop(0))
                if self.close_after_first:
                    time.sleep(0.05)
                    return  # closes a connection the client keeps as idle

    def head_of(self, index: int) -> dict[str, str]:
        """The headers of request ``index``, with lower-case names."""
        lines = self.requests[index].split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]
        return {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}

    def close(self) -> None:
        self.sock.close()


def chat_answer(text: str) -> bytes:
    return json.dumps({"id": "c1", "object": "chat.completion", "model": "local-chat", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()


def answer(body: bytes, *, status: bytes = b"200 OK", headers: bytes = b"", version: bytes = b"HTTP/1.1") -> bytes:
    """A whole answer with a Content-Length (``headers``: more header lines, each ending in CRLF)."""
    return (version + b" " + status + b"\r\nContent-Type: application/json\r\n" + headers
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)
