"""examples/flask_app.py with Flask's test client, against the loopback provider server."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import flask
import flask_app  # examples/, put on sys.path by conftest
import pytest

from pepperpy.testing import FakeProviderServer, Fault, Reply


def parse_sse(body: str) -> list[tuple[str, Any]]:
    events = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


@pytest.fixture
def app(client_options: dict[str, Any]) -> Iterator[flask.Flask]:
    app = flask_app.create_app({"TESTING": True, "PEPPERPY_MODEL": "local-chat", "PEPPERPY_CLIENT": client_options})
    yield app
    app.extensions["pepperpy"].close()


def test_complete(app: flask.Flask, server: FakeProviderServer) -> None:
    server.reply(Reply("Hi there", usage=(3, 2)))
    answer = app.test_client().post("/complete", json={"prompt": "hello"})
    assert answer.status_code == 200
    assert answer.json == {"text": "Hi there", "model": "local-chat", "provider": "local", "finish_reason": "stop",
                           "usage": {"input": 3, "output": 2}, "cost": pytest.approx(7e-6)}
    assert server.requests[0].json["max_tokens"] == 512


def test_stream_sends_server_sent_events(app: flask.Flask, server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["Hel", "lo\n", "world"], usage=(2, 3)))
    answer = app.test_client().post("/stream", json={"prompt": "hi"})
    assert answer.status_code == 200 and answer.mimetype == "text/event-stream"
    assert answer.headers["Cache-Control"] == "no-cache"
    assert parse_sse(answer.get_data(as_text=True)) == [
        ("message", {"text": "Hel"}), ("message", {"text": "lo\n"}), ("message", {"text": "world"}),
        ("done", {"input": 2, "output": 3})]


@pytest.mark.parametrize(("script", "status", "message"), [
    (lambda s: s.fail(429, headers={"retry-after": "7"}), 503, "busy"),
    (lambda s: s.fail(529), 503, "unavailable"),
    (lambda s: s.fail(401, message="Incorrect API key provided: sk-secret-123456789"), 502, "provider failed"),
    (lambda s: s.fail(400, message="This model's maximum context length is 8192 tokens"), 413, "too long"),
    (lambda s: s.fault(Fault.hang(2.0)), 504, "too long to answer"),
    (lambda s: s.fault(Fault.RESET), 502, "provider failed"),
])
def test_provider_errors_become_http_answers(app: flask.Flask, server: FakeProviderServer,
                                             script: Callable[[FakeProviderServer], None], status: int,
                                             message: str) -> None:
    web = app.test_client()
    for path in ("/complete", "/stream"):  # a stream fails before its first byte: still an HTTP status
        script(server)
        answer = web.post(path, json={"prompt": "hi"})
        assert answer.status_code == status, (path, answer.json)
        assert message in answer.json["error"]
        assert "sk-secret" not in answer.get_data(as_text=True)
    if status == 503 and "busy" in message:
        assert answer.headers["Retry-After"] == "7"


def test_bad_input_is_a_400_with_the_reason(app: flask.Flask, server: FakeProviderServer) -> None:
    web = app.test_client()
    assert web.post("/complete", data="not json").status_code == 400
    answer = web.post("/complete", json={"prompt": "hi", "model": "local-chatt"})
    assert answer.status_code == 400 and "local-chat" in answer.json["error"]  # the suggestion
    answer = web.post("/complete", json={"prompt": "hi", "model": "local-embed"})
    assert answer.status_code == 400 and answer.json["type"] == "ValidationError"
    assert server.requests == []


def test_an_error_mid_stream_is_an_error_event(app: flask.Flask, server: FakeProviderServer) -> None:
    server.fault(Fault.STREAM_ERROR)
    answer = app.test_client().post("/stream", json={"prompt": "one two three"})
    assert answer.status_code == 200
    events = parse_sse(answer.get_data(as_text=True))
    assert events[-1] == ("error", {"error": "The model is unavailable; try again shortly."})


def test_a_browser_that_leaves_closes_the_provider_connection(
        app: flask.Flask, server: FakeProviderServer, upstream_connections: Callable[[float], int]) -> None:
    server.reply(Reply(chunks=[f"w{i} " for i in range(500)], chunk_delay=0.02))
    answer = app.test_client().post("/stream", json={"prompt": "long"}, buffered=False)
    body = iter(answer.response)
    assert b"w0" in next(body)
    assert upstream_connections(0.0) == 1
    answer.close()  # what the WSGI server does when the browser hangs up
    assert upstream_connections(2.0) == 0


def test_one_client_per_process_shared_by_threads(app: flask.Flask, server: FakeProviderServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    shared = app.extensions["pepperpy"]
    answers: list[str] = []

    def browser(n: int) -> None:
        web = app.test_client()
        for i in range(5):
            answers.append(web.post("/complete", json={"prompt": f"{n}-{i}"}).json["text"])

    threads = [threading.Thread(target=browser, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == sorted(f"echo: {n}-{i}" for n in range(8) for i in range(5))
    assert server.connections <= 8
    first = shared.get()
    assert shared.get() is first
    # a worker forked after the Client was made (gunicorn --preload) opens connections of its own
    parent_ports = {r.client_port for r in server.requests}
    pid = os.fork()
    if pid == 0:  # the worker: one request, then leave without running pytest's teardown
        try:
            app.test_client().post("/complete", json={"prompt": "from a worker"})
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    worker = [r for r in server.requests if r.json and r.json["messages"][-1]["content"] == "from a worker"]
    assert len(worker) == 1 and worker[0].client_port not in parent_ports
    first.close()


# --------------------------------------------------------------------------- issue 11 item 13: offered models only

def test_only_the_default_model_is_offered_without_pepperpy_models(app: flask.Flask,
                                                                  server: FakeProviderServer) -> None:
    web = app.test_client()
    assert web.get("/models").json == {"models": [{"name": "local/local-chat", "id": "local-chat",
                                                    "provider": "local"}]}
    answer = web.post("/complete", json={"prompt": "hi", "model": "gpt-6-astra"})  # the priciest, with no key
    assert answer.status_code == 400 and answer.json["type"] == "ValidationError"
    assert "'gpt-6-astra' is not offered here; choose one of local/local-chat" in answer.json["error"]
    answer = web.post("/stream", json={"prompt": "hi", "model": "openai/gpt-6-astra"})
    assert answer.status_code == 400
    assert server.requests == []
    assert web.post("/complete", json={"prompt": "hi", "model": "lc"}).status_code == 200  # an alias of it


def test_pepperpy_models_names_what_the_browser_may_pick(client_options: dict[str, Any], server: FakeProviderServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_MODELS", "local-chat,openai/gpt-4o-mini,local/local-embed")  # openai: no key
    app = flask_app.create_app({"TESTING": True, "PEPPERPY_MODEL": "gpt-4o-mini", "PEPPERPY_CLIENT": client_options})
    try:
        web = app.test_client()
        names = [m["name"] for m in web.get("/models").json["models"]]
        assert names == ["local/local-chat", "local/local-embed"]  # in order, with credentials only
        answer = web.post("/complete", json={"prompt": "hi", "model": "gpt-4o-mini"})
        assert answer.status_code == 400 and "choose one of local/local-chat, local/local-embed" in answer.json["error"]
        assert server.requests == []
        answer = web.post("/complete", json={"prompt": "hi"})  # the default is not offered: the first one is used
        assert answer.status_code == 200 and answer.json["model"] == "local-chat"
        answer = web.post("/complete", json={"prompt": "hi", "model": ["local-chat"]})
        assert answer.status_code == 400
    finally:
        app.extensions["pepperpy"].close()
