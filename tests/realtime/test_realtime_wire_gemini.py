"""Gemini Live on the wire, message by message, against the fake server: the handshake (path, headers), then
every client message's JSON for a text turn, an audio turn, a tool-call turn and a cancelled turn. Gemini's
Live models answer in audio only: the sessions here ask for ``output="audio"`` and read the transcript."""

from __future__ import annotations

import base64
from typing import Any

from realtime_helpers import GEMINI_KEY, cancel_when_paused, pcm

import pepperpy
from pepperpy.realtime import AudioDelta, ServerEvent, ToolCallEvent, TranscriptDelta, TurnDone
from pepperpy.testing import FakeRealtimeServer

PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
SETUP = {"setup": {"model": "models/gemini-3.8-live", "generationConfig": {"responseModalities": ["AUDIO"]},
                   "systemInstruction": {"parts": [{"text": "Be brief."}]},
                   "realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}},
                   "outputAudioTranscription": {}}}


def user_turn(text: str) -> dict[str, Any]:
    return {"clientContent": {"turns": [{"role": "user", "parts": [{"text": text}]}], "turnComplete": True}}


def test_handshake_path_and_headers(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    with client.realtime("gemini-3.8-live", output="audio", instructions="Be brief."):
        pass
    (session,) = fake.sessions
    assert (session.provider, session.path) == ("gemini", PATH)  # v1beta, as the docs give it; no key in the URL
    headers = {name.lower(): value for name, value in session.headers.items()}
    assert headers["x-goog-api-key"] == GEMINI_KEY and "authorization" not in headers
    assert headers["user-agent"] == "pepperpy/0.1"
    assert session.messages == [SETUP]


def test_a_text_turn(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    answer = pcm(0.4, tone=330.0)
    usage = {"promptTokenCount": 541, "responseTokenCount": 156, "totalTokenCount": 697,
             "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 410}, {"modality": "AUDIO", "tokenCount": 131}],
             "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 156}]}
    fake.reply(audio=answer, transcript="Hello!", usage=usage, pieces=2)
    with client.realtime("gemini-3.8-live", output="audio", instructions="Be brief.") as s:
        reply = s.ask("Say hello")
    assert fake.sessions[0].messages == [SETUP, user_turn("Say hello")]
    assert reply.audio == answer and reply.transcript == "Hello!" and reply.text == ""
    assert [e.text for e in reply.events if isinstance(e, TranscriptDelta)] == ["Hel", "lo!"]
    assert (reply.usage.input_tokens, reply.usage.input_audio_tokens, reply.usage.output_audio_tokens) == (541, 131,
                                                                                                            156)
    assert reply.cost == round((410 * 0.75 + 131 * 3.0 + 156 * 12.0) / 1e6, 10)  # text in, audio in, audio out


def test_an_audio_turn(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    question = pcm(4.0, rate=16000)  # 128,000 bytes: appends of 48,000, 48,000 and 32,000
    with client.realtime("gemini-3.8-live", output="audio", voice="Kore") as s:
        reply = s.ask(audio=question)
    setup, *turn = fake.sessions[0].messages
    voice = {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}
    assert setup["setup"]["generationConfig"] == {"responseModalities": ["AUDIO"], "speechConfig": voice}
    mime = "audio/pcm;rate=16000"
    assert turn == [{"realtimeInput": {"activityStart": {}}},
                    *({"realtimeInput": {"audio": {"data": base64.b64encode(question[i:i + 48000]).decode(),
                                                   "mimeType": mime}}} for i in (0, 48000, 96000)),
                    {"realtimeInput": {"activityEnd": {}}}]
    assert reply.transcript == "echo: (audio)" and reply.audio and reply.audio_rate == 24000
    assert any(isinstance(e, AudioDelta) for e in reply.events)


def test_a_tool_call_turn(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    fake.tool_call("get_weather", {"city": "Rome"})
    fake.reply(audio=pcm(0.2), transcript="Sunny in Rome.", usage=(90, 12))
    with client.realtime("gemini-3.8-live", output="audio", tools=[get_weather]) as s:
        reply = s.ask("Weather in Rome?")
    setup, *turn = fake.sessions[0].messages
    assert setup["setup"]["tools"] == [{"functionDeclarations": [{
        "name": "get_weather", "description": "The weather in a city.", "behavior": "BLOCKING",
        "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                                 "additionalProperties": False}}]}]
    assert turn == [user_turn("Weather in Rome?"),
                    {"toolResponse": {"functionResponses": [{"id": "call_1", "name": "get_weather",
                                                             "response": {"result": "sunny in Rome"}}]}}]
    assert reply.transcript == "Sunny in Rome."
    assert [(s.name, dict(s.arguments), s.result) for s in reply.steps] == [("get_weather", {"city": "Rome"},
                                                                             "sunny in Rome")]
    assert any(isinstance(e, ToolCallEvent) for e in reply.events)


def test_a_cancelled_turn_drops_the_rest_of_its_answer(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    first = pcm(0.4, tone=200.0)
    fake.reply(audio=first, transcript="one two three four", pieces=4, pause_after=1, usage=(30, 40))
    fake.reply(audio=pcm(0.1), transcript="Yes.", usage=(75, 5))
    with client.realtime("gemini-3.8-live", output="audio") as s:
        barge_in = cancel_when_paused(fake, s, resume=True)
        reply = s.ask("Count")
        barge_in.join(5.0)
        after = s.ask("Still there?")
    # Gemini has no cancel message: nothing was sent for it
    assert fake.sessions[0].messages[1:] == [user_turn("Count"), user_turn("Still there?")]
    # what arrived before cancel() and nothing after: the first piece, or nothing when cancel() came before the
    # client had read it (it is dropped then: it was read after the cancel)
    heard = reply.audio or b""
    assert reply.status == "cancelled" and len(heard) in (0, len(first) // 4) and heard == first[:len(heard)]
    assert reply.transcript == ("one t" if heard else "")
    assert reply.usage.total_tokens == 0  # nothing reported yet: the turn's usage comes with its end
    assert after.transcript == "Yes." and after.status == "completed"  # the stale pieces were dropped
    totals = client.usage()["gemini/gemini-3.8-live"]
    assert totals.calls == 3 and (totals.input_tokens, totals.output_tokens) == (30 + 75, 40 + 5)  # late usage booked


def test_messages_between_turns_are_no_answer(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    # with sessionResumption, Gemini sends a sessionResumptionUpdate after each turn: read between two turns, it
    # must not be taken for an answer in progress (the next ask would drop its own answer as a stale one)
    with client.realtime("gemini-3.8-live", output="audio", sessionResumption={}) as s:
        s.send_text("One")
        s.respond()
        seen = []
        for event in s.events(timeout=5):
            seen.append(event)
            if isinstance(event, ServerEvent) and event.type == "sessionResumptionUpdate":
                break
        assert isinstance(seen[-2], TurnDone)
        assert s.ask("Two", timeout=2).transcript == "echo: Two"
    assert fake.sessions[0].messages[0]["setup"]["sessionResumption"] == {}
