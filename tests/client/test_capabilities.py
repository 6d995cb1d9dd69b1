"""Issue 11 item 5: a request a catalog model cannot take (images without ``vision``, tools without ``tools``,
audio without ``audio``) is refused before sending, naming a model that can; a provider's answer that an input
type is unsupported is not retried as if it were transient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer
from tests.conftest import LOCAL_MODELS, write_provider

IMAGE = [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                      {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}}]}]
AUDIO = [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]}]
TOOL = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}}}


def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@pytest.fixture
def client(server: FakeProviderServer) -> Iterator[pepperpy.Client]:
    names = ("groq", "ollama", "openai", "llamacpp")
    with pepperpy.Client(env_file=None, api_keys={"groq": "gsk-test-1234", "openai": "sk-test-1234"},
                         providers={name: {"base_url": server.base_url(name)} for name in names}) as c:
        yield c


@pytest.mark.parametrize(("model", "kwargs", "words"), [
    ("groq/gpt-oss-20b", {"messages": IMAGE}, "groq/gpt-oss-20b does not take images: its catalog entry lists no "
                                              "'vision' capability; use a model that does, such as 'groq/qwen3.8-27b'"),
    ("ollama/gemma3", {"prompt": "Weather in Paris?", "tools": [TOOL]}, "such as 'ollama/llama3.2'"),
    ("ollama/gemma3", {"prompt": "Weather in Paris?", "tools": [weather]}, "does not take tools"),
    ("gpt-4o-mini", {"messages": AUDIO}, "does not take audio input"),
])
def test_a_missing_capability_is_refused_before_sending(client: pepperpy.Client, server: FakeProviderServer,
                                                        model: str, kwargs: dict[str, object], words: str) -> None:
    for call in (client.complete, client.stream):
        with pytest.raises(pepperpy.ValidationError) as info:
            call(model=model, **kwargs)  # type: ignore[operator]
        assert words in str(info.value)
    assert info.value.param == ("tools" if "tools" in kwargs else "messages")
    assert server.requests == []


def test_the_tool_loop_is_refused_too(client: pepperpy.Client, server: FakeProviderServer) -> None:
    with pytest.raises(pepperpy.ValidationError, match="ollama/gemma3 does not take tools"):
        client.run("Weather in Paris?", model="ollama/gemma3", tools=[weather])
    assert server.requests == []


def test_models_with_the_capability_and_models_without_a_list_are_sent(client: pepperpy.Client,
                                                                       server: FakeProviderServer,
                                                                       tmp_path: Path) -> None:
    assert client.complete(model="gpt-4o-mini", messages=IMAGE).text == "echo: What is this?"
    assert client.complete("Weather?", model="ollama/llama3.2", tools=[TOOL]).text
    assert client.complete(model="llamacpp/any-gguf", messages=IMAGE).text  # open model: the server decides
    folder = write_provider(tmp_path / "cat", "house", "openai", server.base_url("openai"),
                            models="- id: bare-model\n")  # a user entry that lists no capabilities
    with pepperpy.Client(catalog=folder, env_file=None) as house:
        assert house.complete(model="house/bare-model", messages=IMAGE).text
    assert len(server.requests) == 4
    assert LOCAL_MODELS  # the conftest catalog is untouched


LLAMA_CPP_IMAGE = {"error": {"code": 500, "type": "server_error", "message": "image input is not supported - hint: if "
                             "this is unexpected, you may need to provide the mmproj"}}
LLAMA_CPP_AUDIO = {"error": {"code": 500, "type": "server_error", "message": "audio input is not supported - hint: if "
                             "this is unexpected, you may need to provide the mmproj"}}
OLLAMA_TOOLS = {"error": "registry.ollama.ai/library/gemma3:latest does not support tools"}


@pytest.mark.parametrize(("status", "body"), [(500, LLAMA_CPP_IMAGE), (500, LLAMA_CPP_AUDIO), (400, OLLAMA_TOOLS)])
def test_an_unsupported_input_answer_is_not_retried(client: pepperpy.Client, server: FakeProviderServer,
                                                     status: int, body: dict[str, object]) -> None:
    server.fail(status, body, times=3)
    with pytest.raises(pepperpy.InvalidRequestError) as info:
        client.complete(model="llamacpp/any-gguf", messages=IMAGE)
    error = info.value
    assert not isinstance(error, pepperpy.ProviderUnavailableError)
    assert error.retryable is False and error.status_code == status
    assert "does not take this kind of input" in str(error)
    assert len(server.requests) == 1  # max_retries=2, yet one attempt
