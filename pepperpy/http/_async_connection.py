"""One HTTP/1.1 connection on the event loop: asyncio's transport carries the bytes, h11 frames them.

``Connection`` is an ``asyncio.BufferedProtocol``: the loop reads the socket into a buffer the pool lends every
connection (``get_buffer``: asyncio's plain ``Protocol`` has each read allocate 256 KiB, which the kernel maps,
faults in and unmaps: ~14 µs a read on this project's test machine, more than a tenth of an async call's CPU) and
hands over the bytes (``buffer_updated``), which go straight to its ``h11.Connection``, one per socket, kept for
the socket's life; ``exchange`` writes a request
and reads the answer's events. What it guarantees, whatever the server sends:

- **Time.** One timer bounds every wait of a request, writing included: ``idle`` seconds without progress (a byte
  in, or the write buffer draining: the ``timeout=`` of a Client, per socket operation as in requests) and, when
  the call has a ``total_timeout``, the call's end (``ends``, on the loop's clock): a server that never reads,
  or that drips one byte at a time, is cut there.
- **An answer before the request is written.** A server may answer (413) and close before reading a large body:
  the answer is read and reported, not lost to the broken pipe.
- **Nothing unread on a kept connection.** Bytes or an EOF arriving while no request is in flight spoil the
  connection (closed at once): they would otherwise be read as the next call's answer. ``reusable`` holds only
  when h11 says the exchange is complete and nothing follows it.
- **Counting.** The connection leaves its ``LoopConnections`` count exactly once, however it closes (closed
  here, by the server, or a TLS transport that was already closing).

Failures leave as ``HTTPError``. None is sent again here, nor by the pool: once a byte of a request is written
the server may have it (and bill it), so only the Client's retry policy sends it again, counted as a retry.
"""

from __future__ import annotations

import asyncio
import select
from typing import Any, Protocol

import h11

from . import _framing


class Counted(Protocol):
    """Where a connection is counted while open (``_async_limits.LoopConnections``)."""

    open: int

__all__ = ["Connection", "HTTPError", "Reply", "os_reason"]


class HTTPError(Exception):
    """A transport failure, of a ``kind`` ``_translate.transport_failure`` knows: ``"connect"`` (no answer),
    ``"tls"`` (the handshake failed), ``"timeout"``, ``"malformed"`` (an answer that is not valid HTTP/1.1) or
    ``"cut"`` (the answer began and broke off); ``"request"``: h11 refused to write the request (nothing sent)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason


class Reply:
    """An answer: status, headers (lower-case names; repeated ones joined with ``", "``) and the body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


_POLL = getattr(select, "poll", None)
_NEVER = float("inf")


class Connection(asyncio.BufferedProtocol):
    __slots__ = ("buffer", "busy", "closed", "ends", "failure", "first", "h11", "head", "idle", "last", "loop",
                 "paused", "poller", "reset", "shared", "spoiled", "timer", "transport", "waiter")

    def __init__(self, shared: Counted, loop: asyncio.AbstractEventLoop, buffer: memoryview) -> None:
        self.shared, self.loop = shared, loop
        self.buffer = buffer  # where the loop reads the socket: shared with the pool's other connections, as
        # every read is handed over (and copied) before the loop reads another socket
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_framing.HEAD_LIMIT)
        self.transport: Any = None
        self.busy = False  # a request in flight: bytes that arrive are its answer's
        self.spoiled = False  # EOF, unread bytes or an error: never used again
        self.closed = False  # left the count
        self.paused = False  # the transport's write buffer is full
        self.waiter: asyncio.Future[None] | None = None
        self.failure: HTTPError | None = None  # what the timer found
        self.reset: OSError | None = None  # how the connection was lost, when it broke rather than closed
        self.timer: asyncio.TimerHandle | None = None
        self.idle, self.ends, self.last = 0.0, 0.0, 0.0
        self.head: _framing.HeadLines | None = None  # counting the answer's head lines until h11 parsed it
        self.first = b""  # the answer's first bytes, for a message about its status line
        self.poller: Any = None  # polls the socket for bytes or an EOF the loop has not handed over yet

    # ------------------------------------------------------------------ asyncio's callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and _POLL is not None:
            self.poller = _POLL()
            self.poller.register(sock.fileno(), select.POLLIN)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(self.buffer[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        if not self.busy:  # nobody asked: whatever it is, it must not become the next call's answer
            self.close()
            return
        self.last = self.loop.time()
        head = self.head
        if head is not None:
            if not self.first:
                self.first = data[:80]
            refusal = head.refusal(data)
            if refusal is not None:
                self._fail(HTTPError("malformed", refusal))
                self.close()
                return
        self.h11.receive_data(data)
        self._wake()

    def eof_received(self) -> bool:
        self.spoiled = True
        if self.busy:
            self.h11.receive_data(b"")
            self._wake()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.spoiled = True
        if isinstance(exc, OSError):
            self.reset = exc
        if self.busy:
            self.h11.receive_data(b"")
        self._uncount()
        self._wake()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.last = self.loop.time()
        self._wake()

    # ------------------------------------------------------------------ use

    def usable(self) -> bool:
        """Whether a kept connection can carry the next request: open, and nothing unread in its socket (bytes
        or an EOF the loop has not handed over yet)."""
        if self.spoiled or self.closed or self.transport.is_closing():
            return False
        return self.poller is None or not self.poller.poll(0)

    async def exchange(self, head: _framing.Head, body: bytes | None, idle: float,
                       ends: float | None) -> tuple[Reply, bool]:
        """Write one request and read its answer: (the answer, whether the connection can be kept)."""
        if self.spoiled:  # closed since it was found usable (nothing was written)
            raise HTTPError("connect", "the connection closed before the request was sent")
        try:
            written, data = _framing.request_bytes(self.h11, head, body)
        except h11.LocalProtocolError as exc:  # nothing written: the request itself cannot be sent
            raise HTTPError("request", str(exc)) from None
        self.busy, self.failure, self.head, self.first = True, None, _framing.HeadLines(), b""
        loop = self.loop
        self.idle, self.ends, self.last = idle, ends if ends is not None else _NEVER, loop.time()
        limit, timer = min(self.last + idle, self.ends), self.timer
        if timer is None or timer.when() > limit:  # else the pending one fires first and waits on as needed
            if timer is not None:
                timer.cancel()
            self.timer = loop.call_at(limit, self._check_time)
        try:
            if len(data) < 65536:
                self.transport.write(written + data)
            else:
                self.transport.write(written)
                self.transport.write(data)
            # the answer read here, not in a coroutine of its own: each level of awaits costs every call
            connection = self.h11
            status, headers, parts = 0, {}, []
            if not self.first and self.failure is None and not self.spoiled:  # nothing came yet: h11 has nothing
                self.waiter = waiter = loop.create_future()  # done by _wake (a done one is left alone there)
                await waiter
            while True:
                try:
                    event = connection.next_event()
                except h11.RemoteProtocolError as exc:
                    raise self._broken(exc, answered=bool(status)) from None
                if event is h11.NEED_DATA or event is h11.PAUSED:
                    if self.failure is not None:
                        raise self.failure
                    self.waiter = waiter = loop.create_future()
                    await waiter
                    continue
                kind = type(event)
                if kind is h11.Data:
                    parts.append(event.data)  # type: ignore[union-attr]
                elif kind is h11.Response:
                    status, headers = event.status_code, _framing.header_dict(event.headers)  # type: ignore[union-attr]
                    self.head = None
                    if len(event.headers) >= _framing.MAX_HEADERS:  # type: ignore[union-attr]
                        raise HTTPError("malformed", f"got more than {_framing.MAX_HEADERS} headers")
                elif kind is h11.EndOfMessage:
                    break
                elif kind is h11.InformationalResponse:  # 100 Continue, 103 Early Hints: the answer comes after
                    self.head, self.first = _framing.HeadLines(), b""
                else:  # ConnectionClosed before the end: h11 raises instead; kept for completeness
                    raise HTTPError("cut", "the connection closed before the answer was complete")
        finally:
            self.busy = False  # the timer stays: the next request on this connection takes it over
        reply = Reply(status, headers, parts[0] if len(parts) == 1 else b"".join(parts))
        reusable = (connection.our_state is h11.DONE and connection.their_state is h11.DONE and not self.spoiled
                    and not self.paused and not self.transport.get_write_buffer_size()
                    and not connection.trailing_data[0])  # bytes after the answer's end: never the next answer
        if reusable:
            connection.start_next_cycle()
        return reply, reusable

    def _broken(self, exc: h11.RemoteProtocolError, answered: bool) -> HTTPError:
        """What h11's refusal means: the connection closed early, or an answer that is not HTTP/1.1."""
        if self.failure is not None:
            return self.failure
        ended = self.spoiled  # the server closed (or reset) the connection
        if answered:
            if ended and "peer closed connection" in str(exc):
                return HTTPError("cut", "the connection closed before the answer was complete")
            return HTTPError("cut", f"invalid framing: {_framing.describe(exc, self.first)}")
        if ended and not self.first:
            if self.reset is not None:  # in the words requests shows: "[Errno 104] Connection reset by peer"
                return HTTPError("connect", os_reason(self.reset))
            return HTTPError("connect", "Remote end closed connection without response")  # http.client's words
        if ended and "peer unexpectedly closed" in str(exc):
            return HTTPError("malformed", "the connection closed in the middle of the answer's head")
        return HTTPError("malformed", _framing.describe(exc, self.first))

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, failure: HTTPError) -> None:
        if self.failure is None:
            self.failure = failure
        self._wake()

    def _check_time(self) -> None:
        """The request's timer: cut it when nothing moved for ``idle`` seconds or the call's end came; else wait
        again until the later of those (bytes arrived meanwhile: no timer was set per read). One timer serves a
        kept connection's requests in turn (setting and cancelling one per request costs more than a request's
        framing): between requests it lapses."""
        self.timer = None
        if not self.busy:
            return
        now = self.loop.time()
        if now >= self.ends:
            self._fail(HTTPError("timeout", "total_timeout ran out before the answer was complete"))
        elif now >= self.last + self.idle:
            what = "write" if self.paused else "read"
            self._fail(HTTPError("timeout", f"{what} timeout={self.idle:g} s"))
        else:
            self.timer = self.loop.call_at(min(self.last + self.idle, self.ends), self._check_time)

    def close(self) -> None:
        """Close the socket now (abort: no wait for a TLS close_notify that a loop about to end, or a cancelled
        call, has no time for)."""
        self.spoiled = True
        self._uncount()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.transport is not None:
            self.transport.abort()

    def _uncount(self) -> None:
        if not self.closed:
            self.closed = True
            self.shared.open -= 1


def os_reason(exc: OSError) -> str:
    """An OSError in the words requests shows for it (``[Errno 111] Connection refused``); asyncio's own
    (``Connect call failed ('127.0.0.1', 9)``) would make the two roads' messages differ."""
    import socket

    if isinstance(exc, socket.gaierror) or not isinstance(exc.errno, int):
        return str(exc) or type(exc).__name__
    import os

    return f"[Errno {exc.errno}] {os.strerror(exc.errno)}"
