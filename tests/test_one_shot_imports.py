"""A script that makes one blocking call imports only what a blocking call needs (issue 27).

Each case is a fresh process against the offline provider server, with the ``redis`` package hidden as if the
extra were not installed (pybreaker imports it by itself when it is there): no JSON Schema (the packaged
catalog was validated when it was packed), nothing of the async road, no keyring (the key is in the
environment), no redis, no pybreaker (a breaker's machinery loads at the first failure). The CLI's
``pepperpy complete`` gets the same treatment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pepperpy.testing import FakeProviderServer

NO_REDIS = """
import sys
class _NoRedis:
    def find_spec(self, name, path=None, target=None):
        if name == "redis" or name.startswith("redis."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NoRedis())
"""
REPORT = """
import json, sys
print(json.dumps(sorted(sys.modules)))
"""
# What a blocking call must not import: (module, why it would be there)
FORBIDDEN = {
    "jsonschema": "the packaged catalog is validated when packed",
    "yaml": "the packaged catalog loads from its packed JSON",
    "asyncio": "the async road",
    "h11": "the async road's HTTP/1.1 framing",
    "pepperpy.pipeline._async": "the async pipeline",
    "pepperpy.http._async_client": "the event loop's HTTP client",
    "pepperpy.http._async_pool": "the event loop's connection pools",
    "keyring": "the key is in the environment",
    "redis": "no shared state",
    "pybreaker": "no failure yet",
    "pepperpy.media._values": "a chat call makes no media value",
    "pepperpy.tools._toolset": "no tools",
    "dataclasses": "results and specs are Value classes (it loads inspect, ast and dis)",
    "inspect": "nothing on the way needs it",
    "pepperpy.catalog._checks": "the packaged catalog was checked when packed",
    "pepperpy.http._translate": "nothing failed",
    "pepperpy.types._stream": "no stream",
    "pepperpy.pipeline._bridge": "no map, nothing awaited",
}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as fake:
        yield fake


def _environ(server: FakeProviderServer, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEPPERPY_", "OPENAI_"))}
    env.update(OPENAI_API_KEY="sk-one-shot-0000000000", PEPPERPY_PROVIDER_OPENAI_BASE_URL=server.url + "/v1",
               PEPPERPY_CACHE_DIR=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return env


def _modules(code: str, env: dict[str, str], cwd: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", NO_REDIS + code + REPORT], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return modules


def _imported(modules: list[str], allowed: tuple[str, ...] = ()) -> list[str]:
    return [f"{name} ({why})" for name, why in FORBIDDEN.items() if name in modules and name not in allowed]


def test_a_blocking_complete_imports_only_what_it_needs(server: FakeProviderServer, tmp_path: Path) -> None:
    modules = _modules('import pepperpy\nassert pepperpy.complete("hi", model="gpt-4o-mini").text == "echo: hi"',
                       _environ(server, tmp_path), tmp_path)
    assert _imported(modules) == []
    assert "pepperpy.dialects.openai" in modules and "requests" in modules  # the scan saw the call's own


def test_settings_given_in_code_are_validated_once_then_remembered(server: FakeProviderServer,
                                                                   tmp_path: Path) -> None:
    code = ("import pepperpy\nc = pepperpy.Client(providers={'openai': {'timeout': 30}})\n"
            "assert c.complete('hi', model='gpt-4o-mini').text == 'echo: hi'")
    env = _environ(server, tmp_path)
    first, second = _modules(code, env, tmp_path), _modules(code, env, tmp_path)
    assert "jsonschema" in first  # checked by the schema, the first time
    assert _imported(second) == []  # the same settings again: remembered by their content


def test_the_cli_complete_command_imports_only_what_it_needs(server: FakeProviderServer, tmp_path: Path) -> None:
    code = ("import sys\nfrom pepperpy.cli import main\n"
            "assert main(['complete', '-m', 'gpt-4o-mini', 'hi']) == 0\n")
    modules = _modules(code, _environ(server, tmp_path), tmp_path)
    assert _imported(modules, allowed=("pepperpy.types._stream",)) == []  # it prints the answer as it streams
    assert "pepperpy.types._stream" in modules


def test_the_forbidden_list_would_catch_a_regression(server: FakeProviderServer, tmp_path: Path) -> None:
    # the same scan, on a program that does import the async road and the tools: they are reported
    modules = _modules("import pepperpy, asyncio\nfrom pepperpy.pipeline import _async\nimport pepperpy.tools\n"
                       "pepperpy.tools.ToolSet", _environ(server, tmp_path), tmp_path)
    assert {"asyncio (the async road)", "pepperpy.pipeline._async (the async pipeline)",
            "pepperpy.tools._toolset (no tools)"} <= set(_imported(modules))
