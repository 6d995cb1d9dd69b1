"""Issue 16, must-show 1: for each provider, 25 items with one invalid go in, the exact provider input is
asserted, and the results come back in input order (the fake returns them shuffled), the invalid item as its
typed error, each answer at batch price."""

from __future__ import annotations

from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.jobs.helpers import KEY

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


CASES = {
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
    assert create.json == expected_input(model)  # the invalid item was never uploaded
    assert create.headers[key_header] == KEY

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
