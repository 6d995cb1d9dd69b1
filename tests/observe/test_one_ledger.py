"""Issue 24: one ledger for money. Every billable operation is checked against the budget before anything is sent,
in its own unit, and booked once after; usage() reads the same records the results' costs come from.

Items 1 (jobs are counted and limited), 2 (an audio stream is booked and ends with its Speech), 3 (a media call
refuses chat parameters and its budget names its own knobs), 5 (a cache hit costs nothing everywhere), the
strict budget for unpriced models, and must-show 3: one Client walks every operation (a realtime turn too) with a
budget, and usage() adds up to the sum of the results' costs.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer, FakeRealtimeServer
from tests.jobs.helpers import FakeClock, job_client

VEO = "veo-3.1-fast-generate-preview"   # $0.10 per second at its default size
TTS = "gemini-3.8-flash-tts"            # tokens: $0.50 in, $9 out per 1M; usageMetadata on the last event
IMAGE = "gpt-image-2.6-flare"           # tokens: $5 in, $30 image out per 1M


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make(server: FakeProviderServer, clock: FakeClock) -> Iterator[Any]:
    made: list[pepperpy.Client] = []

    def make(**options: Any) -> pepperpy.Client:
        policy = pepperpy.RetryPolicy(max_retries=0, sleep=clock.sleep, clock=clock)
        client = job_client(server, retry_policy=policy, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def wav(seconds: float, rate: int = 16000) -> bytes:
    """A mono 16-bit WAV file of silence, ``seconds`` long."""
    pcm = bytes(int(seconds * rate) * 2)
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, rate, rate * 2, 2,
                       16, b"data", len(pcm)) + pcm


# --------------------------------------------------------------------------- item 1: jobs

def test_a_video_is_limited_at_submission_and_booked_once_at_its_result(make: Any, server: FakeProviderServer) -> None:
    with pytest.raises(pepperpy.BudgetExceededError) as caught:
        make(budget=0.01).generate_video("cat", model=VEO, seconds=8)
    assert server.requests == []  # nothing was submitted
    assert caught.value.needed == pytest.approx(0.80) and "8 s of video" in str(caught.value)
    assert "lower seconds or size" in str(caught.value) and "max_tokens" not in str(caught.value)

    client = make(budget=1.0)
    job = client.generate_video("cat", model=VEO, seconds=8)
    assert client._pipeline.observer.budget.spent() == pytest.approx(0.80)  # reserved at submission
    job.wait(poll=0)
    video = job.result()
    assert video.cost == pytest.approx(0.80)
    report = client.usage()[f"gemini/{VEO}"]
    assert (report.calls, report.cost) == (1, pytest.approx(0.80))
    assert client.video_job(job.id).result().cost == pytest.approx(0.80)  # read again: not booked again
    assert client.usage()[f"gemini/{VEO}"].calls == 1
    assert client._pipeline.observer.budget.spent() == pytest.approx(0.80)  # the hold became the cost, once


def test_a_batch_is_limited_at_submission_and_booked_when_its_results_are_read(make: Any,
                                                                              server: FakeProviderServer) -> None:
    with pytest.raises(pepperpy.BudgetExceededError) as caught:
        make(budget=0.0001).batch(["hi"] * 3, model="gpt-4o-mini", max_tokens=16000)
    assert server.requests == [] and "3 items at the batch price" in str(caught.value)
    assert "lower max_tokens or send fewer items" in str(caught.value)

    client = make(budget=1.0)
    job = client.batch(["one", "two", "three"], model="gpt-4o-mini", max_tokens=100)
    job.wait(poll=0)
    results = job.results()
    assert all(isinstance(r, pepperpy.Completion) and r.cost for r in results)
    report = client.usage()["openai/gpt-4o-mini"]
    assert report.calls == 3 and report.cost == pytest.approx(job.cost) and report.input_tokens > 0
    client.batch_job(job.id).results()  # the same job read again in this process: booked once
    assert client.usage()["openai/gpt-4o-mini"].calls == 3
    assert client._pipeline.observer.budget.spent() == pytest.approx(job.cost)  # the hold gave the rest back


# --------------------------------------------------------------------------- item 2: speech streams

def test_an_audio_stream_is_booked_and_ends_with_its_speech(make: Any) -> None:
    client = make(budget=1.0)
    with client.synthesize_stream("Hello there, general Kenobi", model=TTS) as audio:
        received = b"".join(audio)
    speech = audio.speech
    assert speech.data == received and speech.usage.output_tokens > 0
    assert speech.cost == pytest.approx((speech.usage.input_tokens * 0.5 + speech.usage.output_tokens * 9.0) / 1e6)
    report = client.usage()[f"gemini/{TTS}"]
    assert report.output_tokens == speech.usage.output_tokens and report.cost == pytest.approx(speech.cost)
    assert speech.cost > 0


def test_audio_streams_draw_on_the_budget_as_speech_does(make: Any) -> None:
    client = make(budget=0.002)  # each call really costs ~$0.00045: a few fit, then the budget is spent
    streamed = 0
    with pytest.raises(pepperpy.BudgetExceededError):
        for _ in range(100):
            with client.synthesize_stream("Hello there", model=TTS) as audio:
                b"".join(audio)
            streamed += 1
    assert 1 <= streamed < 10 and client.usage().total.cost <= 0.002


# --------------------------------------------------------------------------- item 3: media calls and their knobs

RETIRING = pytest.mark.filterwarnings("ignore:openai/.* (is deprecated|retires):FutureWarning")  # tts-1, whisper-1


@RETIRING
def test_chat_parameters_given_to_a_media_call_are_refused_listing_what_it_takes(make: Any,
                                                                               server: FakeProviderServer) -> None:
    client = make(budget=0.05)
    with pytest.raises(pepperpy.ValidationError) as caught:
        client.generate_image("hi", model=IMAGE, max_tokens=100)
    message = str(caught.value)
    assert caught.value.param == "max_tokens" and "generate_image() does not take max_tokens" in message
    assert "n, negative_prompt" in message and "quality" in message and "size" in message
    with pytest.raises(pepperpy.ValidationError, match="synthesize\\(\\) does not take temperature"):
        client.synthesize("hi", model="gpt-4o-mini-tts", temperature=0.5)
    assert server.requests == []


def test_an_image_budget_is_estimated_per_image_and_names_the_image_knobs(make: Any,
                                                                         server: FakeProviderServer) -> None:
    client = make(budget=0.05)
    with pytest.raises(pepperpy.BudgetExceededError) as caught:
        client.generate_image("a kite", model=IMAGE)  # high quality at 1536x1024 may be 6,240 tokens: $0.19
    message = str(caught.value)
    assert "1 image of up to 6,240 tokens each at high quality and 1536x1024" in message
    assert "To fit: lower n, quality or size" in message and "max_tokens" not in message
    assert server.requests == []
    low = client.generate_image("a kite", model=IMAGE, quality="low", size="1024x1024")  # 272 tokens: $0.008
    assert low.cost == pytest.approx((low.usage.input_tokens * 5.0 + low.usage.output_tokens * 30.0) / 1e6)


def test_transcription_is_estimated_in_audio_seconds(make: Any, server: FakeProviderServer) -> None:
    client = make(budget=0.0001)  # gpt-transcribe: $0.0045 a minute
    with pytest.raises(pepperpy.BudgetExceededError) as caught:
        client.transcribe(wav(60), model="gpt-transcribe")  # a minute, read from the WAV header: $0.0045
    assert "60.0 s of audio" in str(caught.value) and caught.value.needed == pytest.approx(0.0045)
    assert server.requests == []
    assert client.transcribe(wav(1), model="gpt-transcribe").text  # a second fits


# --------------------------------------------------------------------------- item 5: cache hits

def test_a_cache_hit_costs_nothing_everywhere_and_usage_shows_what_it_saved(make: Any) -> None:
    client = make(cache=True)
    seen: list[Any] = []
    client.on("response", seen.append)
    first = client.complete("same question", model="gpt-4o-mini")
    hit = client.complete("same question", model="gpt-4o-mini")
    assert first.cost and not first.cached
    assert hit.cached and hit.cost == 0.0 and hit.usage == first.usage  # the stored answer's tokens, billed $0
    totals = client.usage()["openai/gpt-4o-mini"]
    assert (totals.calls, totals.cache_hits, totals.cost) == (2, 1, pytest.approx(first.cost))
    assert totals.saved == pytest.approx(first.cost) and totals.input_tokens == first.usage.input_tokens
    assert [event.cost for event in seen] == [first.cost, 0.0] and seen[1].cached
    assert "saved" in str(client.usage())
    hit.raw["choices"][0]["message"]["content"] = "changed by the caller"  # isolation stays
    again = client.complete("same question", model="gpt-4o-mini")
    assert again.raw["choices"][0]["message"]["content"] == first.text and again.cost == 0.0


def test_a_cache_hit_of_a_model_without_a_price_keeps_cost_none(server: FakeProviderServer,
                                                                local_catalog: Any) -> None:
    (local_catalog / "free.yaml").write_text(
        f"provider: free\ndialect: openai\nbase_url: {server.base_url('openai')}\nrequires_api_key: false\n"
        "models:\n  - id: free-chat\n")
    with pepperpy.Client(catalog=local_catalog, env_file=None, cache=True) as client:
        assert client.complete("x", model="free-chat").cost is None
        hit = client.complete("x", model="free-chat")
        assert hit.cached and hit.cost is None and client.usage()["free/free-chat"].saved == 0


# --------------------------------------------------------------------------- unpriced models

def test_a_strict_budget_refuses_models_without_a_price(server: FakeProviderServer, local_catalog: Any) -> None:
    (local_catalog / "free.yaml").write_text(
        f"provider: free\ndialect: openai\nbase_url: {server.base_url('openai')}\nrequires_api_key: false\n"
        "models:\n  - id: free-chat\n")
    with pepperpy.Client(catalog=local_catalog, env_file=None, budget=1.0) as lenient:
        assert lenient.complete("hi", model="free-chat").cost is None  # not limited, as the docs say
    with pepperpy.Client(catalog=local_catalog, env_file=None,
                         budget=pepperpy.Budget(1.0, strict=True)) as strict:
        with pytest.raises(pepperpy.BudgetExceededError, match=r"no catalog price .* strict") as caught:
            strict.complete("hi", model="free-chat")
        assert caught.value.model == "free/free-chat"
    assert len(server.requests) == 1
    with pepperpy.Client(catalog=local_catalog, env_file=None, budget=0.000001) as client, \
            pytest.raises(pepperpy.BudgetExceededError, match="Models without a catalog price are not limited"):
        client.complete("hi", model="local-chat", max_tokens=1000)  # the refusal says so


# --------------------------------------------------------------------------- must-show 3: every operation

VOICE = """\
provider: voice
dialect: openai
base_url: {url}
requires_api_key: false
models:
  - id: gpt-realtime-2
    mode: realtime
    context_window: 32000
    max_output_tokens: 4096
    outputs: [text, audio]
    audio_rates: {{input: 24000, output: 24000}}
    pricing: {{input: 4.0, output: 24.0, audio_input: 32.0, audio_output: 64.0}}
"""


@RETIRING
def test_every_operation_through_one_client_adds_up_to_the_results_costs(make: Any, tmp_path: Any) -> None:
    with FakeRealtimeServer() as realtime:  # realtime turns: a WebSocket server of their own
        (tmp_path / "voice.yaml").write_text(VOICE.format(url=realtime.base_url("openai")))
        client = make(budget=10.0, cache=True, catalog=tmp_path)
        realtime.reply("Hi.", usage=(100, 10))
        with client.realtime("voice/gpt-realtime-2") as session:
            turn = session.ask("Hello")
    costs: list[float | None] = [turn.cost]
    costs.append(client.complete("hello", model="gpt-4o-mini").cost)
    costs.append(client.complete("hello", model="gpt-4o-mini").cost)  # a cache hit: 0
    with client.stream("a story", model="claude-haiku-4-5") as stream:
        "".join(chunk.text for chunk in stream)
    costs.append(stream.completion.cost)
    costs.append(client.embed(["a", "b"], model="text-embedding-3-small").cost)
    costs.append(client.generate_image("a kite", model=IMAGE, quality="low", size="1024x1024").cost)
    costs.append(client.synthesize("hello", model="tts-1").cost)  # per character
    costs.append(client.synthesize("hello", model=TTS).cost)  # per token
    with client.synthesize_stream("hello again", model=TTS) as audio:
        b"".join(audio)
    costs.append(audio.speech.cost)
    costs.append(client.transcribe(wav(2), model="whisper-1").cost)  # per minute
    with client.transcribe_stream(io.BytesIO(wav(2)), model="gemini-3.8-flash") as pieces:
        "".join(pieces)
    costs.append(pieces.transcription.cost)  # per token
    batch = client.batch(["one", "two"], model="claude-haiku-4-5", max_tokens=50)
    batch.wait(poll=0)
    costs += [r.cost for r in batch.results()]
    video = client.generate_video("a kite", model=VEO, seconds=4)
    video.wait(poll=0)
    costs.append(video.result().cost)

    assert None not in costs and all(c > 0 for i, c in enumerate(costs) if i != 2) and costs[2] == 0.0
    report = client.usage()
    assert report.total.cost == pytest.approx(sum(c for c in costs if c is not None), rel=1e-9)
    assert report.total.calls == len(costs) and report.total.cache_hits == 1
    assert client._pipeline.observer.budget.spent() == pytest.approx(report.total.cost, rel=1e-9)  # nothing held
