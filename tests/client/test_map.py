"""client.map / _map.map_completions: input order, per-item errors, cancellation, the optional tqdm bar."""

from __future__ import annotations

import _thread
import io
import sys
import threading
import time
import types
from typing import Any

import pytest

import pepperpy
from pepperpy.client._map import map_completions
from pepperpy.testing import FakeProviderServer


class SlowClient:
    """Duck-typed client: item i answers after (n - i) ms, so later items finish first."""

    def __init__(self, n: int, fail_on: frozenset[str] = frozenset()) -> None:
        self.n = n
        self.fail_on = fail_on
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def complete(self, prompt: str | None = None, *, model: str, **kwargs: Any) -> pepperpy.Completion:
        with self.lock:
            self.calls.append(str(prompt))
        if prompt in self.fail_on:
            raise pepperpy.InvalidRequestError(f"bad {prompt}", provider="stub", status_code=400)
        index = int(str(prompt).removeprefix("p"))
        time.sleep((self.n - index) / 1000)
        return pepperpy.Completion(text=f"answer {prompt}", model=model, provider="stub", finish_reason="stop")


def test_results_keep_input_order_when_later_items_finish_first() -> None:
    stub = SlowClient(12)
    results = map_completions(stub, [f"p{i}" for i in range(12)], model="m", max_workers=6)  # type: ignore[arg-type]
    assert [r.text for r in results] == [f"answer p{i}" for i in range(12)]


def test_client_map_over_http_passes_params_and_keeps_order(client: pepperpy.Client,
                                                             server: FakeProviderServer) -> None:
    prompts = [f"question {i}" for i in range(10)]
    results = client.map(prompts, model="local-chat", system="Be brief.", temperature=0.2, max_workers=4)
    assert [r.text for r in results] == [f"echo: question {i}" for i in range(10)]
    assert all(isinstance(r, pepperpy.Completion) and r.provider == "local" for r in results)
    bodies = [req.json for req in server.requests]
    assert len(bodies) == 10
    assert all(b["messages"][0] == {"role": "system", "content": "Be brief."} and b["temperature"] == 0.2
               for b in bodies)


def test_message_lists_are_items_too(client: pepperpy.Client) -> None:
    chat = [{"role": "user", "content": "from messages"}]
    results = client.map(["plain", chat], model="lc")
    assert [r.text for r in results] == ["echo: plain", "echo: from messages"]


def test_return_exceptions_puts_each_error_in_its_place(client: pepperpy.Client,
                                                        server: FakeProviderServer) -> None:
    server.reply("first")
    server.fail(400, message="no such thing")                # not retryable: exactly one request
    server.reply("third")
    bad_item = [{"role": "wizard", "content": "x"}]          # refused before any request
    results = client.map(["a", "b", bad_item, "c"], model="local-chat", max_workers=1, return_exceptions=True)
    assert results[0].text == "first"
    assert isinstance(results[1], pepperpy.InvalidRequestError) and "no such thing" in str(results[1])
    assert isinstance(results[2], pepperpy.ValidationError)
    assert results[3].text == "third"


def test_first_error_is_raised_and_unstarted_items_are_cancelled() -> None:
    stub = SlowClient(50, fail_on=frozenset({"p0"}))
    with pytest.raises(pepperpy.InvalidRequestError, match="bad p0"):
        map_completions(stub, [f"p{i}" for i in range(50)], model="m", max_workers=1)  # type: ignore[arg-type]
    assert len(stub.calls) < 50


class BlockingClient:
    """Duck-typed client whose calls block until ``release`` is set (a provider that is slow to answer)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = 0
        self.lock = threading.Lock()

    def complete(self, prompt: str | None = None, *, model: str, **kwargs: Any) -> pepperpy.Completion:
        with self.lock:
            self.started += 1
        self.release.wait(5)
        return pepperpy.Completion(text=f"answer {prompt}", model=model, provider="stub")


@pytest.mark.parametrize("return_exceptions", [False, True])
def test_ctrl_c_cancels_the_queued_items_and_returns_at_once(return_exceptions: bool) -> None:
    stub = BlockingClient()
    threading.Timer(0.1, _thread.interrupt_main).start()  # the user presses Ctrl-C
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            map_completions(stub, [f"p{i}" for i in range(40)], model="m", max_workers=2,  # type: ignore[arg-type]
                            return_exceptions=return_exceptions, progress=False)
        elapsed = time.monotonic() - started
    finally:
        stub.release.set()  # the two running calls end in their threads
    assert elapsed < 0.5, f"Ctrl-C took {elapsed:.2f} s to stop the batch"  # not waiting on running calls
    time.sleep(0.1)
    assert stub.started == 2  # the 38 queued items never started


def test_bad_arguments_are_refused_before_any_call() -> None:
    stub = SlowClient(3)
    for workers in (0, -1, 2.5, True):
        with pytest.raises(pepperpy.ValidationError, match="max_workers"):
            map_completions(stub, ["p0"], model="m", max_workers=workers)  # type: ignore[arg-type,call-overload]
    with pytest.raises(pepperpy.ValidationError, match="list of prompts"):
        map_completions(stub, "p0", model="m")  # type: ignore[arg-type]
    with pytest.raises(pepperpy.ValidationError, match="messages="):
        map_completions(stub, ["p0"], model="m", messages=[])  # type: ignore[arg-type]
    assert map_completions(stub, [], model="m") == []  # type: ignore[arg-type]
    assert stub.calls == []


# -- progress bar ---------------------------------------------------------------------------------

class FakeBar:
    instances: list[FakeBar] = []

    def __init__(self, total: int, desc: str, unit: str) -> None:
        self.total, self.desc, self.count, self.closed = total, desc, 0, False
        FakeBar.instances.append(self)

    def update(self, n: int = 1) -> None:
        self.count += n

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_tqdm(monkeypatch: pytest.MonkeyPatch) -> type[FakeBar]:
    package, auto = types.ModuleType("tqdm"), types.ModuleType("tqdm.auto")
    auto.tqdm = FakeBar  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", package)
    monkeypatch.setitem(sys.modules, "tqdm.auto", auto)
    FakeBar.instances = []
    return FakeBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_true_counts_every_item(fake_tqdm: type[FakeBar]) -> None:
    map_completions(SlowClient(5), [f"p{i}" for i in range(5)], model="m", progress=True)  # type: ignore[arg-type]
    [bar] = fake_tqdm.instances
    assert (bar.total, bar.desc, bar.count, bar.closed) == (5, "m", 5, True)


def test_progress_none_shows_a_bar_only_on_a_terminal(fake_tqdm: type[FakeBar],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    map_completions(SlowClient(2), ["p0", "p1"], model="m")  # type: ignore[arg-type]
    assert fake_tqdm.instances == []
    monkeypatch.setattr(sys, "stderr", Terminal())
    map_completions(SlowClient(2), ["p0", "p1"], model="m")  # type: ignore[arg-type]
    assert len(fake_tqdm.instances) == 1 and fake_tqdm.instances[0].closed
    map_completions(SlowClient(2), ["p0", "p1"], model="m", progress=False)  # type: ignore[arg-type]
    assert len(fake_tqdm.instances) == 1


def test_progress_true_without_tqdm_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    stub = SlowClient(1)
    with pytest.raises(pepperpy.ConfigurationError, match=r"pip install 'pepperpy\[progress\]'"):
        map_completions(stub, ["p0"], model="m", progress=True)  # type: ignore[arg-type]
    assert stub.calls == []
    monkeypatch.setattr(sys, "stderr", Terminal())  # progress=None quietly does without
    assert len(map_completions(stub, ["p0"], model="m")) == 1  # type: ignore[arg-type]
