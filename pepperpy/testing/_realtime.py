"""A fake realtime server for tests: OpenAI's Realtime API and Gemini's Live API on a loopback WebSocket.

``FakeRealtimeServer`` runs websockets' server in a thread. It answers the session's setup
(``session.created`` / ``session.updated``, ``setupComplete``), then each request for an answer (OpenAI's
``response.create``; Gemini's ``clientContent`` with ``turnComplete``, ``activityEnd``, ``audioStreamEnd``, a
``toolResponse``) with the next scripted ``RealtimeAnswer`` or ``RealtimeFault``, else an echo of the user's text. Every
connection is recorded: its path, headers and each client message's JSON (``sessions``, ``messages``).

    >>> from pepperpy.testing import FakeRealtimeServer            # doctest: +SKIP
    >>> with FakeRealtimeServer() as fake:                          # doctest: +SKIP
    ...     fake.reply("Hello!")
    ...     client = pepperpy.Client(providers={"openai": {"base_url": fake.base_url("openai")}})
    ...     with client.realtime("gpt-realtime-2") as s:
    ...         assert s.ask("Hi").text == "Hello!"

``fake_providers(client)`` and ``FakeProviderServer`` start one when a session connects (``fake.realtime``).
Needs ``websockets`` (``pip install "pepperpy[realtime]"``), imported when the server starts.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypeVar

from pepperpy.testing._realtime_play import Play
from pepperpy.testing._realtime_wire import PAUSE_SECONDS, RealtimeAnswer, RealtimeFault, RecordedSession

__all__ = ["FakeRealtimeServer", "RealtimeAnswer", "RecordedSession"]

T = TypeVar("T", RealtimeAnswer, RealtimeFault)

_BASE_PATHS = {"openai": "/v1", "gemini": "/v1beta", "google": "/v1beta"}
_GEMINI_PATH = "/ws/google.ai.generativelanguage."


class FakeRealtimeServer:
    """A loopback WebSocket server speaking OpenAI Realtime and Gemini Live (see the module docstring).

    ``api_key``: when set, OpenAI sessions without a key get HTTP 401 and with another key the in-band
    ``invalid_api_key`` error then close 3000; Gemini sessions close 1008 (no key) or 1007 (another key).
    ``handshake_status``: refuse every handshake with this HTTP status (401, 403, 429, 503) and OpenAI's error
    body for it; ``handshakes`` counts the handshakes seen.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.ssl_context = ssl_context  # wss:// (its base URLs are https://): TLS tests
        self._requested_port = port
        self.api_key: str | None = None
        self.handshake_status: int | None = None
        self.handshakes = 0
        self.record_messages = True
        """False: client messages are not kept (a long session's audio would fill ``sessions``)."""
        """How many WebSocket handshakes the server has seen (refused ones included)."""
        self.paused = threading.Event()
        self._resume = threading.Event()
        self._lock = threading.Lock()
        self._script: deque[RealtimeAnswer | RealtimeFault] = deque()
        self._sessions: list[RecordedSession] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._responses = 0
        self._pause_ends = 0.0

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeRealtimeServer:
        from websockets.sync.server import serve

        if self._server is not None:
            return self
        self._server = serve(self._handle, self.host, self._requested_port, process_request=self._process_request,
                             compression=None, max_size=None, ssl=self.ssl_context)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"FakeRealtimeServer:{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            self._resume.set()
            server.shutdown()
            if self._thread is not None:
                self._thread.join(timeout=5.0)

    def __enter__(self) -> FakeRealtimeServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeRealtimeServer is not running; call start() or use it in a with block")
        return int(self._server.socket.getsockname()[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (``https://`` with ``ssl_context``): a base URL's scheme (sessions map http to
        ws, https to wss)."""
        return f"{'https' if self.ssl_context is not None else 'http'}://{self.host}:{self.port}"

    def base_url(self, provider: str) -> str:
        """The base URL a Client's ``provider`` should use: ``.../v1`` for OpenAI, ``.../v1beta`` for Gemini."""
        return self.url + _BASE_PATHS.get(provider.lower(), "/v1")

    def adopt(self, sock: socket.socket, address: Any) -> None:
        """Serve a connection accepted elsewhere (FakeProviderServer hands its WebSocket upgrades over)."""
        self.start()
        self._server.handler(sock, address)

    # -- scripting ---------------------------------------------------------------------------------

    def reply(self, text: str = "", *, audio: bytes | None = None, transcript: str | None = None,
              usage: Any = None, pieces: int = 2, pause_after: int | None = None) -> RealtimeAnswer:
        """Queue the next answer (see ``RealtimeAnswer``)."""
        return self._queue(RealtimeAnswer(text, audio, transcript, usage, None, pieces, pause_after))

    def tool_call(self, name: str, arguments: Mapping[str, Any] | None = None, *, usage: Any = None) -> RealtimeAnswer:
        """Queue an answer that calls the function ``name`` (the answer after the result is the next script)."""
        return self._queue(RealtimeAnswer(usage=usage, tool_call={"name": name, "arguments": dict(arguments or {})}))

    def error(self, message: str, *, code: str = "invalid_value", type: str = "invalid_request_error") -> None:
        """The next answer request gets an OpenAI ``error`` event instead (the session stays open)."""
        self._queue(RealtimeFault("error", error={"type": type, "code": code, "message": message, "param": None}))

    def close_with(self, code: int, reason: str = "") -> None:
        """The next answer request closes the session with ``code`` (Gemini 1007/1008/1011, OpenAI 4000...)."""
        self._queue(RealtimeFault("close", code=code, reason=reason))

    def drop(self, after: int = 1, answer: RealtimeAnswer | None = None) -> None:
        """The next answer stops after ``after`` pieces and the TCP connection is cut (no close frame)."""
        self._queue(RealtimeFault("drop", code=after, answer=answer or RealtimeAnswer("partial answer", pieces=4)))

    def go_away(self, time_left: str = "1s", *, after: int = 1, answer: RealtimeAnswer | None = None) -> None:
        """The next answer stops after ``after`` pieces; Gemini's ``goAway`` comes, then a normal close."""
        self._queue(RealtimeFault("go_away", code=after, reason=time_left,
                          answer=answer or RealtimeAnswer("partial answer", pieces=4)))

    def resume(self) -> None:
        """Let a paused answer (``pause_after``) go on."""
        self._resume.set()

    def _queue(self, item: T) -> T:
        with self._lock:
            self._script.append(item)
        return item

    # -- observations ------------------------------------------------------------------------------

    @property
    def sessions(self) -> list[RecordedSession]:
        with self._lock:
            return list(self._sessions)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every client message of every session, in order."""
        return [message for session in self.sessions for message in session.messages]

    def wait_for_messages(self, count: int, timeout: float = 2.0) -> list[dict[str, Any]]:
        """The client messages of every session, once at least ``count`` have arrived (or ``timeout`` passed): a
        message the client sent without waiting for an answer may still be on its way when a test looks."""
        import time

        deadline = time.monotonic() + timeout
        messages = self.messages
        while len(messages) < count and time.monotonic() < deadline:
            time.sleep(0.005)
            messages = self.messages
        return messages

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._script)

    # -- the server side ---------------------------------------------------------------------------

    def _process_request(self, connection: Any, request: Any) -> Any:
        provider = _provider(request.path)
        with self._lock:
            self.handshakes += 1
        if provider is None:
            return connection.respond(404, "not a realtime endpoint\n")
        status = self.handshake_status
        if status is not None:
            return _json_response(connection, status, _REFUSALS.get(status, _REFUSALS[503]))
        if provider == "openai" and self.api_key is not None and not request.headers.get("Authorization"):
            return _json_response(connection, 401, {"error": {
                "message": "You didn't provide an API key.", "type": "invalid_request_error", "param": None,
                "code": "missing_api_key"}})
        return None

    def _handle(self, ws: Any) -> None:
        request = ws.request
        provider = _provider(request.path) or "openai"
        session = RecordedSession(provider, request.path, {k: v for k, v in request.headers.raw_items()})
        with self._lock:
            self._sessions.append(session)
        Play(self, ws, session).run()

    def _next(self) -> RealtimeAnswer | RealtimeFault | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def _response_id(self) -> str:
        with self._lock:
            self._responses += 1
            return f"resp_{self._responses}"

    def _paused(self) -> None:
        """An answer stops: the test sees ``paused``, and ``resume()`` lets it go on."""
        self._resume.clear()
        self._pause_ends = time.monotonic() + PAUSE_SECONDS
        self.paused.set()

    def _resumed(self) -> bool:
        return self._resume.is_set() or time.monotonic() > self._pause_ends

    def _pause(self) -> None:
        self._paused()
        self._resume.wait(PAUSE_SECONDS)
        self.paused.clear()


_REFUSALS = {  # the error bodies of a refused handshake, as OpenAI writes them
    401: {"error": {"message": "Incorrect API key provided: sk-bad. You can find your API key at "
                               "https://platform.openai.com/account/api-keys.", "type": "invalid_request_error",
                    "param": None, "code": "invalid_api_key"}},
    403: {"error": {"message": "You are not allowed to use this model.", "type": "invalid_request_error",
                    "param": None, "code": "model_not_allowed"}},
    429: {"error": {"message": "Rate limit reached.", "type": "requests", "param": None,
                    "code": "rate_limit_exceeded"}},
    503: {"error": {"message": "The server is overloaded", "type": "server_error", "param": None, "code": None}},
}


def _provider(path: str) -> str | None:
    route = path.partition("?")[0]
    if route.endswith("/realtime"):
        return "openai"
    if _GEMINI_PATH in route and route.endswith(".BidiGenerateContent"):
        return "gemini"
    return None


def _json_response(connection: Any, status: int, body: Any) -> Any:
    response = connection.respond(status, json.dumps(body))
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response
