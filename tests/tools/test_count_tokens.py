"""Must show 4: client.count_tokens per dialect, exact where the provider has a counting endpoint and
estimated elsewhere, and the pre-flight ContextLengthError raised with no request sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import pepperpy
from pepperpy.catalog.tokens import estimate_tokens
from pepperpy.testing import FakeProviderServer
from tests.conftest import write_provider
from tests.tools.conftest import MODEL, model_of

SYSTEM = "Answer in one word"          # 4 words
QUESTION = "What is the capital of France?"  # 6 words


@pytest.fixture
def counting_client(fake_catalog: Path, tmp_path: Path, server: FakeProviderServer) -> Iterator[pepperpy.Client]:
    """The four dialects, plus OpenAI with its input_tokens endpoint and a llama.cpp server."""
    extra = tmp_path / "counting"
    write_provider(extra, "f-responses", "openai", server.base_url("openai"), models=MODEL,
                   extra="options: {count_tokens: responses}\n")
    write_provider(extra, "f-llamacpp", "openai", server.base_url("openai"), models=MODEL,
                   extra="options: {count_tokens: llamacpp}\n")
    with pepperpy.Client(catalog=[fake_catalog, extra], env_file=None, max_retries=0) as client:
        yield client


@pytest.mark.parametrize(("model", "path"), [
    (model_of("anthropic"), "/v1/messages/count_tokens"),
    (model_of("gemini"), "/v1beta/models/fake-chat:countTokens"),
    ("f-responses/fake-chat", "/v1/responses/input_tokens"),
])
def test_exact_counts_from_the_providers_endpoints(counting_client: pepperpy.Client, server: FakeProviderServer,
                                                   model: str, path: str) -> None:
    count = counting_client.count_tokens(QUESTION, model=model, system=SYSTEM)
    assert count == pepperpy.TokenCount(tokens=10, exact=True)  # the fake tokenizer: one token per word
    assert [r.path for r in server.requests] == [path]
    tool = {"type": "function", "function": {"name": "lookup", "description": "Find a fact",
                                             "parameters": {"type": "object"}}}
    with_tools = counting_client.count_tokens(QUESTION, model=model, system=SYSTEM, tools=[tool])
    assert with_tools.exact and with_tools.tokens > 10  # the tool definitions count too


def test_llamacpp_renders_the_template_then_tokenizes(counting_client: pepperpy.Client,
                                                      server: FakeProviderServer) -> None:
    messages = [{"role": "user", "content": QUESTION}]
    assert counting_client.count_tokens(messages, model="f-llamacpp/fake-chat") == pepperpy.TokenCount(6, True)
    assert [r.path for r in server.requests] == ["/apply-template", "/tokenize"]
    assert server.requests[1].json["add_special"] is True


@pytest.mark.parametrize("model", [model_of("ollama"), model_of("openai")])
def test_estimates_where_there_is_no_endpoint(counting_client: pepperpy.Client, server: FakeProviderServer,
                                              model: str) -> None:
    count = counting_client.count_tokens(QUESTION, model=model, system=SYSTEM)
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
    assert count == pepperpy.TokenCount(estimate_tokens(messages), exact=False)
    assert server.requests == []


def test_tool_functions_and_response_formats_are_counted(counting_client: pepperpy.Client) -> None:
    def lookup(query: str) -> str:
        """Find a fact in the encyclopedia."""
        return query

    plain = counting_client.count_tokens(QUESTION, model=model_of("anthropic"))
    assert counting_client.count_tokens(QUESTION, model=model_of("anthropic"), tools=[lookup]).tokens > plain.tokens
    schema = {"type": "object", "properties": {"capital": {"type": "string", "description": "its name"}}}
    assert counting_client.count_tokens(QUESTION, model=model_of("ollama"), response_format=schema).tokens > \
        counting_client.count_tokens(QUESTION, model=model_of("ollama")).tokens


def test_preflight_context_length_error_sends_nothing(fake_client: pepperpy.Client, server: FakeProviderServer,
                                                      dialect: str) -> None:
    long_prompt = "The quick brown fox jumps over the lazy dog. " * 500  # ~5,000 tokens; the window is 1,000
    with pytest.raises(pepperpy.ContextLengthError) as info:
        fake_client.complete(long_prompt, model=model_of(dialect))
    error = info.value
    assert error.limit == 1000 and error.tokens is not None and error.tokens > 1000
    assert error.tokens <= 5000  # a lower bound, never more than the real size
    assert error.provider == f"f-{dialect}" and error.status_code is None
    with pytest.raises(pepperpy.ContextLengthError):
        list(fake_client.stream(long_prompt, model=model_of(dialect)))
    assert server.requests == []
    # a prompt that may fit is sent, and the provider decides
    assert fake_client.complete("The quick brown fox. " * 100, model=model_of(dialect)).text.startswith("echo:")
