"""Seed 001 (the provider-system documentation pepperpy's seed API follows) runs as written.

``seed_001_provider_system.txt`` is the seed file itself, byte for byte (its SHA-256 is pinned below); its code
blocks are taken from it by the docs harness (``tests/docs/test_doc_examples.py``) and run in order, in one
namespace, as a reader would paste them, with three exceptions and nothing else (``as_run``, pinned by
``test_only_the_three_exceptions_are_changed``):

1. keys and base URLs point at the offline server: the blocks' own keys ("your-api-key", "...") are kept; the
   providers' addresses come from ``PEPPERPY_PROVIDER_<NAME>_BASE_URL`` (and StackSpot's token URL), and the
   block that reads ``OPENAI_API_KEY`` finds a fake one;
2. a current model name where the seed names the retired gpt-4: the replacement the catalog's ``retired:``
   entry names (``gpt-4`` -> ``gpt-4.1`` on OpenAI, ``openai/gpt-4`` -> ``openai/gpt-4o`` on OpenRouter), as the
   ModelRetiredError of the block as written says (``test_the_seed_model_names_say_they_are_retired``);
3. the StackSpot block is given an agent id (a StackSpot "model" is an agent).

The block whose ``extra_config`` has ``base_url: "custom-endpoint"`` gets a clear ConfigurationError. Blocks
that define coroutines (``process_stream``, ``handle_errors``...) are then called, as their readers would.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import shlex
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy.providers import ProviderEngine, create_provider
from pepperpy.providers.aio import AsyncProvider
from pepperpy.testing import FakeProviderServer
from tests.docs.test_doc_examples import Block, blocks, run_block

SEED = Path(__file__).with_name("seed_001_provider_system.txt")
SEED_SHA256 = "595ec4e63fef9d9472bb9dc22c1c740512e01d362652b404d1b1984d8b99d46f"  # ../shared/seeds/001_*.txt
AGENT = "01JSEED0STACKSPOT0AGENT"
CURRENT = {'"openai/gpt-4"': '"openai/gpt-4o"', '"gpt-4"': '"gpt-4.1"'}  # exception 2, checked against the catalog


def as_run(block: Block) -> Block:
    """The block with exceptions 2 and 3 applied (exception 1 is the environment, ``offline``)."""
    code = block.code
    if '"stackspot"' in code:
        code = code.replace('model="gpt-4",', f'model="{AGENT}",')
    code = code.replace('PEPPERPY_PROVIDER_STACKSPOT_MODEL="gpt-4"', f'PEPPERPY_PROVIDER_STACKSPOT_MODEL="{AGENT}"')
    for retired, current in CURRENT.items():
        code = code.replace(retired, current)
    return replace(block, code=code)


@pytest.fixture
def offline(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviderServer]:
    """Exception 1: the four providers of the seed on the offline server; StackSpot's client id and realm."""
    for name in ("OPENAI", "OPENROUTER"):
        monkeypatch.setenv(f"PEPPERPY_PROVIDER_{name}_BASE_URL", server.base_url("openai"))
    monkeypatch.setenv("PEPPERPY_PROVIDER_GEMINI_BASE_URL", server.base_url("gemini"))
    monkeypatch.setenv("PEPPERPY_PROVIDER_STACKSPOT_BASE_URL", server.url)
    monkeypatch.setenv("PEPPERPY_PROVIDER_STACKSPOT_AUTH_URL", server.token_url("{realm}"))
    monkeypatch.setenv("STACKSPOT_CLIENT_ID", "seed-client")
    monkeypatch.setenv("STACKSPOT_REALM", "seed-realm")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-seed-offline-0000")
    try:
        yield server
    finally:
        ProviderEngine.unregister_provider("custom")


def run(block: Block, namespace: dict[str, Any]) -> None:
    if block.language == "bash":  # the seed's environment block: export NAME="VALUE" lines
        for line in block.code.splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["export"]:
                name, _, value = words[1].partition("=")
                namespace.setdefault("__env__", {})[name] = value
        return
    run_block(block, namespace)


def close_all(namespace: dict[str, Any]) -> None:
    for value in namespace.values():
        if isinstance(value, AsyncProvider):
            value.sync.cleanup()


def test_the_seed_file_is_the_seed() -> None:
    assert hashlib.sha256(SEED.read_bytes()).hexdigest() == SEED_SHA256
    assert len([b for b in blocks(SEED) if b.language in ("python", "bash")]) == 18


def test_only_the_three_exceptions_are_changed() -> None:
    changed = []
    for block in blocks(SEED):
        before, after = block.code.splitlines(), as_run(block).code.splitlines()
        changed += [(a.strip(), b.strip()) for a, b in zip(before, after, strict=True) if a != b]
    assert changed == [
        ('model="gpt-4"', 'model="gpt-4.1"'),
        ('model="gpt-4",  # or gpt-3.5-turbo', 'model="gpt-4.1",  # or gpt-3.5-turbo'),
        ('model="openai/gpt-4",  # or anthropic/claude-3', 'model="openai/gpt-4o",  # or anthropic/claude-3'),
        ('model="gpt-4",  # default model', f'model="{AGENT}",  # default model'),
        ('model="gpt-4",              # Optional: Model to use',
         'model="gpt-4.1",              # Optional: Model to use'),
        ('export PEPPERPY_PROVIDER_OPENAI_MODEL="gpt-4"', 'export PEPPERPY_PROVIDER_OPENAI_MODEL="gpt-4.1"'),
        ('export PEPPERPY_PROVIDER_OPENROUTER_MODEL="openai/gpt-4"',
         'export PEPPERPY_PROVIDER_OPENROUTER_MODEL="openai/gpt-4o"'),
        ('export PEPPERPY_PROVIDER_STACKSPOT_MODEL="gpt-4"', f'export PEPPERPY_PROVIDER_STACKSPOT_MODEL="{AGENT}"'),
    ]


def test_every_block_runs_as_written(offline: FakeProviderServer, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    server = offline
    namespace: dict[str, Any] = {"__name__": "__main__"}
    seed = [as_run(b) for b in blocks(SEED) if b.language in ("python", "bash")]
    try:
        # Quick Start: create, complete, stream, embed
        run(seed[0], namespace)
        out = capsys.readouterr().out
        assert "echo: Explain quantum computing in simple terms.\n" in out and out.endswith("echo: Tell me a story...")
        assert isinstance(namespace["embeddings"], list) and all(isinstance(x, float) for x in namespace["embeddings"])
        quick = [r.json for r in server.requests]
        assert quick[0]["model"] == "gpt-4.1" and quick[0]["temperature"] == 0.7
        assert quick[0]["max_completion_tokens"] == 200 and quick[1]["stream"] is True
        assert server.requests[0].headers["authorization"] == "Bearer your-api-key"

        # Available providers: each block builds its provider (checked, nothing sent)
        for block, model in zip(seed[1:5], ["gpt-4.1", "gemini-pro", "openai/gpt-4o", AGENT], strict=True):
            run(block, namespace)
            provider = namespace["provider"]
            assert isinstance(provider, AsyncProvider) and provider.config.model == model
            assert provider.config.timeout == 30 and provider.config.max_retries == 3
        assert namespace["provider"].provider_type == "stackspot"
        assert asyncio.run(namespace["provider"].complete("Hello agent")) == "echo: Hello agent"
        assert server.requests[-1].path == f"/v1/agent/{AGENT}/chat"

        # ProviderConfig: its base_url "custom-endpoint" is refused, saying what it takes
        with pytest.raises(pepperpy.ConfigurationError,
                           match=r"extra_config\['base_url'\]='custom-endpoint' is not an http\(s\) URL.*https://"):
            run(seed[5], namespace)
        assert namespace["config"].dict()["extra_config"]["organization"] == "org-id"

        # Async context manager: cleaned up on exit
        run(seed[6], namespace)
        assert namespace["response"] == "echo: Hello!"
        with pytest.raises(pepperpy.ConfigurationError, match="not initialized"):
            asyncio.run(namespace["provider"].complete("after the block"))

        # Streaming and embeddings: the coroutines the blocks define
        run(seed[7], namespace)
        asyncio.run(namespace["process_stream"]())
        assert capsys.readouterr().out == "echo: Generate a story..."
        run(seed[8], namespace)
        asyncio.run(namespace["generate_embeddings"]())
        assert [r.json["model"] for r in server.requests[-2:]] == ["text-embedding-3-small", "text-embedding-3-large"]

        # Error handling: a rate limit reaches the except clause with provider_type and details
        run(seed[9], namespace)
        server.fail(429, headers={"retry-after": "0"}, times=3)
        asyncio.run(namespace["handle_errors"]())
        out = capsys.readouterr().out
        assert "Rate limit exceeded: openai returned 429" in out and "Provider: openai\n" in out
        assert "Details: " in out

        # Best practices: the key from the environment, cleanup both ways, retries, streaming in batches
        run(seed[10], namespace)
        assert asyncio.run(namespace["provider"].complete("from env")) == "echo: from env"
        assert server.requests[-1].headers["authorization"] == "Bearer sk-seed-offline-0000"
        run(seed[11], namespace)
        run(seed[12], namespace)
        assert asyncio.run(namespace["with_retries"]("Say hi")) == "echo: Say hi"
        run(seed[13], namespace)
        processed: list[str] = []

        async def process_chunks(chunks: list[str]) -> None:  # the block leaves it to the reader
            processed.extend(chunks)

        namespace["process_chunks"] = process_chunks
        asyncio.run(namespace["handle_stream"]())
        assert "".join(processed) == "echo: Generate..."

        # A custom provider written with coroutines, registered and created (its initialize awaited)
        run(seed[14], namespace)
        run(seed[15], namespace)
        assert "Available providers: [" in capsys.readouterr().out and "custom" in ProviderEngine.list_providers()
        custom = namespace["provider"]
        assert isinstance(custom, AsyncProvider) and custom.sync._initialized
        assert isinstance(custom.sync.inner, namespace["CustomProvider"]) and custom.sync.inner._initialized
        asyncio.run(custom.cleanup())
        assert not custom.sync.inner._initialized

        # Environment variables, then the provider built from them alone
        run(seed[16], namespace)
        for name, value in namespace.pop("__env__").items():
            monkeypatch.setenv(name, value)
        run(seed[17], namespace)
        assert namespace["provider"].config.model == "gpt-4.1"
        assert asyncio.run(namespace["provider"].complete("configured")) == "echo: configured"
        assert server.requests[-1].headers["authorization"] == "Bearer your-openai-key"
    finally:
        close_all(namespace)


def test_the_seed_model_names_say_they_are_retired(offline: FakeProviderServer) -> None:
    """Exception 2's names are the ones the errors give: each block as written stops with a ModelRetiredError,
    and so do the alternatives its comments offer (gpt-3.5-turbo, gemini-pro-vision, anthropic/claude-3)."""
    namespace: dict[str, Any] = {}
    seed = [b for b in blocks(SEED) if b.language == "python"]
    for block, name, replacement in ((seed[0], "gpt-4", "gpt-4.1"), (seed[1], "gpt-4", "gpt-4.1"),
                                     (seed[3], "openai/gpt-4", "openai/gpt-4o")):
        with pytest.raises(pepperpy.ModelRetiredError) as info:
            run_block(block, namespace)
        assert str(info.value).startswith(f"{name} was retired by OpenAI on 2026-10-23; the closest current "
                                          f"model is {replacement!r}")
        assert CURRENT[f'"{name}"'] == f'"{info.value.replacement}"'
    for provider, name, by, replacement in (("openai", "gpt-3.5-turbo", "OpenAI", "gpt-4.1-mini"),
                                            ("gemini", "gemini-pro-vision", "Google", "gemini-flash"),
                                            ("openrouter", "anthropic/claude-3", "Anthropic",
                                             "anthropic/claude-sonnet-5.5")):
        with pytest.raises(pepperpy.ModelRetiredError, match=re.escape(f"{name} was retired by {by} on ")) as info:
            create_provider(provider, api_key="your-key", model=name)
        assert info.value.replacement == replacement and info.value.suggestions == [replacement]


def test_the_stackspot_block_as_written_says_the_model_is_an_agent(offline: FakeProviderServer) -> None:
    stackspot = next(b for b in blocks(SEED) if '"stackspot"' in b.code)
    with pytest.raises(pepperpy.ConfigurationError, match=r"model='gpt-4' is not an agent id.*stackspot/<agent id>"):
        run_block(stackspot, {"create_provider": create_provider})  # imported by the seed's first block
    with pytest.raises(pepperpy.ConfigurationError, match="no agent id was given"):
        create_provider("stackspot", api_key="your-stackspot-key")
    assert offline.requests == []
