"""The HTTP side of FakeProviderServer: read a request, play the script, write the answer.

Non-stream answers carry Content-Length and keep the connection alive; streams use chunked
transfer encoding with one chunk written (and flushed) per event.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import sys
import traceback
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, cast

from pepperpy.testing._anthropic import ANTHROPIC
from pepperpy.testing._play import Fake, Outcome, json_outcome, play, read_request
from pepperpy.testing._routes import Route, bearer_token, key_rejection
from pepperpy.testing._script import RecordedRequest
from pepperpy.testing._stackspot import STACKSPOT


class FakeProviderServer(Fake, Protocol):
    """What the handler needs of its ``pepperpy.testing.FakeProviderServer`` (a Protocol: the server module
    imports this one, not the other way round)."""

    default_delay: float
    require_auth: bool
    api_key: str | None

    def _record(self, request: RecordedRequest) -> int: ...

    def _wait(self, seconds: float) -> bool: ...

    def _token_valid(self, token: str | None) -> bool: ...

    def _connected(self, connection: socket.socket) -> None: ...

    def _disconnected(self, connection: socket.socket) -> None: ...

    def _server_error(self, error: BaseException) -> None: ...

    @property
    def realtime(self) -> Any: ...


class HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that reports connections to its FakeProviderServer."""

    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 drops connections when many threads connect at once

    def __init__(self, address: tuple[str, int], fake: FakeProviderServer) -> None:
        self.fake = fake
        super().__init__(address, Handler)

    def server_bind(self) -> None:
        # http.server's version calls socket.getfqdn(), a DNS lookup that can stall for seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.fake._connected(request)
        super().process_request(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if _websocket_upgrade(request):  # a realtime session (client.realtime): the fake realtime server's
            self.fake.realtime.adopt(request, client_address)
            return
        super().finish_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.fake._disconnected(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (timeouts, RESET tests) are routine; anything else is a bug
        # in the fake server: printed, and kept on FakeProviderServer.errors for tests.
        error = sys.exc_info()[1]
        if error is not None and not isinstance(error, OSError):
            self.fake._server_error(error)
            traceback.print_exc()


def _websocket_upgrade(connection: socket.socket) -> bool:
    """Whether the request waiting on ``connection`` asks for a WebSocket (read without taking it off the socket,
    so that the WebSocket server reads it whole)."""
    import time

    deadline = time.monotonic() + 2.0
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536 and time.monotonic() < deadline:
        try:
            peeked = connection.recv(65536, socket.MSG_PEEK)
        except OSError:
            return False
        if not peeked or not peeked.startswith(b"GET"[:len(peeked)]):
            return False
        if peeked == head:
            time.sleep(0.005)
        head = peeked
    return head.startswith(b"GET ") and b"\r\nupgrade: websocket" in head.lower()


class Handler(BaseHTTPRequestHandler):
    """One connection; ``handle_one_request`` loops while the client keeps it alive."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # streams write many small chunks that must leave at once

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log lines."""

    @property
    def fake(self) -> FakeProviderServer:
        return cast(HTTPServer, self.server).fake

    def _serve(self) -> None:
        raw = self._read_body()
        port = self.client_address[1] if isinstance(self.client_address, tuple) else 0
        request, route, model = read_request(self.command, self.path, self.headers.items(), raw, port)
        serial = self.fake._record(request)
        if not self.fake._wait(self.fake.default_delay):
            self.close_connection = True  # the server is stopping
            return
        rejection = self._rejection(route, request.headers, request.query, f"req_{serial}")
        if rejection is not None:
            self._send(json_outcome(route, f"req_{serial}", *rejection))
        else:
            self._send(play(self.fake, route, request, model, serial))

    def _rejection(self, route: Route, headers: Mapping[str, str], query: Mapping[str, str],
                   request_id: str) -> tuple[int, Any] | None:
        fake = self.fake
        if route.dialect is ANTHROPIC and route.endpoint == "chat" and "anthropic-version" not in headers:
            return 400, ANTHROPIC.error_body(400, "anthropic-version: header is required", "", request_id)
        if route.dialect is STACKSPOT and route.endpoint == "chat":
            if fake._token_valid(bearer_token(headers)):
                return None
            return 401, STACKSPOT.error_body(401, None, route.model, request_id)
        if route.action == "storage":  # another host's signed URL: it takes no key (and refuses one, see _jobs)
            return None
        if fake.require_auth or fake.api_key is not None:
            return key_rejection(route.dialect, headers, query, fake.api_key, request_id)
        return None

    # -- writing -----------------------------------------------------------------------------

    def _send(self, outcome: Outcome) -> None:
        if not self.fake._wait(outcome.wait):
            self.close_connection = True  # the server is stopping
            return
        if outcome.reset:
            self._reset()
            return
        self.send_response(outcome.status)
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        if outcome.end == "closed":
            self.send_header("Connection", "close")  # a well-behaved server announces that it will close
        if outcome.stream:
            self.send_header("Transfer-Encoding", "chunked")
        elif not any(name.lower() == "content-length" for name in outcome.headers):  # a Failure may set its own
            self.send_header("Content-Length", str(outcome.length))
        self.end_headers()
        if outcome.end != "whole":
            self.close_connection = True
        if outcome.stream:
            self._write_chunks(outcome)
        else:
            self.wfile.write(b"".join(outcome.frames))
            self.wfile.flush()

    def _write_chunks(self, outcome: Outcome) -> None:
        for index, frame in enumerate(outcome.frames):
            if index and outcome.chunk_delay and not self.fake._wait(outcome.chunk_delay):
                self.close_connection = True
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
        if outcome.end != "broken":  # broken: no zero-length chunk, the body ends prematurely
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _reset(self) -> None:
        # SO_LINGER 0 turns close() into a TCP RST; the real close happens when
        # StreamRequestHandler.finish() releases the file objects.
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""
