"""play(): the one decision of what the fakes send, before either renders it (no socket, no adapter)."""

from __future__ import annotations

import doctest
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pepperpy.testing._play
from pepperpy.testing import Fault
from pepperpy.testing._play import Outcome, play, read_request
from pepperpy.testing._queue import ScriptQueue

CHAT = "/v1/chat/completions"
MESSAGES = [{"role": "user", "content": "one two three"}]


class Stage(ScriptQueue):
    """The least a fake needs for play(): a queue, a model list (and its page size) and a token endpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.models = ["m-1", "m-2"]
        self.page_size = None
        self.token_calls: list[tuple[dict[str, str], int]] = []

    def _token(self, form: Mapping[str, str], serial: int) -> tuple[int, Any]:
        self.token_calls.append((dict(form), serial))
        return 201, {"token": f"t{serial}"}


def outcome(stage: Stage, path: str = CHAT, body: Any = None, *, method: str = "POST",
            headers: Iterable[tuple[str, str]] = (), raw: bytes | None = None) -> Outcome:
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else b""
    request, route, model = read_request(method, path, headers, data, 0)
    return play(stage, route, request, model, stage._record(request))


def chat(stage: Stage, stream: bool = False) -> Outcome:
    return outcome(stage, body={"model": "gpt-x", "messages": MESSAGES, "stream": stream})


def json_of(result: Outcome) -> Any:
    assert not result.stream and len(result.frames) == 1
    return json.loads(result.frames[0])


def test_module_examples() -> None:
    assert doctest.testmod(pepperpy.testing._play).failed == 0


def test_a_reply_is_a_json_answer_held_for_its_delay_but_not_a_hang() -> None:
    stage = Stage()
    stage.reply("Hi!", delay=0.25, chunk_delay=0.5)
    result = chat(stage)
    assert (result.status, result.end, result.reset, result.wait, result.hang) == (200, "whole", False, 0.25, False)
    assert json_of(result)["choices"][0]["message"]["content"] == "Hi!"
    assert result.length == len(result.frames[0])
    assert result.headers["Content-Type"] == "application/json" and result.headers["x-request-id"] == "req_1"
    assert "request-id" not in result.headers  # Anthropic's own header only


def test_nothing_queued_echoes_and_a_stream_is_one_frame_per_event() -> None:
    result = chat(Stage(), stream=True)
    assert result.stream and result.end == "whole" and result.wait == 0
    assert result.headers["Content-Type"].startswith("text/event-stream")
    assert result.headers["Cache-Control"] == "no-cache"
    assert result.frames[-1] == b"data: [DONE]\n\n"
    pieces = [json.loads(f[6:])["choices"][0]["delta"].get("content") for f in result.frames[:-1] if f.strip()]
    assert "".join(p for p in pieces if p) == "echo: one two three"


def test_a_hang_is_the_echo_late_and_marked_as_a_hang() -> None:
    stage = Stage()
    stage.fault(Fault.hang(7))
    result = chat(stage)
    assert (result.wait, result.hang) == (7, True)
    assert json_of(result)["choices"][0]["message"]["content"] == "echo: one two three"


def test_a_reset_sends_nothing() -> None:
    stage = Stage()
    stage.fault(Fault.RESET)
    assert chat(stage) == Outcome(reset=True)


def test_cut_streams_end_broken_or_clean_closed_after_the_events_asked_for() -> None:
    stage = Stage()
    whole = chat(stage, stream=True)
    stage.fault(Fault.cut_stream(after=1))
    stage.fault(Fault.cut_stream(after=1, clean=True))
    broken, closed = chat(stage, stream=True), chat(stage, stream=True)
    assert (broken.end, closed.end) == ("broken", "closed")
    assert len(broken.frames) == len(closed.frames) < len(whole.frames)  # ids differ: one serial each
    assert b"[DONE]" not in b"".join(broken.frames)


def test_a_cut_json_body_is_half_sent_and_announced_whole_unless_clean() -> None:
    stage = Stage()
    stage.fault(Fault.CUT_STREAM)
    stage.fault(Fault.cut_stream(clean=True))
    broken, closed = chat(stage), chat(stage)
    sent = broken.frames[0]
    assert broken.end == "broken" and broken.length == 2 * len(sent) + (broken.length % 2)
    assert closed.end == "closed" and closed.length == len(closed.frames[0])
    assert sent.startswith(b'{"id":')


def test_stream_error_is_an_event_in_a_stream_and_a_500_otherwise() -> None:
    stage = Stage()
    stage.fault(Fault.stream_error(after=0, message="overloaded"))
    stage.fault(Fault.stream_error(message="overloaded"))
    streamed, plain = chat(stage, stream=True), chat(stage)
    assert streamed.status == 200 and streamed.end == "whole" and b"overloaded" in streamed.frames[-1]
    assert plain.status == 500 and json_of(plain)["error"]["message"] == "overloaded"


def test_a_failure_keeps_its_headers_which_override_the_defaults() -> None:
    stage = Stage()
    stage.fail(429, headers={"retry-after": "3", "content-type": "application/problem+json"})
    stage.fail(503, body="down")
    result = outcome(stage, "/v1/messages", {"model": "claude-x", "max_tokens": 5, "messages": MESSAGES})
    assert result.status == 429 and json_of(result)["type"] == "error"
    assert result.headers == {"retry-after": "3", "content-type": "application/problem+json",
                              "x-request-id": "req_1", "request-id": "req_1"}
    assert outcome(stage, body={"model": "m", "messages": MESSAGES}).frames == (b"down",)


def test_a_bad_body_is_a_native_400_and_leaves_the_queue_alone() -> None:
    stage = Stage()
    stage.fail(429)
    result = outcome(stage, raw=b"not json")
    assert result.status == 400 and "parse the JSON body" in json_of(result)["error"]["message"]
    assert stage.pending == 1


def test_a_reply_waits_for_a_chat_request_while_embeddings_pass_it_by() -> None:
    stage = Stage()
    stage.reply("for chat")
    embedded = outcome(stage, "/v1/embeddings", {"model": "e", "input": ["a"]})
    assert embedded.status == 200 and len(json_of(embedded)["data"]) == 1 and stage.pending == 1


def test_token_models_and_unknown_routes_are_answered_without_the_script() -> None:
    stage = Stage()
    stage.fail(500)
    token = outcome(stage, "/realm-1/oidc/oauth/token", raw=b"grant_type=client_credentials&client_id=a")
    assert (token.status, json_of(token)) == (201, {"token": "t1"})
    assert stage.token_calls == [({"grant_type": "client_credentials", "client_id": "a"}, 1)]
    listing = outcome(stage, "/v1/models", method="GET")
    assert [m["id"] for m in json_of(listing)["data"]] == ["m-1", "m-2"]
    missing = outcome(stage, "/nowhere", method="GET")
    assert missing.status == 404 and json_of(missing)["error"]["message"] == "Unknown route: GET /nowhere"
    assert stage.pending == 1
