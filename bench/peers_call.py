"""The peers' cost per call, run by bench/run.py with the peers' own python (bench/.peers): each SDK against raw
``requests`` on the same loopback server, interleaved in this one process. Prints one JSON list of table rows.

    bench/.peers/bin/python bench/peers_call.py URL ROUNDS N
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections.abc import Callable

import requests
from timing import interleaved, subprocess_seconds  # bench/timing.py

MODEL = "gpt-4o-mini"
KEY = "sk-bench-0000000000"


def main() -> int:
    url, rounds, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    messages = [{"role": "user", "content": "hi"}]
    body = {"model": MODEL, "messages": messages}
    session = requests.Session()
    headers = {"Authorization": f"Bearer {KEY}"}

    def raw() -> object:
        return session.post(url + "/v1/chat/completions", json=body, headers=headers).json()

    calls: dict[str, Callable[[], Callable[[], object]]] = {}

    def openai_sdk() -> Callable[[], object]:
        import openai

        sdk = openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)
        return lambda: sdk.chat.completions.create(model=MODEL, messages=messages)  # type: ignore[arg-type]

    def aisuite_client() -> Callable[[], object]:
        import aisuite

        suite = aisuite.Client({"openai": {"api_key": KEY, "base_url": url + "/v1", "max_retries": 0}})
        return lambda: suite.chat.completions.create(model=f"openai:{MODEL}", messages=messages)

    def litellm_call() -> Callable[[], object]:
        import litellm

        return lambda: litellm.completion(model=f"openai/{MODEL}", messages=messages, api_base=url + "/v1",
                                          api_key=KEY)

    calls = {"openai SDK": openai_sdk, "aisuite": aisuite_client, "LiteLLM": litellm_call}
    rows = []
    for name, make in calls.items():
        try:
            peer = make()
        except ImportError:
            rows.append((f"peer: {name}", "not installed", "", "optional"))
            continue
        raw_s, peer_s = interleaved(raw, peer, rounds, n)
        rows.append((f"peer: {name} call", f"{peer_s * 1e6:.0f} µs", f"{peer_s / raw_s:.3f}×", "comparison"))
    for module in ("openai", "litellm"):
        try:
            __import__(module)
        except ImportError:
            continue
        seconds = statistics.median(subprocess_seconds(f"import {module}") for _ in range(3))
        rows.append((f"peer: import {module}", f"{seconds * 1e3:.0f} ms", "", "comparison"))
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch at import
    raise SystemExit(main())
