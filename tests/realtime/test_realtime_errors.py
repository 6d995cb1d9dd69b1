"""What goes wrong in a realtime session, and the typed error each failure becomes: an error event, a refused
handshake (401/403), a bad key after the upgrade (OpenAI's close 3000, Gemini's 1007/1008), a connection dropped
mid-turn, goAway, an error close code, a silent server, the missing extra. None of them shows the key."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest
from realtime_helpers import GEMINI_KEY, OPENAI_KEY

import pepperpy
from pepperpy.realtime import GoAway
from pepperpy.resilience.retry import RetryPolicy
from pepperpy.testing import FakeRealtimeServer, RealtimeAnswer


def no_key_in(*texts: object) -> None:
    for text in texts:
        assert OPENAI_KEY not in str(text) and GEMINI_KEY not in str(text)
        assert OPENAI_KEY[-12:] not in str(text) and GEMINI_KEY[-12:] not in str(text)


def test_an_error_event_is_its_typed_error_and_the_session_goes_on(client: pepperpy.Client,
                                                                   fake: FakeRealtimeServer) -> None:
    fake.error("Invalid value: 'loud'. Supported values are: 'auto', 'low'.", code="invalid_value")
    with client.realtime("gpt-realtime-2") as s:
        with pytest.raises(pepperpy.InvalidRequestError) as caught:
            s.ask("Hello")
        assert str(caught.value).startswith("openai sent an error event (invalid_request_error): Invalid value")
        assert caught.value.provider == "openai" and caught.value.model == "gpt-realtime-2"
        assert s.ask("Again").text == "echo: Again"  # an error event does not end the session
    totals = client.usage()["openai/gpt-realtime-2"]
    assert (totals.calls, totals.errors) == (2, 1)


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_handshake_is_an_authentication_error(client: pepperpy.Client, fake: FakeRealtimeServer,
                                                        status: int, caplog: pytest.LogCaptureFixture) -> None:
    fake.handshake_status = status
    caplog.set_level(logging.INFO, logger="pepperpy")
    with pytest.raises(pepperpy.AuthenticationError) as caught:
        client.realtime("gpt-realtime-2")
    assert caught.value.status_code == status
    assert f"openai returned {status}" in str(caught.value)
    assert fake.handshakes == 1 and fake.sessions == []  # refused: never retried, nothing opened
    no_key_in(caught.value, repr(caught.value), caught.value.details, caplog.text,
              *(vars(r) for r in caplog.records))


def test_a_bad_openai_key_after_the_upgrade_is_an_authentication_error(client: pepperpy.Client,
                                                                       fake: FakeRealtimeServer) -> None:
    fake.api_key = "sk-the-right-one"  # the fake sends invalid_api_key, then closes 3000
    with pytest.raises(pepperpy.AuthenticationError) as caught:
        client.realtime("gpt-realtime-2")
    assert "Incorrect API key provided" in str(caught.value) and "Client(api_keys={'openai': ...})" in str(caught.value)
    no_key_in(caught.value, repr(caught.value))


@pytest.mark.parametrize(("key", "code"), [("wrong", 1007)])
def test_a_bad_gemini_key_closes_the_session_as_an_authentication_error(make_client: Callable[..., pepperpy.Client],
                                                                        fake: FakeRealtimeServer, key: str,
                                                                        code: int) -> None:
    fake.api_key = "the-right-one"
    client = make_client()
    with pytest.raises(pepperpy.AuthenticationError) as caught:
        client.realtime("gemini-3.8-live", output="audio")
    reason = "API key not valid. Please pass a valid API key."
    assert caught.value.details == {"close_code": code, "close_reason": reason}
    assert str(caught.value).startswith(f"gemini closed the realtime session ({code} API key not valid")
    no_key_in(caught.value, repr(caught.value))


def test_a_connection_dropped_mid_turn_is_a_stream_error_with_what_arrived(client: pepperpy.Client,
                                                                           fake: FakeRealtimeServer) -> None:
    fake.drop(after=2, answer=RealtimeAnswer("The answer was going to be long.", pieces=4))
    with client.realtime("gpt-realtime-2") as s, pytest.raises(pepperpy.StreamError) as caught:
        s.ask("Tell me")
    error = caught.value
    assert error.details["text"] == "The answer was g" and error.details["reply"].text == "The answer was g"
    assert "dropped the connection mid-turn; what arrived: 16 characters of text" in str(error)
    assert fake.handshakes == 1  # a turn in progress is never retried
    assert client.usage()["openai/gpt-realtime-2"].errors == 1


def test_go_away_then_a_close_mid_turn_says_the_session_ended(make_client: Callable[..., pepperpy.Client],
                                                              fake: FakeRealtimeServer) -> None:
    fake.go_away("2s", after=1)
    client = make_client()
    with client.realtime("gemini-3.8-live", output="audio") as s, pytest.raises(pepperpy.StreamError) as caught:
        s.ask("Hello")
    assert "goAway: the session reached its time limit; open a new one" in str(caught.value)
    assert caught.value.details["audio_bytes"] > 0  # what arrived before


def test_go_away_is_an_event(make_client: Callable[..., pepperpy.Client], fake: FakeRealtimeServer) -> None:
    fake.go_away("10s", after=1)
    with make_client().realtime("gemini-3.8-live", output="audio") as s:
        s.send_text("Hello")
        s.respond()
        seen = []
        with pytest.raises(pepperpy.StreamError):
            for event in s:
                seen.append(event)
    assert [e.time_left for e in seen if isinstance(e, GoAway)] == [10.0]


@pytest.mark.parametrize(("code", "reason", "error"), [
    (1011, "Internal error encountered.", pepperpy.ProviderUnavailableError),
    (1008, "models/gemini-live-2.5-flash-preview is not found for API version v1beta, or is not supported for "
           "bidiGenerateContent.", pepperpy.InvalidRequestError),
    (1007, "Request contains an invalid argument.", pepperpy.InvalidRequestError),
])
def test_a_close_with_an_error_code_is_its_typed_error(make_client: Callable[..., pepperpy.Client],
                                                       fake: FakeRealtimeServer, code: int, reason: str,
                                                       error: type[Exception]) -> None:
    fake.close_with(code, reason)
    with make_client().realtime("gemini-3.8-live", output="audio") as s, pytest.raises(error) as caught:
        s.ask("Hello")
    assert caught.value.details == {"close_code": code, "close_reason": reason}  # type: ignore[attr-defined]
    if code == 1008:
        assert "client.models(mode='realtime')" in str(caught.value)


def test_a_silent_server_is_a_timeout(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    fake.reply("never finished", pause_after=1)
    with client.realtime("gpt-realtime-2") as s:
        with pytest.raises(pepperpy.ProviderTimeoutError) as caught:
            s.ask("Hello", timeout=0.2)
        fake.resume()
        assert "sent nothing for 0.2 s mid-turn" in str(caught.value)
        assert s.ask("Again").text == "echo: Again"  # the abandoned answer's rest is dropped


def test_opening_is_retried_then_the_breaker_opens(make_client: Callable[..., pepperpy.Client],
                                                   fake: FakeRealtimeServer) -> None:
    fake.handshake_status = 503
    client = make_client(retry_policy=RetryPolicy(max_retries=2, backoff_base=0.0, jitter=0.0),
                         breaker={"fail_max": 1, "reset_timeout": 60})
    with pytest.raises(pepperpy.ProviderUnavailableError):
        client.realtime("gpt-realtime-2")
    assert fake.handshakes == 3  # the first attempt and two retries
    with pytest.raises(pepperpy.CircuitOpenError):
        client.realtime("gpt-realtime-2")
    assert fake.handshakes == 3  # refused without touching the network
    assert client.breaker_state("openai") == "open"


def test_bad_arguments_are_refused_before_connecting(client: pepperpy.Client, fake: FakeRealtimeServer) -> None:
    cases = [
        (dict(model="gpt-realtime-2", output="video"), "output='video': use 'text' or 'audio'"),
        (dict(model="gpt-realtime-2", voice="Kore"), "Kore"),
        (dict(model="gemini-3.8-live"), "answers in audio only: open the session with output='audio'"),
        (dict(model="gpt-realtime-2", turn_detection="loud"), "turn_detection='loud'"),
        (dict(model="gemini-3.8-live", output="audio", turn_detection="semantic_vad"), "is OpenAI's"),
        (dict(model="gpt-realtime-2", max_output_token=10), "max_output_tokens"),
        (dict(model="gpt-4o-mini"), "realtime() needs a realtime model such as"),
    ]
    for kwargs, words in cases:
        with pytest.raises((pepperpy.ValidationError, pepperpy.ModelNotFoundError)) as caught:
            client.realtime(**kwargs)  # type: ignore[arg-type]
        assert words in str(caught.value), (kwargs, str(caught.value))
    with pytest.raises(pepperpy.ValidationError, match="contains a control character, U\\+000D"), \
            pytest.warns(UserWarning, match="not in the catalog"):
        client.realtime("openai/gpt-realtime\r\nX-Injected: 1")
    assert fake.handshakes == 0


def test_the_missing_extra_is_a_configuration_error_naming_the_install_line() -> None:
    script = textwrap.dedent("""
        import importlib.abc, sys

        class NoWebsockets(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "websockets" or name.startswith("websockets."):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, NoWebsockets())
        import pepperpy, pepperpy.testing
        assert "websockets" not in sys.modules
        client = pepperpy.Client(env_file=None, api_keys={"openai": "sk-x"})
        try:
            client.realtime("gpt-realtime-2")
        except pepperpy.ConfigurationError as exc:
            print("ConfigurationError:", exc)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ('ConfigurationError: realtime sessions need the websockets package: '
                                   'pip install "pepperpy[realtime]" (or pip install websockets)')


def test_importing_pepperpy_does_not_import_websockets() -> None:
    script = "import sys, pepperpy, pepperpy.realtime, pepperpy.testing; print('websockets' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
