"""A one-shot script: a fresh ``python script.py`` that makes ONE chat call, pepperpy beside raw requests and the peers.

    python bench/oneshot.py URL [RUNS]      # prints one JSON list of table rows

What scripts, cron jobs, serverless functions and every ``pepperpy`` CLI command pay: interpreter start, imports,
building a client, one request. Each variant is a whole process, run RUNS times, alternating with the same call
written with raw ``requests`` in the same interpreter; the row is the ratio of the medians (this machine is noisy:
alternating keeps the two under the same load).

Configuration comes from the environment, as a script's would: ``OPENAI_API_KEY`` and the base URL
(``PEPPERPY_PROVIDER_OPENAI_BASE_URL`` for pepperpy, ``base_url=`` for the peers, which take no such variable for
every provider). "without the redis extra" hides an installed ``redis`` package from the child (pybreaker imports
it by itself when it is there), as on a machine where ``pip install pepperpy`` did not add the extra.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = "gpt-4o-mini"
KEY = "sk-bench-0000000000"

RAW = """
import os, requests
r = requests.post(os.environ["URL"] + "/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [
    {"role": "user", "content": "hi"}]}, headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
print(r.json()["choices"][0]["message"]["content"])
"""
PEPPERPY = """
import pepperpy
print(pepperpy.complete("hi", model="gpt-4o-mini").text)
"""
OPENAI_SDK = """
import os, openai
client = openai.OpenAI(base_url=os.environ["URL"] + "/v1", max_retries=0)
print(client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
      .choices[0].message.content)
"""
LITELLM = """
import os, litellm
print(litellm.completion(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                         api_base=os.environ["URL"] + "/v1").choices[0].message.content)
"""
# Hides the redis package from the child, as if the extra were not installed (a meta path finder, before anything)
NO_REDIS = """
import sys
class _NoRedis:
    def find_spec(self, name, path=None, target=None):
        if name == "redis" or name.startswith("redis."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NoRedis())
"""


def _environ(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEPPERPY_", "OPENAI_"))}
    env.update(URL=url, OPENAI_API_KEY=KEY, PEPPERPY_PROVIDER_OPENAI_BASE_URL=url + "/v1",
               PEPPERPY_CACHE_DIR="", LITELLM_LOCAL_MODEL_COST_MAP="True")
    return env


def _seconds(argv: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def compare(ours: list[str], raw: list[str], env: dict[str, str], runs: int, cwd: str) -> tuple[float, float]:
    """Median wall seconds of each whole process, alternating which goes first; one warm-up of each (disk cache)."""
    _seconds(raw, env, cwd), _seconds(ours, env, cwd)
    raw_times, our_times = [], []
    for i in range(runs):
        pair = [(raw, raw_times), (ours, our_times)]
        for argv, times in (pair if i % 2 == 0 else pair[::-1]):
            times.append(_seconds(argv, env, cwd))
    return statistics.median(raw_times), statistics.median(our_times)


def byte_compiled(python: str) -> None:
    """pepperpy's modules compiled to ``__pycache__``, as ``pip install`` leaves an installed package (and the
    peers' packages): a checkout run with ``PYTHONDONTWRITEBYTECODE`` set, or edited since its last import, would
    otherwise compile every changed module in every measured process."""
    subprocess.run([python, "-m", "compileall", "-q", str(ROOT / "pepperpy")], check=True, stdout=subprocess.DEVNULL)


def rows(url: str, runs: int, python: str = sys.executable, peers_python: str | None = None
         ) -> list[tuple[str, str, str, str]]:
    env = _environ(url)
    byte_compiled(python)
    found: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        scripts = {}
        for name, code in {"raw": RAW, "pepperpy": PEPPERPY, "openai": OPENAI_SDK, "litellm": LITELLM}.items():
            for hidden in (False, True):
                path = Path(tmp) / f"oneshot_{name}{'_noredis' if hidden else ''}.py"  # not pepperpy.py
                path.write_text((NO_REDIS if hidden else "") + code)
                scripts[(name, hidden)] = str(path)
        cli = str(Path(python).with_name("pepperpy"))
        variants = [
            ("one-shot script, one call (without the redis extra)", [python, scripts[("pepperpy", True)]],
             [python, scripts[("raw", True)]], "≤ 1.30×"),
            ("one-shot script, one call (redis extra installed)", [python, scripts[("pepperpy", False)]],
             [python, scripts[("raw", False)]], "report"),
            ("one-shot CLI: pepperpy complete -m gpt-4o-mini hi", [cli, "complete", "-m", MODEL, "hi"],
             [python, scripts[("raw", False)]], "report"),
        ]
        if peers_python is not None:
            for name, label in (("openai", "openai SDK"), ("litellm", "LiteLLM")):
                variants.append((f"one-shot script, peer: {label}", [peers_python, scripts[(name, False)]],
                                 [peers_python, scripts[("raw", False)]], "comparison"))
        for label, ours, raw, goal in variants:
            try:
                raw_s, our_s = compare(ours, raw, env, runs, tmp)
            except (subprocess.CalledProcessError, FileNotFoundError) as exc:
                found.append((label, f"failed: {exc}", "", goal))
                continue
            found.append((label, f"{our_s * 1e3:.0f} ms vs {raw_s * 1e3:.0f} ms", f"{our_s / raw_s:.2f}×", goal))
    return found


def main() -> int:
    url, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 11
    peers = str(ROOT / "bench" / ".peers" / "bin" / "python")
    print(json.dumps(rows(url, runs, peers_python=peers if Path(peers).exists() else None)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
