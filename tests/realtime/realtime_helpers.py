"""Helpers of the realtime tests: the fake keys, PCM made on the spot, a barge-in from another thread."""

from __future__ import annotations

import math
import struct
import threading
from typing import Any

from pepperpy.testing import FakeRealtimeServer

OPENAI_KEY = "sk-test-realtime-0123456789abcdef"
GEMINI_KEY = "AIzaTestRealtimeKey0123456789"


def pcm(seconds: float, rate: int = 24000, tone: float = 440.0) -> bytes:
    """PCM16 mono of a sine tone (generated, not slept: ten minutes of it take a moment to make)."""
    count = int(seconds * rate)
    return struct.pack(f"<{count}h", *(int(8000 * math.sin(2 * math.pi * tone * i / rate)) for i in range(count)))


def cancel_when_paused(fake: FakeRealtimeServer, session: Any, *, resume: bool) -> threading.Thread:
    """Barge in from another thread once the fake has sent the first piece of its answer (``resume``: then let
    the fake go on, as Gemini does: it has no cancel message)."""

    def barge_in() -> None:
        assert fake.paused.wait(5.0)
        session.cancel()
        if resume:
            fake.resume()

    thread = threading.Thread(target=barge_in, daemon=True)
    thread.start()
    return thread
