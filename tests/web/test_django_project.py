"""examples/django_project with Django's test client, against the loopback provider server."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import django
import pytest
from django.test import Client as BrowserClient
from django.test import override_settings

from pepperpy.testing import FakeProviderServer, Fault, Reply

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")  # examples/ is on sys.path (conftest)
django.setup()

from django_project import views  # noqa: E402 - needs the settings above


def parse_sse(body: str) -> list[tuple[str, Any]]:
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


@pytest.fixture
def browser(client_options: dict[str, Any]) -> Iterator[BrowserClient]:
    with override_settings(PEPPERPY={"MODEL": "local-chat", "CLIENT": client_options}):
        yield BrowserClient()
    views.llm.close()


def post(browser: BrowserClient, path: str, body: Any) -> Any:
    return browser.post(path, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("path", ["/complete", "/acomplete"])
def test_complete_sync_and_async_views(browser: BrowserClient, server: FakeProviderServer, path: str) -> None:
    server.reply(Reply("Hi there", usage=(3, 2)))
    answer = post(browser, path, {"prompt": "hello"})
    assert answer.status_code == 200
    assert answer.json() == {"text": "Hi there", "model": "local-chat", "provider": "local",
                             "finish_reason": "stop", "usage": {"input": 3, "output": 2}, "cost": pytest.approx(7e-6)}


def test_stream_sends_server_sent_events(browser: BrowserClient, server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["Hel", "lo"], usage=(2, 2)))
    answer = post(browser, "/stream", {"prompt": "hi"})
    assert answer.status_code == 200 and answer["Content-Type"] == "text/event-stream"
    body = b"".join(answer.streaming_content).decode()
    answer.close()
    assert parse_sse(body) == [("message", {"text": "Hel"}), ("message", {"text": "lo"}),
                               ("done", {"input": 2, "output": 2})]


@pytest.mark.parametrize(("path", "script", "status"), [
    ("/complete", lambda s: s.fail(429, headers={"retry-after": "3"}), 503),
    ("/acomplete", lambda s: s.fail(429, headers={"retry-after": "3"}), 503),
    ("/stream", lambda s: s.fail(429, headers={"retry-after": "3"}), 503),
    ("/complete", lambda s: s.fault(Fault.hang(2.0)), 504),
    ("/acomplete", lambda s: s.fail(401), 502),
])
def test_provider_errors_become_http_answers(browser: BrowserClient, server: FakeProviderServer, path: str,
                                             script: Callable[[FakeProviderServer], None], status: int) -> None:
    script(server)
    answer = post(browser, path, {"prompt": "hi"})
    assert answer.status_code == status
    assert answer.json()["type"] in {"RateLimitError", "ProviderTimeoutError", "AuthenticationError"}
    if status == 503:
        assert answer["Retry-After"] == "3"


def test_bad_input_and_methods(browser: BrowserClient, server: FakeProviderServer) -> None:
    assert post(browser, "/complete", {"model": "local-chat"}).status_code == 400
    assert post(browser, "/complete", {"prompt": "hi", "model": "nope-model"}).json()["type"] == "ValidationError"
    assert browser.get("/complete").status_code == 405
    assert server.requests == []


def test_an_error_mid_stream_is_an_error_event(browser: BrowserClient, server: FakeProviderServer) -> None:
    server.fault(Fault.STREAM_ERROR)
    answer = post(browser, "/stream", {"prompt": "one two three"})
    events = parse_sse(b"".join(answer.streaming_content).decode())
    answer.close()
    assert events[-1] == ("error", {"error": "The model is unavailable; try again shortly."})


def test_a_browser_that_leaves_closes_the_provider_connection(
        browser: BrowserClient, server: FakeProviderServer, upstream_connections: Callable[[float], int]) -> None:
    server.reply(Reply(chunks=[f"w{i} " for i in range(500)], chunk_delay=0.02))
    answer = post(browser, "/stream", {"prompt": "long"})
    assert b"w0" in next(iter(answer.streaming_content))
    assert upstream_connections(0.0) == 1
    answer.close()  # what the WSGI server does when the browser hangs up
    assert upstream_connections(2.0) == 0


def test_settings_changes_rebuild_the_shared_client(browser: BrowserClient, server: FakeProviderServer,
                                                    client_options: dict[str, Any]) -> None:
    first = views.llm.get()
    assert views.llm.get() is first
    with override_settings(PEPPERPY={"MODEL": "local-chat", "CLIENT": {**client_options, "pool_maxsize": 4}}):
        assert views.llm.get() is not first and views.llm.get().pool_maxsize == 4


# --------------------------------------------------------------------------- issue 24 item 9: offered models only

def test_only_the_default_model_is_offered_without_pepperpy_models(browser: BrowserClient,
                                                                  server: FakeProviderServer) -> None:
    assert browser.get("/models").json() == {"models": [{"name": "local/local-chat", "id": "local-chat",
                                                         "provider": "local"}]}
    for path in ("/complete", "/acomplete", "/stream"):
        answer = post(browser, path, {"prompt": "hi", "model": "gpt-6-astra"})  # the priciest, with no key
        assert answer.status_code == 400 and answer.json()["type"] == "ValidationError", path
        assert "'gpt-6-astra' is not offered here; choose one of local/local-chat" in answer.json()["error"]
    assert post(browser, "/complete", {"prompt": "hi", "model": "openai/gpt-6-astra"}).status_code == 400
    assert server.requests == []
    assert post(browser, "/complete", {"prompt": "hi", "model": "lc"}).status_code == 200  # an alias of it


def test_pepperpy_models_names_what_the_browser_may_pick(client_options: dict[str, Any], server: FakeProviderServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_MODELS", "local-chat,openai/gpt-4o-mini,local/local-embed")  # openai: no key
    with override_settings(PEPPERPY={"MODEL": "gpt-4o-mini", "CLIENT": client_options}):
        browser = BrowserClient()
        try:
            assert [m["name"] for m in browser.get("/models").json()["models"]] == ["local/local-chat",
                                                                                    "local/local-embed"]
            answer = post(browser, "/complete", {"prompt": "hi", "model": "gpt-4o-mini"})
            assert answer.status_code == 400
            assert "choose one of local/local-chat, local/local-embed" in answer.json()["error"]
            assert server.requests == []
            answer = post(browser, "/complete", {"prompt": "hi"})  # the default is not offered: the first one is
            assert answer.status_code == 200 and answer.json()["model"] == "local-chat"
            assert post(browser, "/complete", {"prompt": "hi", "model": ["local-chat"]}).status_code == 400
        finally:
            views.llm.close()


def test_the_run_command_in_the_docstring_uses_what_make_installs() -> None:
    import importlib.util

    import django_project

    doc = django_project.__doc__ or ""
    run = next(line.strip() for line in doc.splitlines() if "runserver" in line)
    assert "python -m django runserver --settings=django_project.settings --pythonpath=." in run
    assert "gunicorn" not in run and importlib.util.find_spec("django") is not None
