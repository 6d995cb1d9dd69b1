"""Memory stays flat over a long audio session: ten minutes of speech, in turns whose replies are dropped once
read. The audio is made once and sent again each turn (its duration is what counts, not wall time)."""

from __future__ import annotations

import gc
import sys
import time

import pytest
from realtime_helpers import pcm

import pepperpy
from pepperpy.testing import FakeRealtimeServer

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads VmRSS from /proc")

TURN_SECONDS = 10.0
TURNS = 60  # 60 x 10 s = ten minutes of audio in; 60 x 2 s of audio answers out
WARM_UP = 5


def rss_mb() -> float:
    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_rss_is_flat_over_ten_minutes_of_audio_turns(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    fake.record_messages = False  # the fake runs in this process: it must not keep ten minutes of audio either
    question = pcm(TURN_SECONDS)
    answer = pcm(2.0, tone=220.0)
    started = time.perf_counter()
    with client.realtime("gpt-realtime-2", output="audio") as s:
        for turn in range(WARM_UP + TURNS):
            if turn == WARM_UP:
                before = rss_mb()
            fake.reply(audio=answer, transcript="Fine.", pieces=20, usage=(120 + turn, 50))
            reply = s.ask(audio=question)
            assert len(reply.audio or b"") == len(answer)
            del reply
        after = rss_mb()
    seconds = time.perf_counter() - started
    assert TURNS * TURN_SECONDS == 600.0
    assert abs(after - before) <= 5.0, f"RSS went from {before:.1f} MB to {after:.1f} MB"
    assert client.usage()["openai/gpt-realtime-2"].calls == WARM_UP + TURNS
    print(f"\n{TURNS} turns of {TURN_SECONDS:g} s of audio: RSS {before:.1f} -> {after:.1f} MB in {seconds:.1f} s")
