"""Issue 16, must-show 1: for each provider, 25 items with one invalid go in, the exact provider input is
asserted, and the results come back in input order (the fake returns them shuffled), the invalid item as its
typed error, each answer at batch price."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer, Fault
from tests.jobs.helpers import KEY, job_client

ITEMS: list[Any] = [f"question {i}" for i in range(25)]
ITEMS[7] = {"prompt": "question 7", "temperature": 5}  # out of range for every model: refused before upload
SENT = [i for i in range(25) if i != 7]


def anthropic_input(model: str) -> Any:
    return {"requests": [{"custom_id": f"item-{i}", "params": {
        "model": model, "messages": [{"role": "user", "content": f"question {i}"}], "max_tokens": 64}} for i in SENT]}


def gemini_input(model: str) -> Any:
    return {"batch": {"displayName": f"pepperpy {model} (24 requests)", "inputConfig": {"requests": {"requests": [
        {"request": {"contents": [{"role": "user", "parts": [{"text": f"question {i}"}]}],
                     "generationConfig": {"maxOutputTokens": 64}},
         "metadata": {"key": f"item-{i}"}} for i in SENT]}}}}


def openai_input(model: str) -> Any:
    return [{"custom_id": f"item-{i}", "method": "POST", "url": "/v1/chat/completions", "body": {
        "model": model, "messages": [{"role": "user", "content": f"question {i}"}], "max_completion_tokens": 64}}
        for i in SENT]


CASES = {
    "openai": ("gpt-4o-mini", "/v1/files", openai_input, "authorization"),
    "anthropic": ("claude-haiku-4-5", "/v1/messages/batches", anthropic_input, "x-api-key"),
    "gemini": ("gemini-3.8-flash", "/v1beta/models/gemini-3.8-flash:batchGenerateContent", gemini_input,
               "x-goog-api-key"),
}


@pytest.mark.parametrize("provider", sorted(CASES))
def test_25_items_one_invalid_results_in_input_order(provider: str, client: pepperpy.Client,
                                                     server: FakeProviderServer) -> None:
    model, path, expected_input, key_header = CASES[provider]
    job = client.batch(ITEMS, model=model, max_tokens=64)

    create = server.requests[0]
    assert (create.method, create.path) == ("POST", path)
    assert create.headers[key_header] in (KEY, f"Bearer {KEY}")
    if provider == "openai":  # a JSONL file uploaded to /v1/files, then the batch made on it
        (upload,) = create.files("file")
        assert create.form == {"purpose": "batch"} and upload.filename == "pepperpy-batch.jsonl"
        assert upload.content_type == "application/jsonl" and upload.data.endswith(b"\n")
        assert [json.loads(line) for line in upload.data.splitlines()] == expected_input(model)
        batch = server.requests[1]
        assert (batch.method, batch.path) == ("POST", "/v1/batches")
        assert batch.json == {"input_file_id": server.jobs.files[0].id, "endpoint": "/v1/chat/completions",
                              "completion_window": "24h", "metadata": {"created_by": "pepperpy"}}
    else:
        assert create.json == expected_input(model)  # the invalid item was never uploaded

    final = job.wait(poll=0)
    assert (final.state, final.done, final.failed, final.total) == ("completed", 24, 1, 25)
    fake_job = server.jobs.all[0]
    assert [item.custom_id for item in fake_job.answered()] != [f"item-{i}" for i in SENT]  # shuffled by the fake

    results = job.results()
    assert len(results) == 25
    spec = client.model(model)
    for i, result in enumerate(results):
        if i == 7:
            assert isinstance(result, pepperpy.ValidationError)
            assert result.param == "temperature" and "out of range" in str(result)
            continue
        assert isinstance(result, pepperpy.Completion), (i, result)
        assert result.text == f"echo: question {i}"
        assert (result.provider, result.model) == (provider, model)
        assert result.usage.input_tokens == 2 and result.usage.output_tokens == 3
        assert result.cost == pytest.approx(spec.cost(result.usage) * 0.5)  # batch_discount: 0.5
    assert job.cost == pytest.approx(sum(r.cost for r in results if isinstance(r, pepperpy.Completion)))


@pytest.mark.parametrize("provider", sorted(CASES))
def test_an_item_the_provider_refuses_is_that_items_error(provider: str, client: pepperpy.Client,
                                                          server: FakeProviderServer) -> None:
    model = CASES[provider][0]
    server.jobs.refuse = "FORBIDDEN"
    job = client.batch(["fine", "a FORBIDDEN word", "also fine"], model=model)
    job.wait(poll=0)
    first, refused, last = job.results()
    assert isinstance(first, pepperpy.Completion) and isinstance(last, pepperpy.Completion)
    assert isinstance(refused, pepperpy.InvalidRequestError)
    assert refused.status_code == 400 and "FORBIDDEN" in str(refused)
    assert job.status().state == "completed"  # the batch itself is fine


@pytest.mark.parametrize("provider", sorted(CASES))
def test_scripted_replies_and_failures_answer_the_items_in_order(provider: str, client: pepperpy.Client,
                                                                 server: FakeProviderServer) -> None:
    model = CASES[provider][0]
    server.reply("Paris.", usage=(7, 2))
    server.fail(500)
    job = client.batch(["Capital of France?", "boom", "third"], model=model)
    job.wait(poll=0)
    paris, failed, echo = job.results()
    assert isinstance(paris, pepperpy.Completion) and paris.text == "Paris." and paris.usage.input_tokens == 7
    assert isinstance(failed, pepperpy.ProviderUnavailableError)
    assert isinstance(echo, pepperpy.Completion) and echo.text == "echo: third"


def test_openai_a_batch_whose_file_fails_validation_says_why(client: pepperpy.Client,
                                                             server: FakeProviderServer) -> None:
    server.jobs.outcome("failed")
    job = client.batch(["a", "b"], model="gpt-4o-mini")
    assert job.wait(poll=0).state == "failed"
    for result in job.results():
        assert isinstance(result, pepperpy.JobError) and result.state == "failed"
        assert "fake_failure: The fake provider was told to fail this batch" in str(result)


def test_openai_an_upload_that_fails_is_resent_whole(client: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fail(500)  # the first upload attempt
    job = client.batch(["a", "b"], model="gpt-4o-mini")
    first, second = server.requests[0], server.requests[1]
    assert first.path == second.path == "/v1/files" and first.body == second.body and len(first.body) > 200
    assert job.wait(poll=0).state == "completed"


@pytest.mark.parametrize("provider", sorted(CASES))
def test_creating_a_batch_is_not_sent_twice_after_a_server_error(provider: str, client: pepperpy.Client,
                                                                 server: FakeProviderServer) -> None:
    model, path = CASES[provider][:2]
    upload = ["/v1/files"] if provider == "openai" else []  # OpenAI uploads its file first
    creates = "/v1/batches" if provider == "openai" else path
    for status, headers in ((500, None), (429, {"retry-after": "0"})):
        server.clear()
        if upload:
            server.fault(Fault.hang(0))  # a pass: the upload is answered as usual
        server.fail(status, headers=headers)
        if status == 500:
            with pytest.raises(pepperpy.ProviderUnavailableError):
                client.batch(["a"], model=model)
            # a 5xx may come after the provider made the batch: never sent again (it would run twice)
            assert [r.path for r in server.requests] == [*upload, creates]
        else:
            client.batch(["a"], model=model)
            assert [r.path for r in server.requests] == [*upload, creates, creates]  # 429: nothing was made


def test_gemini_a_large_input_goes_as_an_uploaded_file(server: FakeProviderServer) -> None:
    with job_client(server, providers={"gemini": {"options": {"batch_inline_bytes": 100}}}) as client:
        job = client.batch(["one", "two", {"prompt": "x", "temperature": 9}], model="gemini-3.8-flash")
        start, finish, create = server.requests[:3]
        assert (start.path, start.headers["x-goog-upload-protocol"], start.headers["x-goog-upload-command"]) == (
            "/upload/v1beta/files", "resumable", "start")
        lines = [{"key": f"item-{i}", "request": {"contents": [{"role": "user", "parts": [{"text": text}]}]}}
                 for i, text in ((0, "one"), (1, "two"))]
        assert [json.loads(line) for line in finish.body.splitlines()] == lines
        assert start.headers["x-goog-upload-header-content-length"] == str(len(finish.body))
        assert start.headers["x-goog-upload-header-content-type"] == "application/jsonl"
        assert (finish.query["upload_id"], finish.headers["x-goog-upload-command"],
                finish.headers["x-goog-upload-offset"]) == ("fakeupload000001", "upload, finalize", "0")
        assert create.json == {"batch": {"displayName": "pepperpy gemini-3.8-flash (2 requests)",
                                         "inputConfig": {"fileName": "files/fake000001"}}}
        assert job.wait(poll=0).state == "completed"
        results = job.results()
        assert [r.text for r in results[:2] if isinstance(r, pepperpy.Completion)] == ["echo: one", "echo: two"]
        assert isinstance(results[2], pepperpy.ValidationError)
        download = server.requests[-1]  # the answers came as a file too
        assert (download.path, download.query) == ("/v1beta/files/batch-fake000003:download", {"alt": "media"})


@dataclasses.dataclass
class City:
    name: str
    population: int


@pytest.mark.parametrize("provider", sorted(CASES))
def test_a_response_format_parses_every_answer(provider: str, client: pepperpy.Client,
                                               server: FakeProviderServer) -> None:
    model = CASES[provider][0]
    server.jobs.refuse = "Atlantis"
    job = client.batch(["Paris", "Atlantis"], model=model, response_format=City)
    job.wait(poll=0)
    paris, atlantis = job.results()
    assert isinstance(paris, pepperpy.Completion) and isinstance(paris.parsed, City)
    assert isinstance(atlantis, pepperpy.InvalidRequestError)
    again = client.batch_job(job.id, response_format=City).results()[0]  # a type cannot travel in the id
    assert isinstance(again, pepperpy.Completion) and again.parsed == paris.parsed
    assert client.batch_job(job.id).results()[0].parsed is None  # type: ignore[union-attr]
    server.reply("not json at all")
    job = client.batch(["Lima"], model=model, response_format=City)
    job.wait(poll=0)
    (broken,) = job.results()
    assert isinstance(broken, pepperpy.StructuredOutputError) and broken.text == "not json at all"


def test_tools_as_functions_go_as_definitions(client: pepperpy.Client, server: FakeProviderServer) -> None:
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return "sunny"

    client.batch(["Weather in Lima?"], model="claude-haiku-4-5", tools=[get_weather])
    (tool,) = server.requests[0].json["requests"][0]["params"]["tools"]
    assert tool["name"] == "get_weather" and tool["input_schema"]["properties"] == {"city": {"type": "string"}}
    with pytest.raises(pepperpy.ValidationError, match="item 0 sets response_format as a Python object"):
        client.batch([{"prompt": "x", "response_format": City}], model="claude-haiku-4-5")


def test_an_item_error_echoing_the_key_is_redacted(server: FakeProviderServer) -> None:
    secret = "plainly-not-a-known-key-shape-42"  # no sk- prefix: only the Client's own key list can catch it
    client = pepperpy.Client(env_file=None, api_keys={"anthropic": secret},
                             providers={"anthropic": {"base_url": server.base_url("anthropic")}})
    server.fault(Fault.hang(0))  # the create passes; the item takes the failure
    server.fail(401, body={"type": "error", "error": {"type": "authentication_error",
                                                      "message": f"invalid x-api-key: {secret}"}})
    job = client.batch(["a"], model="claude-haiku-4-5")
    job.wait(poll=0)
    (error,) = job.results()
    assert isinstance(error, pepperpy.AuthenticationError)
    assert secret not in str(error) and secret not in repr(error.details) and "invalid x-api-key" in str(error)
