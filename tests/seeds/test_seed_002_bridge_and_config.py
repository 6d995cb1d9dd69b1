"""Seed 002's infrastructure plan, as pepperpy serves it.

- "Async/Sync Bridge: AsyncBridge with a dedicated event loop, timeout handling with proper cancellation,
  statistics tracking, thread safety, context manager support": ``pepperpy.aio.AsyncBridge``.
- "Multi-source loading (env -> keyring -> file), secure credential storage with keyring": pepperpy keeps its
  documented order, explicit > environment > .env > keyring > the user configuration file (docs/security.md
  says why .env comes before the keyring), and the keyring and the file cost nothing while the environment has
  the key.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest

import pepperpy
from pepperpy.aio import AsyncBridge, BridgeStats
from pepperpy.config import Settings

# --------------------------------------------------------------------------- the bridge

async def add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


def test_the_bridge_runs_coroutines_with_and_without_a_running_loop() -> None:
    with AsyncBridge() as bridge:
        assert bridge.run(add(1, 2)) == 3  # a plain script

        async def notebook_cell() -> int:  # a Jupyter cell runs inside a loop: asyncio.run would refuse
            return bridge.run(add(3, 4))

        assert asyncio.run(notebook_cell()) == 7
        assert bridge.stats == BridgeStats(calls=2, in_flight=0, timeouts=0, failures=0)


def test_aio_run_keeps_refusing_inside_a_loop_and_points_to_the_bridge() -> None:
    async def cell() -> None:
        pepperpy.aio.run(add(1, 1))

    with pytest.raises(pepperpy.ConfigurationError, match=r"pepperpy\.aio\.AsyncBridge\(\)\.run\(coro\)"):
        asyncio.run(cell())
    assert pepperpy.aio.run(add(2, 2)) == 4


def test_a_timeout_cancels_the_coroutine_for_real() -> None:
    unwound = threading.Event()
    started = threading.Event()

    async def stuck() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        finally:
            unwound.set()

    with AsyncBridge() as bridge:
        begin = time.monotonic()
        with pytest.raises(pepperpy.BridgeTimeoutError,
                           match=r"after the 0\.05 s timeout, so it was cancelled") as info:
            bridge.run(stuck(), timeout=0.05)
        assert time.monotonic() - begin < 5 and started.is_set()
        assert unwound.is_set() and info.value.cancelled and isinstance(info.value, TimeoutError)
        assert bridge.stats == BridgeStats(calls=1, in_flight=0, timeouts=1, failures=1)


def test_a_coroutine_that_ignores_cancellation_is_reported_still_running() -> None:
    release = threading.Event()

    async def stubborn() -> str:
        while not release.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue  # swallowed: the bridge cannot stop it
        return "done"

    bridge = AsyncBridge(cancel_grace=0.05)
    try:
        with pytest.raises(pepperpy.BridgeTimeoutError, match=r"still running 0\.05 s after the cancellation") as info:
            bridge.run(stubborn(), timeout=0.02)
        assert not info.value.cancelled and bridge.stats.in_flight == 1
    finally:
        release.set()
        bridge.close()
    assert bridge.stats.in_flight == 0


def test_errors_cross_the_bridge_and_many_threads_share_it() -> None:
    async def boom() -> None:
        raise KeyError("inside")

    async def own_timeout() -> None:
        raise TimeoutError("the coroutine's own")

    with AsyncBridge() as bridge:
        with pytest.raises(KeyError, match="inside"):
            bridge.run(boom())
        with pytest.raises(TimeoutError, match="the coroutine's own") as info:
            bridge.run(own_timeout(), timeout=5)
        assert not isinstance(info.value, pepperpy.BridgeTimeoutError)
        results: list[int] = []
        threads = [threading.Thread(target=lambda i=i: results.append(bridge.run(add(i, 1)))) for i in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == list(range(1, 33))
        assert bridge.stats == BridgeStats(calls=34, in_flight=0, timeouts=0, failures=2)


def test_arun_awaits_from_another_loop_and_cancelling_it_cancels_there() -> None:
    unwound = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            unwound.set()

    async def main(bridge: AsyncBridge) -> int:
        task = asyncio.ensure_future(bridge.arun(slow()))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(pepperpy.BridgeTimeoutError):
            await bridge.arun(slow(), timeout=0.01)
        return await bridge.arun(add(5, 6))

    with AsyncBridge() as bridge:
        assert asyncio.run(main(bridge)) == 11
        assert unwound.wait(2)


def test_wrong_uses_say_what_to_do() -> None:
    with AsyncBridge() as bridge:
        with pytest.raises(TypeError, match=r"bridge\.run\(main\(\)\), not bridge\.run\(main\)"):
            bridge.run(add)  # type: ignore[arg-type]
        with pytest.raises(pepperpy.ConfigurationError, match="timeout takes seconds above 0"):
            bridge.run(add(1, 1), timeout=0)

        async def on_its_own_loop() -> int:
            return bridge.run(add(1, 1))

        with pytest.raises(pepperpy.ConfigurationError, match=r"bridge's own loop.*await the coroutine"):
            bridge.run(on_its_own_loop())


# --------------------------------------------------------------------------- configuration order

@pytest.fixture
def keyring(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], str]:
    stored: dict[tuple[str, str], str] = {}
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: stored.get((service, user))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    return stored


def write_config(text: str, mode: int = 0o600) -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "pepperpy" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_the_order_is_explicit_env_dotenv_keyring_then_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                            keyring: dict[tuple[str, str], str]) -> None:
    spec = pepperpy.Client(env_file=None, use_keyring=False).catalog.providers["openai"]
    write_config("providers:\n  openai:\n    api_key: sk-from-the-file-6\n")
    in_file = f"providers.openai.api_key in {tmp_path}/xdg-config/pepperpy/config.yaml"
    assert Settings(".env").key_source(spec) == ("sk-from-the-file-6", in_file)
    keyring[("pepperpy", "openai")] = "sk-from-keyring-5"
    assert Settings(".env").api_key(spec) == "sk-from-keyring-5"
    (tmp_path / ".env").write_text("OPENAI_API_KEY=sk-from-dotenv-4\n", encoding="utf-8")
    assert Settings(".env").api_key(spec) == "sk-from-dotenv-4"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-3")
    assert Settings(".env").api_key(spec) == "sk-from-env-3"
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_API_KEY", "sk-from-pepperpy-env-2")
    assert Settings(".env").api_key(spec) == "sk-from-pepperpy-env-2"
    assert Settings(".env", {"openai": "sk-explicit-1"}).api_key(spec) == "sk-explicit-1"


def test_keyring_and_file_are_not_touched_while_the_environment_has_the_key(tmp_path: Path) -> None:
    """In a fresh process: a call with the key in the environment imports no keyring and opens no config file
    (the file there is not even valid YAML, and keyring is importable)."""
    (tmp_path / "fakekeyring").mkdir()
    (tmp_path / "fakekeyring" / "keyring.py").write_text("raise SystemExit('keyring was imported')\n", "utf-8")
    write_config("providers: [this is not: valid")
    code = (
        "import sys, pepperpy\n"
        "from pepperpy.testing import FakeProviderServer\n"
        "with FakeProviderServer() as server:\n"
        "    client = pepperpy.Client(providers={'openai': {'base_url': server.base_url('openai')}})\n"
        "    assert client.complete('hi', model='gpt-4o-mini').text == 'echo: hi'\n"
        "    assert client.has_credentials('openai')\n"
        "print('keyring' in sys.modules)\n")
    env = {**os.environ, "OPENAI_API_KEY": "sk-env-only-123456",
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "fakekeyring"), *sys.path])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    env.pop("OPENAI_API_KEY")  # now the keyring is asked (and imported): the same fake module says so
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
                          cwd=tmp_path)
    assert "keyring was imported" in done.stderr


def test_a_key_in_a_file_others_can_read_is_refused_saying_chmod_600(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config("providers:\n  openai:\n    api_key: sk-in-a-shared-file-77\n", mode=0o644)
    client = pepperpy.Client(env_file=None, use_keyring=False)
    with pytest.raises(pepperpy.ConfigurationError, match=rf"`chmod 600 {path}`") as info:
        client.complete("hi", model="gpt-4o-mini")
    assert "sk-in-a-shared-file-77" not in str(info.value)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-wins")  # the file is not consulted: no error
    assert pepperpy.Client(env_file=None, use_keyring=False).has_credentials("openai")
