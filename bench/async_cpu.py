"""CPU per awaited call: pepperpy's ``acomplete`` beside a bare aiohttp POST + ``json()``, 100 calls in flight.

    bench/.peers/bin/python bench/async_cpu.py URL ROUNDS CALLS     # prints one JSON table row

Run by bench/run.py with the peers' python (bench/.peers has aiohttp; pepperpy is imported from this checkout).
Both clients make the same chat call to the same loopback server (another process, so its CPU is not counted),
``CALLS`` calls per round with 100 in flight; rounds alternate which client goes first, and each figure is the
median over rounds of this process's CPU time (``time.process_time``) divided by the calls.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODEL = "gpt-4o-mini"
KEY = "sk-bench-0000000000"
IN_FLIGHT = 100


async def cpu_per_call(one: Callable[[], Awaitable[object]], calls: int) -> float:
    """``calls`` calls by ``IN_FLIGHT`` tasks, each making its share one after the other (no semaphore: a queue
    of a thousand waiters would cost both clients more than some of their own work)."""

    async def worker(share: int) -> None:
        for _ in range(share):
            await one()

    start = time.process_time()
    await asyncio.gather(*(worker(calls // IN_FLIGHT) for _ in range(IN_FLIGHT)))
    return (time.process_time() - start) / (calls // IN_FLIGHT * IN_FLIGHT)


async def measure(url: str, rounds: int, calls: int) -> tuple[float, float]:
    import aiohttp

    import pepperpy

    client = pepperpy.Client(env_file=None, api_keys={"openai": KEY}, max_retries=0,
                             providers={"openai": {"base_url": url + "/v1"}})
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {KEY}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT)) as session:

        async def bare() -> object:
            async with session.post(url + "/v1/chat/completions", json=body, headers=headers) as response:
                response.raise_for_status()
                return await response.json()

        async def ours() -> object:
            return await client.acomplete("hi", model=MODEL)

        await cpu_per_call(bare, IN_FLIGHT)  # warm: connections open, modules imported
        await cpu_per_call(ours, IN_FLIGHT)
        bare_s, our_s = [], []
        for i in range(rounds):
            pair = (ours, bare) if i % 2 else (bare, ours)
            first, second = await cpu_per_call(pair[0], calls), await cpu_per_call(pair[1], calls)
            (our_s if i % 2 else bare_s).append(first)
            (bare_s if i % 2 else our_s).append(second)
    client.close()
    return statistics.median(our_s), statistics.median(bare_s)


def main() -> int:
    url, rounds, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ours, bare = asyncio.run(measure(url, rounds, calls))
    print(json.dumps(["CPU per awaited call, 100 in flight, beside a bare aiohttp POST + json",
                      f"{ours * 1e6:.0f} µs vs {bare * 1e6:.0f} µs (aiohttp)", f"{ours / bare:.3f}× aiohttp",
                      "≤ 1.00× aiohttp"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
