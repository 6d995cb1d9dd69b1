"""OpenAI Realtime (GA) on the wire, message by message, against the fake server: the handshake (path, headers),
then every client event's JSON for a text turn, an audio turn, a tool-call turn and a cancelled turn."""

from __future__ import annotations

import base64
from typing import Any

from realtime_helpers import OPENAI_KEY, cancel_when_paused, pcm

import pepperpy
from pepperpy.realtime import AudioDelta, TextDelta, ToolCallEvent, TurnDone
from pepperpy.testing import FakeRealtimeServer

SESSION_TEXT = {"type": "session.update", "session": {
    "type": "realtime", "output_modalities": ["text"], "instructions": "Be brief.",
    "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}, "turn_detection": None}}}}


def user_text(text: str) -> dict[str, Any]:
    return {"type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}}


def test_handshake_path_and_headers(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    with client.realtime("gpt-realtime-2", instructions="Be brief."):
        pass
    (session,) = fake.sessions
    assert session.provider == "openai"
    assert session.path == "/v1/realtime?model=gpt-realtime-2"
    headers = {name.lower(): value for name, value in session.headers.items()}
    assert headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert headers["user-agent"] == "pepperpy/0.1"
    assert headers["upgrade"].lower() == "websocket"
    assert "openai-beta" not in headers  # fatal on the GA interface (beta_api_shape_disabled)
    assert "sec-websocket-extensions" not in headers  # no compression, as the official SDK
    assert session.messages == [SESSION_TEXT]


def test_a_text_turn(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    fake.reply("Hello there, friend!", pieces=3, usage=(132, 21))
    with client.realtime("gpt-realtime-2", instructions="Be brief.") as s:
        reply = s.ask("Say hello")
    assert fake.sessions[0].messages == [SESSION_TEXT, user_text("Say hello"), {"type": "response.create"}]
    assert reply.text == "Hello there, friend!" and reply.audio is None and reply.status == "completed"
    assert [e.text for e in reply.events if isinstance(e, TextDelta)] == ["Hello t", "here, f", "riend!"]
    assert isinstance(reply.events[-1], TurnDone) and reply.events[-1].raw["type"] == "response.done"
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (132, 21)
    assert reply.cost == round((132 * 4.0 + 21 * 24.0) / 1e6, 10)  # gpt-realtime-2's text prices
    assert (reply.model, reply.provider) == ("gpt-realtime-2", "openai")
    assert reply.raw["response"]["status"] == "completed"


def test_an_audio_turn(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    question = pcm(1.5)  # 72,000 bytes: two appends of 48,000 and 24,000 bytes
    answer = pcm(0.5, tone=220.0)
    usage = {"total_tokens": 253, "input_tokens": 132, "output_tokens": 121,
             "input_token_details": {"text_tokens": 119, "audio_tokens": 13, "image_tokens": 0, "cached_tokens": 64,
                                     "cached_tokens_details": {"text_tokens": 64, "audio_tokens": 0}},
             "output_token_details": {"text_tokens": 30, "audio_tokens": 91}}
    fake.reply(audio=answer, transcript="Hi there.", usage=usage, pieces=3)
    with client.realtime("gpt-realtime-2", output="audio", voice="marin") as s:
        reply = s.ask(audio=question)
    messages = fake.sessions[0].messages
    assert messages[0] == {"type": "session.update", "session": {
        "type": "realtime", "output_modalities": ["audio"],
        "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}, "turn_detection": None},
                  "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}}}}
    assert messages[1:] == [
        {"type": "input_audio_buffer.append", "audio": base64.b64encode(question[:48000]).decode()},
        {"type": "input_audio_buffer.append", "audio": base64.b64encode(question[48000:]).decode()},
        {"type": "input_audio_buffer.commit"}, {"type": "response.create"}]
    assert reply.audio == answer and reply.transcript == "Hi there." and reply.text == ""
    assert reply.audio_rate == 24000 and abs(reply.seconds - 0.5) < 1e-9
    assert sum(len(e.audio) for e in reply.events if isinstance(e, AudioDelta)) == len(answer)
    # text 119 - 64 cached at $4, 64 cached text at $0.40, 13 audio at $32; out 30 text at $24, 91 audio at $64
    expected = (55 * 4.0 + 64 * 0.4 + 13 * 32.0 + 30 * 24.0 + 91 * 64.0) / 1e6
    assert reply.cost == round(expected, 10)
    assert reply.usage.output_audio_tokens == 91 and reply.usage.cached_tokens == 64


def test_a_tool_call_turn(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    def get_weather(city: str) -> dict[str, Any]:
        """The weather in a city."""
        return {"city": city, "temp": 21}

    fake.tool_call("get_weather", {"city": "Paris"}, usage=(50, 10))
    fake.reply("21 degrees in Paris.", usage=(80, 8))
    with client.realtime("gpt-realtime-2", tools=[get_weather]) as s:
        reply = s.ask("Weather in Paris?")
    messages = fake.sessions[0].messages
    assert messages[0]["session"]["tools"] == [{
        "type": "function", "name": "get_weather", "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                       "additionalProperties": False}}]
    assert messages[0]["session"]["tool_choice"] == "auto"
    assert messages[1:] == [
        user_text("Weather in Paris?"), {"type": "response.create"},
        {"type": "conversation.item.create",
         "item": {"type": "function_call_output", "call_id": "call_1", "output": '{"city": "Paris", "temp": 21}'}},
        {"type": "response.create"}]
    assert reply.text == "21 degrees in Paris."
    (step,) = reply.steps
    assert (step.name, dict(step.arguments), step.result, step.id) == ("get_weather", {"city": "Paris"},
                                                                      {"city": "Paris", "temp": 21}, "call_1")
    assert any(isinstance(e, ToolCallEvent) and e.call.name == "get_weather" for e in reply.events)
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (130, 18)  # both answers, both billed
    assert reply.cost == round((130 * 4.0 + 18 * 24.0) / 1e6, 10)
    assert client.usage()["openai/gpt-realtime-2"].calls == 1  # one turn, one call


def test_a_cancelled_turn(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    fake.reply("one two three four", pieces=4, pause_after=1, usage=(40, 2))
    with client.realtime("gpt-realtime-2") as s:
        barge_in = cancel_when_paused(fake, s, resume=False)
        reply = s.ask("Count")
        barge_in.join(5.0)
        after = s.ask("Still there?")
    messages = fake.sessions[0].messages
    assert messages[1:4] == [user_text("Count"), {"type": "response.create"},
                             {"type": "response.cancel", "event_id": "pepperpy-cancel-1"}]
    assert reply.status == "cancelled" and reply.text == "one t"  # the first of 4 pieces
    assert (reply.usage.input_tokens, reply.usage.output_tokens) == (40, 2)  # booked from the usage reported
    assert after.text == "echo: Still there?" and after.status == "completed"
    totals = client.usage()["openai/gpt-realtime-2"]
    assert totals.calls == 2 and totals.input_tokens == 40 + 20
