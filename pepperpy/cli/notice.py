"""The one-line "waiting for PROVIDER…" notice of the ``pepperpy`` command.

A provider that does not answer would otherwise leave the terminal silent until the timeout (60 s by default, and
again for each retry). After ``NOTICE_AFTER`` seconds without an answer, one line on stderr says what is going
on and how to change it, only when stderr is a terminal (pipes and logs stay clean).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["NOTICE_AFTER", "Waiting", "waiting"]

NOTICE_AFTER = 3.0  # seconds without an answer before the notice


class Waiting:
    """The notice for one call: ``answered()`` once the first output arrives cancels it."""

    def __init__(self, provider: str, stream: TextIO, after: float) -> None:
        self._stream = stream
        self._line = (f"waiting for {provider}… (no answer after {after:g} s; Ctrl-C stops, --timeout and "
                      f"--max-retries set the limits)")
        self._timer = threading.Timer(after, self._show) if _is_terminal(stream) else None
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()

    def _show(self) -> None:
        print(self._line, file=self._stream, flush=True)

    def answered(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


@contextmanager
def waiting(provider: str, stream: TextIO | None = None) -> Iterator[Waiting]:
    """Show the notice on ``stream`` (stderr) if no answer came after ``NOTICE_AFTER`` seconds.

    >>> with waiting("openai") as wait:             # doctest: +SKIP
    ...     for chunk in client.stream(...):
    ...         wait.answered()
    """
    notice = Waiting(provider, stream if stream is not None else sys.stderr, NOTICE_AFTER)
    try:
        yield notice
    finally:
        notice.answered()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
