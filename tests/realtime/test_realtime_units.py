"""The pure parts of realtime sessions, with plain values: addresses, usage and prices, close codes, events."""

from __future__ import annotations

import pytest

import pepperpy
from pepperpy.http import _translate
from pepperpy.realtime import RealtimeReply
from pepperpy.realtime._config import SessionConfig
from pepperpy.realtime._gemini import GeminiWire
from pepperpy.realtime._gemini import usage as gemini_usage
from pepperpy.realtime._openai import OpenAIWire
from pepperpy.realtime._openai import usage as openai_usage
from pepperpy.realtime._plan import audio_rates
from pepperpy.types import Pricing, Usage


@pytest.mark.parametrize(("base_url", "url"), [
    ("https://api.openai.com/v1", "wss://api.openai.com/v1/realtime?model=gpt-realtime-2"),
    ("https://api.openai.com/v1/", "wss://api.openai.com/v1/realtime?model=gpt-realtime-2"),
    ("http://localhost:8000/v1", "ws://localhost:8000/v1/realtime?model=gpt-realtime-2"),
    ("https://proxy.example.com/openai/v1", "wss://proxy.example.com/openai/v1/realtime?model=gpt-realtime-2"),
])
def test_openai_addresses_follow_the_base_url(base_url: str, url: str) -> None:
    assert OpenAIWire.url(base_url, "gpt-realtime-2") == url


def test_the_model_is_percent_encoded_and_control_characters_refused() -> None:
    assert OpenAIWire.url("https://x/v1", "ft:gpt/x&z=1") == "wss://x/v1/realtime?model=ft%3Agpt%2Fx%26z%3D1"
    for bad in ("gpt\r\nHost: evil", "gpt realtime", "\x00", ""):
        with pytest.raises(pepperpy.ValidationError):
            OpenAIWire.url("https://x/v1", bad)


@pytest.mark.parametrize(("base_url", "url"), [
    ("https://generativelanguage.googleapis.com/v1beta", "wss://generativelanguage.googleapis.com/ws/"
     "google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"),
    ("https://generativelanguage.googleapis.com/v1alpha", "wss://generativelanguage.googleapis.com/ws/"
     "google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent"),
    ("https://generativelanguage.googleapis.com", "wss://generativelanguage.googleapis.com/ws/"
     "google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"),
    ("http://127.0.0.1:9000/gemini/v1beta", "ws://127.0.0.1:9000/gemini/ws/"
     "google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"),
])
def test_gemini_addresses_follow_the_base_url_and_its_version(base_url: str, url: str) -> None:
    assert GeminiWire.url(base_url, "gemini-3.8-live") == url


def test_openai_usage_keeps_every_kind_of_token() -> None:
    raw = {"total_tokens": 253, "input_tokens": 132, "output_tokens": 121,
           "input_token_details": {"text_tokens": 119, "audio_tokens": 13, "image_tokens": 0, "cached_tokens": 64,
                                   "cached_tokens_details": {"text_tokens": 64, "audio_tokens": 0, "image_tokens": 0}},
           "output_token_details": {"text_tokens": 30, "audio_tokens": 91}}
    assert openai_usage(raw) == Usage(132, 121, 253, cached_tokens=64, input_audio_tokens=13, output_audio_tokens=91)
    assert openai_usage({"input_tokens": 5, "output_tokens": 2}) == Usage(5, 2)  # some answers carry only totals
    assert openai_usage(None) == Usage()


def test_gemini_usage_reads_modalities_and_counts_thinking_as_output() -> None:
    raw = {"promptTokenCount": 522, "responseTokenCount": 42, "totalTokenCount": 564, "thoughtsTokenCount": 136,
           "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 332}, {"modality": "AUDIO", "tokenCount": 165}],
           "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 42}]}
    assert gemini_usage(raw) == Usage(522, 178, 564, reasoning_tokens=136, input_audio_tokens=165,
                                      output_audio_tokens=42)


def test_prices_of_each_kind_of_token() -> None:
    price = Pricing(4.0, 24.0, cached_input=0.4, audio_input=32.0, cached_audio_input=0.4, audio_output=64.0)
    usage = Usage(1000, 500, cached_tokens=300, input_audio_tokens=600, cached_audio_tokens=200,
                  output_audio_tokens=400)
    # text in: 1000 - 300 cached - (600 - 200) audio = 300; cached text 100, cached audio 200; out 100 text, 400 audio
    expected = (300 * 4.0 + 100 * 0.4 + 200 * 0.4 + 400 * 32.0 + 100 * 24.0 + 400 * 64.0) / 1e6
    assert price.cost(usage) == round(expected, 10)
    assert Pricing(1.0, 2.0).cost(usage) == (1000 * 1.0 + 500 * 2.0) / 1e6  # no audio prices: the text ones
    assert Pricing(1.0, 2.0, audio_input=5.0).cost(Usage(100, 0, input_audio_tokens=40)) == (60 + 200) / 1e6


@pytest.mark.parametrize(("code", "reason", "error", "status"), [
    (3000, "invalid_request_error.invalid_api_key", pepperpy.AuthenticationError, None),
    (1007, "API key not valid. Please pass a valid API key.", pepperpy.AuthenticationError, None),
    (1008, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key",
     pepperpy.AuthenticationError, None),
    (1008, "models/x is not found for API version v1beta, or is not supported for bidiGenerateContent.",
     pepperpy.InvalidRequestError, None),
    (4000, "invalid_request_error.beta_api_shape_disabled", pepperpy.InvalidRequestError, None),
    (1011, "Internal error encountered.", pepperpy.ProviderUnavailableError, None),
])
def test_close_codes_are_typed_errors(code: int, reason: str, error: type[Exception], status: int | None) -> None:
    built = _translate.from_close(code, reason, provider="gemini", model="m", key_vars=["GEMINI_API_KEY"])
    assert type(built) is error and built.status_code == status
    assert built.details == {"close_code": code, "close_reason": reason}
    if error is pepperpy.AuthenticationError:
        assert str(built).endswith("Check the key in GEMINI_API_KEY.")
    assert built.retryable == (error is pepperpy.ProviderUnavailableError)


def test_an_error_event_names_its_type_and_code() -> None:
    body = {"type": "error", "event_id": "event_1", "error": {
        "type": "invalid_request_error", "code": "invalid_api_key", "param": None, "event_id": None,
        "message": "Incorrect API key provided: sk-proj-...sQoA."}}
    built = _translate.from_realtime_error(body, provider="openai", model="gpt-realtime-2", key_vars=["OPENAI_API_KEY"])
    assert isinstance(built, pepperpy.AuthenticationError)
    assert str(built) == ("openai sent an error event (invalid_request_error): Incorrect API key provided: "
                          "sk-proj-...sQoA. Check the key in OPENAI_API_KEY.")


def test_gemini_messages_may_carry_several_events_and_skip_thoughts() -> None:
    message = {"serverContent": {"modelTurn": {"parts": [{"text": "thinking...", "thought": True},
                                                         {"inlineData": {"mimeType": "audio/pcm;rate=24000",
                                                                         "data": "AAABAA=="}}]},
                                 "outputTranscription": {"text": "Hi"}, "turnComplete": True},
               "usageMetadata": {"promptTokenCount": 5, "responseTokenCount": 2}}
    kinds = [type(event).__name__ for event in GeminiWire.parse(message, None)]
    assert kinds == ["AudioDelta", "TranscriptDelta", "TurnDone"]


def test_gemini_settings_go_where_live_setup_wants_them() -> None:
    config = SessionConfig("gemini-3.8-live", "audio", turn_detection="server_vad", max_output_tokens=300,
                           input_rate=16000, params={"temperature": 0.4, "sessionResumption": {"handle": "h1"},
                                                     "thinkingConfig": {"thinkingBudget": 0}})
    (setup,) = GeminiWire(config).opening()
    assert setup == {"setup": {
        "model": "models/gemini-3.8-live", "outputAudioTranscription": {}, "sessionResumption": {"handle": "h1"},
        "generationConfig": {"responseModalities": ["AUDIO"], "maxOutputTokens": 300, "temperature": 0.4,
                             "thinkingConfig": {"thinkingBudget": 0}}}}  # server VAD on: no realtimeInputConfig
    wire = GeminiWire(config)
    assert wire.commit() == ([{"realtimeInput": {"audioStreamEnd": True}}], False)  # the server decides
    assert wire.audio_chunks(b"\x00\x00", False)[0] == {"realtimeInput": {"audio": {
        "data": "AAA=", "mimeType": "audio/pcm;rate=16000"}}}  # no activityStart with the server's detection


def test_rates_come_from_the_catalog_else_the_provider() -> None:
    client = pepperpy.Client(env_file=None)
    assert audio_rates(client.model("gpt-realtime-2"), "openai") == (24000, 24000)
    assert audio_rates(client.model("gemini-3.8-live"), "gemini") == (16000, 24000)
    assert client.models(mode="realtime") and all(m.mode == "realtime" for m in client.models(mode="realtime"))


def test_a_reply_shows_itself_and_saves_a_wav(tmp_path: object) -> None:
    reply = RealtimeReply("", b"\x01\x00" * 2400, "Hello!", "gpt-realtime-2", "openai", audio_rate=24000)
    assert repr(reply) == "<RealtimeReply openai/gpt-realtime-2 audio=0.1 s transcript='Hello!'>"
    assert str(reply) == "Hello!"
    html = reply._repr_html_()
    assert html.startswith('<audio controls src="data:audio/wav;base64,UklGR') and "<p>Hello!</p>" in html
    path = reply.save("answer")
    assert path.name == "answer.wav" and path.read_bytes()[:4] == b"RIFF" and len(path.read_bytes()) == 44 + 4800
    with pytest.raises(pepperpy.ValidationError, match="has no audio"):
        RealtimeReply("Hi", None, "", "m", "p").save("x.wav")
    assert "<audio" not in RealtimeReply("Hi", None, "", "m", "p")._repr_html_()
