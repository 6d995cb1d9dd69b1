"""pepperpy's benchmark: what its convenience costs over hand-written ``requests`` on the same server.

    python bench/run.py            # full run, writes docs/performance.md
    python bench/run.py --smoke    # a few rounds, prints only (CI: it must run, timings are not judged)

The provider is pepperpy's loopback FakeProviderServer in its own process. Each figure interleaves
rounds of the raw ``requests`` version and the pepperpy version in this one process and reports
medians, as a ratio to raw requests (this machine is noisy; absolute times mean little).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import fanout  # bench/fanout.py
import oneshot  # bench/oneshot.py
import requests
import shared_state  # bench/shared_state.py
from timing import interleaved, per_call, subprocess_seconds  # bench/timing.py

import pepperpy

ROOT = Path(__file__).resolve().parent.parent
MODEL = "gpt-4o-mini"
KEY = "sk-bench-0000000000"
GOALS = {"call": 1.10, "stream": 1.10, "cache_hit": 0.12, "import": 1.15, "client_ms": 50.0, "cold_client_ms": 25.0,
         "rss_growth_mb": 5.0}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "server.py")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def bench(smoke: bool) -> list[tuple[str, str, str, str]]:
    rounds, n = (3, 10) if smoke else (21, 150)
    proc, url = start_server()
    rows: list[tuple[str, str, str, str]] = []
    try:
        providers = {"openai": {"base_url": url + "/v1"}}
        client = pepperpy.Client(providers=providers, api_keys={"openai": KEY}, env_file=None, max_retries=0)
        session = requests.Session()
        headers = {"Authorization": f"Bearer {KEY}"}
        body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}

        # call
        raw_s, our_s = interleaved(
            lambda: session.post(url + "/v1/chat/completions", json=body, headers=headers).json(),
            lambda: client.complete("hi", model=MODEL), rounds, n)
        rows.append(("call", f"{our_s * 1e6:.0f} µs vs {raw_s * 1e6:.0f} µs", f"{our_s / raw_s:.3f}×",
                     f"≤ {GOALS['call']:.2f}×"))

        # the same call with telemetry on and no OpenTelemetry provider set (the API's no-op tracer and meter)
        try:
            traced = pepperpy.Client(providers=providers, api_keys={"openai": KEY}, env_file=None, max_retries=0,
                                     telemetry=True)
        except pepperpy.ConfigurationError:
            rows.append(("call, telemetry=True, no provider set", "opentelemetry-api not installed", "", "skipped"))
        else:
            raw_s, traced_s = interleaved(
                lambda: session.post(url + "/v1/chat/completions", json=body, headers=headers).json(),
                lambda: traced.complete("hi", model=MODEL), rounds, n)
            rows.append(("call, telemetry=True, no provider set", f"{traced_s * 1e6:.0f} µs vs {raw_s * 1e6:.0f} µs",
                         f"{traced_s / raw_s:.3f}×", f"≤ {GOALS['call']:.2f}×"))

        # the same call with breakers and limits shared through Redis (skipped when redis-server is missing)
        rows.extend(shared_state.rows(
            lambda **options: pepperpy.Client(providers=providers, api_keys={"openai": KEY}, env_file=None,
                                              max_retries=0, **options),
            MODEL, lambda: session.post(url + "/v1/chat/completions", json=body, headers=headers).json(), our_s,
            interleaved, per_call, rounds, n))

        # stream: ~2,000 chunks
        prompt = " ".join(["w"] * 1999)
        stream_body = {**body, "messages": [{"role": "user", "content": prompt}], "stream": True,
                       "stream_options": {"include_usage": True}}

        def raw_stream() -> None:
            with session.post(url + "/v1/chat/completions", json=stream_body, headers=headers, stream=True) as r:
                for line in r.iter_lines():
                    if line.startswith(b"data: ") and line != b"data: [DONE]":
                        json.loads(line[6:])

        def our_stream() -> None:
            for _ in client.stream(prompt, model=MODEL):
                pass

        raw_s, our_s = interleaved(raw_stream, our_stream, 3 if smoke else 11, 1 if smoke else 3)
        rows.append(("stream (2,000 chunks)", f"{our_s * 1e3:.1f} ms vs {raw_s * 1e3:.1f} ms",
                     f"{our_s / raw_s:.3f}×", f"≤ {GOALS['stream']:.2f}×"))

        # cache hit, beside what merely preparing the same request costs with requests (a Session's
        # prepare_request: URL, headers, JSON body; nothing sent)
        cached = pepperpy.Client(providers=providers, api_keys={"openai": KEY}, env_file=None, cache=True)
        cached.complete("hi", model=MODEL)
        prep_s, hit_s = interleaved(
            lambda: session.prepare_request(requests.Request("POST", url + "/v1/chat/completions", json=body,
                                                             headers=headers)),
            lambda: cached.complete("hi", model=MODEL), rounds, 20 * n)
        rows.append(("cache hit, beside preparing the same request with requests",
                     f"{hit_s * 1e6:.1f} µs vs {prep_s * 1e6:.1f} µs", f"{hit_s / prep_s:.3f}×",
                     f"≤ {GOALS['cache_hit']:.2f}×"))

        # catalog
        builds = [per_call(lambda: pepperpy.Client(env_file=None), 1) for _ in range(7 if not smoke else 2)]
        # a fresh process: importing the client side (requests, urllib3, pepperpy's modules), then Client()
        code = ("import time; t0 = time.perf_counter(); from pepperpy import Client; t1 = time.perf_counter(); "
                "Client(env_file=None); t2 = time.perf_counter(); print(t1 - t0, t2 - t1)")
        load_s, first = map(float, subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                  check=True, cwd="/").stdout.split())
        # cold: a fresh process with no validated-file cache (first run, CI, a container, a read-only home); the
        # packaged catalog comes from its packed form, no YAML or JSON Schema
        colds = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                      cwd="/", env={**os.environ, "PEPPERPY_CACHE_DIR": ""}).stdout.split()[1])
                 for _ in range(2 if smoke else 9)]
        resolve = per_call(lambda: client.catalog.resolve("claude-sonnet"), 20000)
        rows.append(("Client() from packaged catalog", f"{statistics.median(builds) * 1e3:.1f} ms "
                     f"(first in a fresh process: {first * 1e3:.1f} ms, after {load_s * 1e3:.0f} ms "
                     f"importing the client side)", "", f"≤ {GOALS['client_ms']:.0f} ms"))
        rows.append(("cold Client(): fresh process, no cache", f"{statistics.median(colds) * 1e3:.1f} ms (median of "
                     f"{len(colds)} processes, after importing the client side)", "",
                     f"≤ {GOALS['cold_client_ms']:.0f} ms"))
        rows.append(("resolve a model name", f"{resolve * 1e6:.2f} µs", "", "dict lookup"))

        # import
        imports_raw, imports_ours = [], []
        for _ in range(3 if smoke else 15):
            imports_raw.append(subprocess_seconds("import requests"))
            imports_ours.append(subprocess_seconds("import pepperpy"))
        ratio = statistics.median(imports_ours) / statistics.median(imports_raw)
        rows.append(("import (whole process)", f"{statistics.median(imports_ours) * 1e3:.0f} ms vs "
                     f"{statistics.median(imports_raw) * 1e3:.0f} ms", f"{ratio:.3f}×", f"≤ {GOALS['import']:.2f}×"))

        # memory
        calls = 500 if smoke else 10_000
        for _ in range(500):
            client.complete("hi", model=MODEL)
        gc.collect()
        before = rss_mb()
        for _ in range(calls):
            client.complete("hi", model=MODEL)
        gc.collect()
        growth = rss_mb() - before
        rows.append((f"RSS growth over {calls:,} calls", f"{growth:.2f} MB", "", f"< {GOALS['rss_growth_mb']:.0f} MB"))
        base_rss = float(subprocess.run([sys.executable, "-c", "import requests\nprint(int(open('/proc/self/statm')"
                                         ".read().split()[1]) * 4096 / 1e6)"], capture_output=True, text=True,
                                        check=True, cwd="/").stdout)
        our_rss = float(subprocess.run([sys.executable, "-c", "import pepperpy; c = pepperpy.Client(env_file=None)\n"
                                        "print(int(open('/proc/self/statm').read().split()[1]) * 4096 / 1e6)"],
                                       capture_output=True, text=True, check=True, cwd="/").stdout)
        rows.append(("RSS of import + Client()", f"{our_rss:.1f} MB (import requests alone: {base_rss:.1f} MB)", "",
                     "report"))

        rows.extend(peers(url, rounds, n, install=not smoke))

        # one-shot: a fresh `python script.py` making one call, each beside the same script with raw requests
        python = fanout.peers_python(install=False)
        rows.extend(oneshot.rows(url, 3 if smoke else 15, peers_python=None if smoke else python))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
    return rows


def peers(url: str, rounds: int, n: int, install: bool) -> list[tuple[str, str, str, str]]:
    """The peers per call, each against raw requests, measured in the peers' own virtualenv (bench/.peers); then
    the event loop's CPU per call beside aiohttp's (bench/async_cpu.py, in that virtualenv too)."""
    python = fanout.peers_python(install)
    if python is None:
        return [("peers (openai SDK, aisuite, LiteLLM, aiohttp)", "not installed", "", "optional")]
    rows = []
    fresh, fresh_url = start_server()  # the CPU row gets a server that has not recorded the run's calls so far
    try:
        for script, where, args, what in (
                ("peers_call.py", url, (str(rounds), str(n)), "peers"),
                ("async_cpu.py", fresh_url, (str(max(rounds // 2, 3)), str(10 * n)), "async CPU")):
            done = subprocess.run([python, str(ROOT / "bench" / script), where, *args], capture_output=True,
                                  text=True, timeout=900)
            if done.returncode != 0:
                rows.append((what, f"failed: {(done.stderr.strip().splitlines() or ['?'])[-1][:200]}", "",
                             "optional"))
                continue
            found = json.loads(done.stdout.strip().splitlines()[-1])
            rows.extend(tuple(row) for row in (found if isinstance(found[0], list) else [found]))
    finally:
        assert fresh.stdin is not None
        fresh.stdin.close()
        fresh.wait(timeout=10)
    return rows  # type: ignore[return-value]


def table(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["| figure | measured | ratio to raw requests | goal |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
            f"Python {platform.python_version()}, requests {requests.__version__}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a quick run that only checks the benchmark works")
    args = parser.parse_args()
    oneshot.byte_compiled(sys.executable)  # before any process measures an import
    rows = bench(args.smoke)
    text = table(rows)
    print(text)
    # fan-out: N calls at once against a server answering after 0.5 s, with the peers (bench/fanout.py)
    fan, _ = fanout.table(sizes=(50,), rounds=1, peers=False) if args.smoke else fanout.table()
    print(fan)
    if not args.smoke:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        out = ROOT / "docs" / "performance.md"
        notes = out.read_text(encoding="utf-8").split("<!-- notes -->", 1)[1] if out.exists() and \
            "<!-- notes -->" in out.read_text(encoding="utf-8") else "\n"
        out.write_text(f"# Performance\n\nMeasured by `make bench` ({Path(__file__).name}) on {stamp}, "
                       f"{machine()}.\nEach ratio is pepperpy's median over raw `requests` doing the same work on "
                       f"the same loopback server, interleaved in one process.\n\n{text}\n\n## Fan-out\n\n"
                       f"N chat calls at once against a loopback server (`bench/slow_server.py`) that answers each "
                       f"after 0.5 s; each line is a fresh process, 3 rounds ({Path(fanout.__file__).name}).\n\n"
                       f"{fan}\n\n<!-- notes -->{notes}", encoding="utf-8")
        print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
