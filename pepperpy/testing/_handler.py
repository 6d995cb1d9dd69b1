"""The HTTP side of FakeProviderServer: read a request, play the script, write the answer.

Non-stream answers carry Content-Length and keep the connection alive; streams use chunked
transfer encoding with one chunk written (and flushed) per event.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import sys
import time
import traceback
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast

from pepperpy.testing._anthropic import ANTHROPIC
from pepperpy.testing._play import failure_body, parse_request, read_request, stream_frames, unknown_route_body
from pepperpy.testing._routes import Route, bearer_token, key_rejection
from pepperpy.testing._script import Failure, Fault, FaultKind, RecordedRequest, Reply
from pepperpy.testing._stackspot import STACKSPOT, oidc_error
from pepperpy.testing._wire import BadRequestError, Dialect, Stream, dumps, resolve_answer

if TYPE_CHECKING:
    from pepperpy.testing.server import FakeProviderServer


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
        request, route, self.model = read_request(self.command, self.path, self.headers.items(), raw, port)
        serial = self.fake._record(request)
        self.request_id = f"req_{serial}"
        self.route = route
        if not self.fake._wait(self.fake.default_delay):
            self.close_connection = True  # the server is stopping
            return
        if route.endpoint == "unknown":
            self._send_json(404, unknown_route_body(request.method, request.path))
            return
        rejection = self._rejection(route, request.headers, request.query)
        if rejection is not None:
            self._send_json(*rejection)
        elif route.endpoint == "token":
            self._send_json(*self._token(request.form))
        elif route.endpoint == "models":
            self._send_json(200, route.dialect.render_models(list(self.fake.models), int(time.time())))
        else:
            self._answer(route, request, serial)

    def _rejection(self, route: Route, headers: Mapping[str, str], query: Mapping[str, str]) -> tuple[int, Any] | None:
        fake = self.fake
        if route.dialect is ANTHROPIC and route.endpoint == "chat" and "anthropic-version" not in headers:
            return 400, ANTHROPIC.error_body(400, "anthropic-version: header is required", "", self.request_id)
        if route.dialect is STACKSPOT and route.endpoint == "chat":
            if fake._token_valid(bearer_token(headers)):
                return None
            return 401, STACKSPOT.error_body(401, None, route.model, self.request_id)
        if fake.require_auth or fake.api_key is not None:
            return key_rejection(route.dialect, headers, query, fake.api_key, self.request_id)
        return None

    def _token(self, form: Mapping[str, str]) -> tuple[int, Any]:
        if form.get("grant_type") != "client_credentials":
            return 400, oidc_error("unsupported_grant_type", "Unsupported grant_type")
        client = (form.get("client_id", ""), form.get("client_secret", ""))
        expected = self.fake.stackspot_credentials
        if not all(client) or (expected is not None and client != tuple(expected)):
            return 401, oidc_error("invalid_client", "Invalid client or Invalid client credentials")
        return 200, self.fake._issue_token()

    def _answer(self, route: Route, request: RecordedRequest, serial: int) -> None:
        dialect = route.dialect
        try:
            chat, body = parse_request(route, request)
        except BadRequestError as exc:
            self._send_error(exc.status, exc.message, route)
            return
        script = self.fake._take("chat" if chat is not None else "embed")
        if isinstance(script, Reply) and not self.fake._wait(script.delay):
            self.close_connection = True
            return
        fault = script if isinstance(script, Fault) else None
        if fault is not None and fault.kind is FaultKind.RESET:
            self._reset()
            return
        if fault is not None and fault.kind is FaultKind.HANG:
            if not self.fake._wait(fault.seconds):
                self.close_connection = True
                return
            fault = None
        if isinstance(script, Failure):
            self._send_json(script.status, failure_body(script, dialect, self.model, self.request_id), script.headers)
            return
        reply = script if isinstance(script, Reply) else None
        if chat is not None:
            answer = resolve_answer(reply, chat, dialect, serial, int(time.time()))
            if chat.stream:
                self._send_stream(dialect.render_stream(chat, answer), dialect, reply, fault)
                return
            body = dialect.render_chat(chat, answer)
        if fault is not None and fault.kind is FaultKind.STREAM_ERROR:
            self._send_error(500, fault.message, route)
        elif fault is not None and fault.kind is FaultKind.CUT_STREAM:
            self._send_truncated(dumps(body).encode(), clean=fault.clean)
        else:
            self._send_json(200, body)

    # -- writing -----------------------------------------------------------------------------

    def _send_error(self, status: int, message: str | None, route: Route) -> None:
        self._send_json(status, route.dialect.error_body(status, message, self.model, self.request_id))

    def _send_json(self, status: int, body: Any, extra: Mapping[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else dumps(body).encode()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
        overrides = {name.lower() for name in extra or {}}
        headers = {name: value for name, value in headers.items() if name.lower() not in overrides}
        self._start(status, {**headers, **(extra or {})})
        self.wfile.write(data)
        self.wfile.flush()

    def _send_truncated(self, data: bytes, clean: bool) -> None:
        half = data[: len(data) // 2]
        self._start(200, {"Content-Type": "application/json", "Content-Length": str(len(half if clean else data)),
                          **({"Connection": "close"} if clean else {})})
        self.wfile.write(half)
        self.wfile.flush()
        self.close_connection = True

    def _send_stream(self, stream: Stream, dialect: Dialect, reply: Reply | None, fault: Fault | None) -> None:
        headers = {"Content-Type": stream.content_type, "Transfer-Encoding": "chunked", "Cache-Control": "no-cache"}
        if fault is not None and fault.kind is FaultKind.CUT_STREAM and fault.clean:
            headers["Connection"] = "close"  # a well-behaved server announces that it will close
        self._start(200, headers)
        frames = stream_frames(stream, dialect, fault)
        chunk_delay = reply.chunk_delay if reply is not None else 0.0
        for index, frame in enumerate(frames):
            if index and chunk_delay and not self.fake._wait(chunk_delay):
                self.close_connection = True
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
        if fault is not None and fault.kind is FaultKind.CUT_STREAM:
            # Abrupt: no zero-length chunk, the client sees the body end prematurely.
            self.close_connection = True
            if not fault.clean:
                return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _start(self, status: int, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        names = {name.lower() for name in headers}
        for name, value in headers.items():
            self.send_header(name, value)
        if "x-request-id" not in names:
            self.send_header("x-request-id", self.request_id)
        if self.route.dialect is ANTHROPIC and "request-id" not in names:
            self.send_header("request-id", self.request_id)
        self.end_headers()

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
