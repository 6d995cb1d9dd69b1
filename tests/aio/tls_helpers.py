"""An HTTPS front for the loopback fake server: TLS ends here, with a certificate from a CA the test made
(trustme), and the bytes go on to the FakeProviderServer, so every route and fault it plays is there over TLS."""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any


class TLSFront:
    """Listens on ``host`` (``localhost``: the name the certificates name, resolved as the clients resolve it)
    and relays each TLS connection to ``127.0.0.1:backend_port``. Records the SNI name of every handshake
    (None when the client sent none) and every failed handshake."""

    def __init__(self, backend_port: int, context: ssl.SSLContext, host: str = "localhost") -> None:
        self.backend_port = backend_port
        self.server_names: list[str | None] = []
        self.failed_handshakes: list[str] = []
        context.sni_callback = self._sni
        self.context = context
        self.sock = socket.create_server((host, 0))
        self.port = int(self.sock.getsockname()[1])
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _sni(self, _sslobj: Any, name: str | None, _context: ssl.SSLContext) -> None:
        self.server_names.append(name)

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.failed_handshakes.append(str(exc))
            raw.close()
            return
        tls.settimeout(None)
        back = socket.create_connection(("127.0.0.1", self.backend_port))
        with self._lock:
            self._live.update((tls, back))
        relay = threading.Thread(target=_pump, args=(back, tls), daemon=True)
        relay.start()
        _pump(tls, back)
        relay.join()
        with self._lock:
            self._live.difference_update((tls, back))
        tls.close()
        back.close()

    def close(self) -> None:
        self.sock.close()
        with self._lock:
            live = list(self._live)
        for sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
