"""The script queue FakeProviderServer and FakeAdapter share: what comes next, and what came in.

Both fakes inherit ``ScriptQueue``, so ``reply``, ``fail``, ``fault``, ``clear``, ``requests`` and ``pending``
behave the same on a loopback server and in-process. Only stdlib: ``pepperpy.testing`` imports it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

from pepperpy.testing._jobs import FakeJobs
from pepperpy.testing._script import Failure, Fault, RecordedRequest, Reply

Script: TypeAlias = "Reply | Failure | Fault"


class ScriptQueue:
    """The scripting API of FakeProviderServer and FakeAdapter.

    One FIFO queue of what comes next, and a record of every request. Thread-safe: every access takes
    ``_lock``, which subclasses also use for their own state.
    """

    def __init__(self) -> None:
        super().__init__()  # cooperative: FakeAdapter also inherits requests' BaseAdapter
        self._lock = threading.Lock()
        self._script: deque[Script] = deque()
        self._requests: list[RecordedRequest] = []
        self._serial = 0
        self.jobs = FakeJobs()
        """The provider jobs (batches, videos) this fake holds, and how they play (see ``FakeJobs``)."""
        self._files: dict[str, bytes] = {}  # images answered as URLs, served back at /fake-files/<name>

    def reply(
        self,
        reply: str | Reply = "",
        *,
        usage: tuple[int, int] | None = None,
        finish: str | None = None,
        chunks: Sequence[str] | None = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        tool_calls: Sequence[Mapping[str, Any]] | None = None,
    ) -> Reply:
        """Queue the answer of the next chat request (any dialect); returns the queued Reply.

        FakeAdapter accepts ``delay`` and ``chunk_delay`` but does not sleep them.

        >>> from pepperpy.testing import FakeProviderServer
        >>> FakeProviderServer().reply("Hi", usage=(3, 1)).usage
        (3, 1)
        """
        if isinstance(reply, Reply):
            if usage or finish or chunks is not None or delay or chunk_delay or tool_calls is not None:
                raise TypeError("pass either a Reply or keyword options, not both")
            item = reply
        else:
            item = Reply(reply, chunks=chunks, usage=usage, finish=finish, delay=delay, chunk_delay=chunk_delay,
                         tool_calls=tool_calls)
        with self._lock:
            self._script.append(item)
        return item

    def fail(
        self,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        *,
        message: str | None = None,
    ) -> None:
        """Queue ``times`` HTTP errors for the next chat or embeddings requests.

        ``body`` None renders the dialect's native error body for ``status`` (``message``
        replaces its text); a dict is sent as JSON, str/bytes as they are. ``headers`` are added
        as given, e.g. ``{"retry-after": "0"}``.
        """
        failure = Failure(status, body, dict(headers or {}), message)
        with self._lock:
            self._script.extend([failure] * times)

    def fault(self, fault: Fault, times: int = 1) -> None:
        """Queue a transport fault (``Fault.RESET``, ``Fault.hang(0.2)``, ``Fault.CUT_STREAM``...)."""
        with self._lock:
            self._script.extend([fault] * times)

    def clear(self) -> None:
        """Drop queued scripts, recorded requests and jobs."""
        with self._lock:
            self._script.clear()
            self._requests.clear()
        self.jobs.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first (``client_port`` is 0 on FakeAdapter)."""
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """How many queued scripts are still waiting for a request."""
        with self._lock:
            return len(self._script)

    def _record(self, request: RecordedRequest) -> int:
        """Keep ``request``; returns its serial number (1, 2, ...), which names its ``req_N`` id."""
        with self._lock:
            self._serial += 1
            self._requests.append(request)
            return self._serial

    def _store_file(self, name: str, data: bytes) -> None:
        with self._lock:
            if len(self._files) > 256:  # bounded: a long test run keeps only recent files
                self._files.clear()
            self._files[name] = data

    def _file(self, name: str) -> bytes | None:
        with self._lock:
            return self._files.get(name)

    def _take(self, kind: Literal["chat", "embed", "job", "item"]) -> Script | None:
        # A Reply at the head waits for a chat request (or a batch item); embeddings and job requests leave it
        # there. A batch item takes a Reply or a Failure, never a transport Fault.
        with self._lock:
            if not self._script:
                return None
            head = self._script[0]
            if kind == "item" and isinstance(head, Fault):
                return None
            if kind not in ("chat", "item") and isinstance(head, Reply):
                return None
            return self._script.popleft()
