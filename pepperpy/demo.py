"""``make demo``: stream one answer. Real providers when keys are configured (environment or ``.env``),
else the bundled offline provider server.

    python -m pepperpy.demo ["your prompt"]
"""

from __future__ import annotations

import os
import sys

from .client._client import Client
from .errors import PepperpyError

__all__ = ["main"]

PROMPT = "In three sentences, why do circuit breakers help apps that call LLM APIs?"
# first model per provider the demo tries when that provider has a key
PREFERRED = [("openai", "gpt-4o-mini"), ("anthropic", "claude-haiku"), ("gemini", "gemini-flash")]
OFFLINE_ANSWER = ("Circuit breakers stop an app from hammering a provider that is already failing. "
                  "They fail fast, so web workers are not tied up waiting on timeouts. "
                  "And they let the provider recover before traffic returns.")


def _real_model(client: Client) -> str | None:
    chosen = os.environ.get("PEPPERPY_DEMO_MODEL")
    if chosen:
        return chosen
    offered = client.offered_models()
    if offered:
        return offered[0].name
    for provider, model in PREFERRED:
        if provider in client.catalog.providers and client.has_credentials(provider):
            return model
    for spec in client.catalog.providers.values():  # any other provider with a key: its first chat model
        if spec.requires_api_key and client.has_credentials(spec.name):
            chat = [m for m in spec.models if m.mode == "chat"]
            if chat:
                return chat[0].name
    return None


def _stream(client: Client, model: str, prompt: str) -> None:
    print(f"> {prompt}\n[{model}] ", end="", flush=True)
    with client.stream(prompt, model=model, max_tokens=300) as stream:
        for chunk in stream:
            print(chunk.text, end="", flush=True)
    done = stream.completion
    cost = f", ${done.cost:.6f}" if done.cost is not None else ""
    print(f"\n\n({done.provider}/{done.model}: {done.usage.input_tokens} tokens in, "
          f"{done.usage.output_tokens} out{cost}, finish={done.finish_reason})")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    prompt = " ".join(args) or PROMPT
    try:
        with Client() as client:
            model = _real_model(client)
            if model is not None:
                _stream(client, model, prompt)
                return 0
        from .testing import FakeProviderServer, Reply

        print("(no provider key in the environment or .env: using the bundled offline provider server)\n")
        with FakeProviderServer() as server:
            server.reply(Reply(text=OFFLINE_ANSWER, chunk_delay=0.02))
            offline = {"openai": {"base_url": server.base_url("openai")}}
            with Client(providers=offline, api_keys={"openai": "offline-demo"}, env_file=None) as client:
                _stream(client, "gpt-4o-mini", prompt)
        return 0
    except PepperpyError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
