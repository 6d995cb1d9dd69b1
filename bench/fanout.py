"""Fan-out: N concurrent chat calls against a server that answers each after 0.5 s, pepperpy beside its peers.

    python bench/fanout.py                 # pepperpy acomplete and map, the peers when installed; a table
    python bench/fanout.py --one APPROACH N URL    # one measurement (what the table runs in a fresh process)

Each measurement runs in a process of its own (memory is that process's), against ``slow_server.py`` started
afresh for it: ``rounds`` rounds of N calls at once (the first opens the connections, later ones may reuse
them); the table shows the median wall time, errors over all rounds, the worst lateness of a 10 ms ticker on
the event loop during the rounds (how long the loop was stalled), and the peak RSS. ``make bench`` runs it and
writes the table into docs/performance.md; the peers (openai's AsyncOpenAI with its default client, LiteLLM's
acompletion) run from a separate virtualenv, ``bench/.peers`` (made by ``make bench`` with pip on first use,
with aiohttp for bench/async_cpu.py).

From ``RAISED`` calls at once (the 10,000 row) every client has its concurrency raised to N (pepperpy's
``max_concurrency``, AsyncOpenAI's httpx limits, aiohttp's connector limit) and the process its file-descriptor
limit (soft to hard: a connection is a descriptor; the server raises its own): the first round opens the
connections, and the wall time is the median of the rounds after it, which reuse them. The peers there are
AsyncOpenAI and a bare aiohttp session.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-bench-0000000000"
MODEL = "gpt-4o-mini"
GOALS = {200: 0.8, 1000: 1.0, 10_000: 5.0}  # seconds for N x 0.5 s calls (issues 17 and 27)
RAISED = 10_000  # from this N: concurrency limits raised to N, the first round only opens the connections
PEERS_VENV = ROOT / "bench" / ".peers"
PEER_PACKAGES = ("openai", "litellm", "aisuite", "aiohttp")
# bench/async_cpu.py imports pepperpy from this checkout beside aiohttp: its runtime dependencies the peers lack
PEPPERPY_DEPS = ("requests", "pyyaml", "jsonschema", "cachetools", "pybreaker", "python-dotenv", "h11")
PEER_IMPORTS = ("import openai, litellm, aisuite, aiohttp, requests, yaml, jsonschema, cachetools, pybreaker, "
                "dotenv, h11")
APPROACHES = {  # name: (label, needs the peers' python)
    "acomplete": ("pepperpy `acomplete` (asyncio.gather)", False),
    "map": ("pepperpy `client.map` (blocking)", False),
    "openai": ("openai `AsyncOpenAI` (default client)", True),
    "litellm": ("LiteLLM `acompletion`", True),
    "aiohttp": ("aiohttp `ClientSession` (POST + json, no SDK)", True),
}
RAISED_APPROACHES = {  # the 10,000 row: the same clients, each told to hold N connections
    "acomplete": "pepperpy `acomplete` (max_concurrency=N)",
    "openai": "openai `AsyncOpenAI` (httpx limits N)",
    "aiohttp": "aiohttp `ClientSession` (connector limit N)",
}


class Ticker:
    """Wakes every 10 ms on the event loop and keeps the worst lateness of each round while ``recording``."""

    def __init__(self) -> None:
        self.worst: list[float] = []
        self.recording = False

    def next_round(self) -> None:
        self.worst.append(0.0)
        self.recording = True

    async def run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            if self.recording:
                self.worst[-1] = max(self.worst[-1], time.perf_counter() - start - 0.01)


async def calls(approach: str, n: int, url: str) -> Any:
    """An async function making one call, for ``approach`` (limits raised to ``n`` from ``RAISED``)."""
    messages = [{"role": "user", "content": "hi"}]
    raised = n >= RAISED
    if approach == "acomplete":
        import pepperpy

        client = pepperpy.Client(env_file=None, api_keys={"openai": KEY}, max_retries=0,
                                 providers={"openai": {"base_url": url + "/v1"}},
                                 **({"max_concurrency": n} if raised else {}))
        return lambda: client.acomplete("hi", model=MODEL)
    if approach == "openai":
        import openai

        http = {}
        if raised:  # its default client keeps 100 connections alive, of 1,000 at most
            limits = type(openai.DEFAULT_CONNECTION_LIMITS)(max_connections=n, max_keepalive_connections=n)
            http = {"http_client": openai.DefaultAsyncHttpxClient(limits=limits)}
        sdk = openai.AsyncOpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0, **http)
        return lambda: sdk.chat.completions.create(model=MODEL, messages=messages)
    if approach == "aiohttp":
        import aiohttp

        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=n if raised else 100))
        body, headers = {"model": MODEL, "messages": messages}, {"Authorization": f"Bearer {KEY}"}

        async def post() -> Any:
            async with session.post(url + "/v1/chat/completions", json=body, headers=headers) as response:
                response.raise_for_status()
                return await response.json()

        post.close = session.close  # type: ignore[attr-defined]
        return post
    if approach == "litellm":
        import litellm

        return lambda: litellm.acompletion(model=f"openai/{MODEL}", messages=messages, api_base=url + "/v1",
                                           api_key=KEY, num_retries=0)
    raise SystemExit(f"unknown approach {approach}")


def raise_fd_limit() -> None:
    """The soft RLIMIT_NOFILE up to the hard one (a connection is a file descriptor)."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


async def measure(approach: str, n: int, url: str, rounds: int) -> dict[str, Any]:
    if n >= RAISED:
        raise_fd_limit()
    ticker = Ticker()
    tick = asyncio.ensure_future(ticker.run())
    walls: list[float] = []
    errors: list[int] = []  # per round
    kinds: collections.Counter[str] = collections.Counter()  # what failed, by error class and first words
    if approach == "map":
        import pepperpy

        client = pepperpy.Client(env_file=None, api_keys={"openai": KEY}, max_retries=0,
                                 providers={"openai": {"base_url": url + "/v1"}})
        loop = asyncio.get_running_loop()
        for _ in range(rounds):
            ticker.next_round()
            start = time.perf_counter()
            results = await loop.run_in_executor(None, lambda: client.map(["hi"] * n, model=MODEL,
                                                                          return_exceptions=True, progress=False))
            walls.append(time.perf_counter() - start)
            ticker.recording = False
            errors.append(sum(isinstance(r, Exception) for r in results))
            kinds.update(f"{type(r).__name__}: {str(r)[:60]}" for r in results if isinstance(r, Exception))
    else:
        one = await calls(approach, n, url)
        for _ in range(rounds):
            ticker.next_round()
            start = time.perf_counter()
            results = await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)
            walls.append(time.perf_counter() - start)
            ticker.recording = False
            errors.append(sum(isinstance(r, BaseException) for r in results))
            kinds.update(f"{type(r).__name__}: {str(r)[:60]}" for r in results if isinstance(r, BaseException))
            if errors[-1] == n:  # nothing to reuse, and minutes a round at 10,000 (AsyncOpenAI): stop here
                break
    tick.cancel()
    close = getattr(one, "close", None) if approach != "map" else None
    if close is not None:
        await close()
    return {"walls": [round(w, 3) for w in walls], "errors": sum(errors), "errors_per_round": errors,
            "error_kinds": kinds.most_common(3),
            "worst_tick_ms": [round(w * 1e3, 1) for w in ticker.worst],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def peers_python(install: bool) -> str | None:
    """The peers' virtualenv python, made (pip install the peers and pepperpy's runtime dependencies) or
    completed (a virtualenv of an older run, without aiohttp) when ``install``; None when missing."""
    python = PEERS_VENV / "bin" / "python"
    if python.exists() and subprocess.run([str(python), "-c", PEER_IMPORTS], capture_output=True).returncode == 0:
        return str(python)
    if not install:
        return str(python) if python.exists() else None
    print(f"fanout: installing the peers ({', '.join(PEER_PACKAGES)}) into {PEERS_VENV.relative_to(ROOT)} ...",
          file=sys.stderr)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           *PEER_PACKAGES, *PEPPERPY_DEPS], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode != 0:
        print(f"fanout: could not install the peers; their rows are left out ({done.stderr.strip()[-300:]})",
              file=sys.stderr)
        return None
    return str(python)


def run_one(python: str, approach: str, n: int, rounds: int) -> dict[str, Any]:
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "slow_server.py")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert server.stdin is not None and server.stdout is not None
    url = server.stdout.readline().strip()
    try:
        done = subprocess.run([python, str(Path(__file__).resolve()), "--one", approach, str(n), url,
                               "--rounds", str(rounds)], capture_output=True, text=True, timeout=600,
                              env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    finally:
        server.stdin.close()
        served = json.loads(server.stdout.readline() or "{}")
        server.wait(timeout=10)
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1:] or ["?"]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["server"] = served
    return result


def table(sizes: tuple[int, ...] = (200, 1000, RAISED), rounds: int = 3, install: bool = True,
          peers: bool = True) -> tuple[str, list[dict[str, Any]]]:
    python = peers_python(install) if peers else None
    lines = ["| N × 0.5 s | client | wall (median) | goal | errors | event loop worst stall: first round / "
             "later | peak RSS | server: most connections open |", "|---|---|---|---|---|---|---|---|"]
    found = []
    for n in sizes:
        raised = n >= RAISED
        approaches = {name: (RAISED_APPROACHES[name].replace("=N", f"={n:,}").replace(" N)", f" {n:,})"),
                             APPROACHES[name][1]) for name in RAISED_APPROACHES} if raised else \
            {name: entry for name, entry in APPROACHES.items() if name != "aiohttp"}
        for approach, (label, peer) in approaches.items():
            if peer and python is None:
                continue
            result = run_one(python if peer and python else sys.executable, approach, n, rounds)
            result.update(approach=approach, n=n)
            found.append(result)
            if "failed" in result:
                lines.append(f"| {n:,} | {label} | failed: {result['failed'][0][:80]} | | | | | |")
                continue
            timed = result["walls"][1:] if raised and len(result["walls"]) > 1 else result["walls"]
            wall = statistics.median(timed)
            goal = "comparison" if peer else f"≤ {GOALS[n]:.1f} s" if n in GOALS else "report"
            note = "" if not raised else " (kept connections)" if len(result["walls"]) > 1 else \
                f" (first round; every call failed: {result['error_kinds'][0][0][:50]})"
            lines.append(f"| {n:,} | {label} | {wall:.2f} s{note} | {goal} | {result['errors']} | "
                         f"{result['worst_tick_ms'][0]:.0f} ms / {max(result['worst_tick_ms'][1:] or [0]):.0f} ms | "
                         f"{result['peak_rss_mb']:.0f} MB | "
                         f"{result['server'].get('peak_open', '?')} |")
            print(lines[-1], file=sys.stderr)
    return "\n".join(lines), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", nargs=3, metavar=("APPROACH", "N", "URL"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--sizes", type=lambda text: tuple(int(n) for n in text.split(",")), default=None,
                        help="comma-separated N, e.g. 1000,10000 (default: 200,1000,10000)")
    args = parser.parse_args()
    if args.one:
        approach, n, url = args.one
        print(json.dumps(asyncio.run(measure(approach, int(n), url, args.rounds))))
        return 0
    text, _ = table(**({"sizes": args.sizes} if args.sizes else {}), rounds=args.rounds, peers=not args.no_peers)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
