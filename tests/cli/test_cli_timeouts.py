"""Issue 11 item 8: a server that never answers. ``--timeout`` and ``--max-retries`` on the command line,
``PEPPERPY_TIMEOUT`` for every Client, and the "waiting for PROVIDER…" line on a terminal's stderr."""

from __future__ import annotations

import importlib
import io
import time
from pathlib import Path

import pytest

import pepperpy
from pepperpy import cli
from pepperpy.cli import parse_args
from pepperpy.testing import FakeProviderServer, Fault, Reply


def notice_module() -> object:
    return importlib.import_module("pepperpy.cli.notice")  # imported here: one failing test each before it existed


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def openai_on_loopback(server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> FakeProviderServer:
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", server.base_url("openai"))
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_API_KEY", "sk-test-timeouts-123456")
    return server


def test_timeout_and_max_retries_before_or_after_the_command() -> None:
    args = parse_args(["--timeout", "2.5", "complete", "-m", "gpt-4o-mini", "--max-retries", "0", "hi"])
    assert (args.timeout, args.max_retries) == (2.5, 0)
    args = parse_args(["--timeout", "9", "complete", "-m", "m", "--timeout", "3", "hi"])
    assert args.timeout == 3.0  # written last wins
    assert (parse_args(["complete", "-m", "m", "hi"]).timeout, parse_args(["models"]).max_retries) == (None, None)
    for bad in (["--timeout", "0"], ["--timeout", "soon"], ["--max-retries", "-1"]):
        with pytest.raises(SystemExit) as info:
            parse_args([*bad, "models"])
        assert info.value.code == 2


def test_a_server_that_never_answers_fails_within_the_timeout(openai_on_loopback: FakeProviderServer,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    openai_on_loopback.fault(Fault.hang(3.0), times=3)
    started = time.monotonic()
    code = cli.main(["complete", "-m", "gpt-4o-mini", "--timeout", "0.3", "--max-retries", "0", "hi"])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1 and "did not answer in time" in err and elapsed < 2.5
    assert len(openai_on_loopback.requests) == 1  # --max-retries 0: one attempt


def test_max_retries_is_passed_on(openai_on_loopback: FakeProviderServer, capsys: pytest.CaptureFixture[str]) -> None:
    openai_on_loopback.fail(503, headers={"retry-after": "0"}, times=3)
    assert cli.main(["complete", "-m", "gpt-4o-mini", "--no-stream", "--max-retries", "1", "hi"]) == 1
    assert len(openai_on_loopback.requests) == 2
    capsys.readouterr()


@pytest.mark.parametrize("mode", [["--no-stream"], []])
def test_the_waiting_line_appears_on_a_terminal_when_the_answer_is_slow(
        openai_on_loopback: FakeProviderServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], mode: list[str]) -> None:
    monkeypatch.setattr(notice_module(), "NOTICE_AFTER", 0.05)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    openai_on_loopback.reply(Reply("late", delay=0.6))
    assert cli.main(["complete", "-m", "gpt-4o-mini", *mode, "hi"]) == 0
    lines = terminal.getvalue().splitlines()
    assert lines[0].startswith("waiting for openai… (no answer after 0.05 s; Ctrl-C stops, --timeout")
    assert sum("waiting for" in line for line in lines) == 1
    assert capsys.readouterr().out == "late\n"


def test_no_waiting_line_when_the_answer_is_quick_or_stderr_is_not_a_terminal(
        openai_on_loopback: FakeProviderServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(notice_module(), "NOTICE_AFTER", 0.3)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert cli.main(["complete", "-m", "gpt-4o-mini", "hi"]) == 0
    time.sleep(0.4)  # past NOTICE_AFTER: a timer left running would print now
    assert "waiting" not in terminal.getvalue()
    monkeypatch.setattr(notice_module(), "NOTICE_AFTER", 0.05)
    openai_on_loopback.reply(Reply("late", delay=0.3))
    monkeypatch.setattr("sys.stderr", io.StringIO())  # a pipe or a log file
    assert cli.main(["complete", "-m", "gpt-4o-mini", "hi"]) == 0
    assert "waiting" not in capsys.readouterr().err


# --------------------------------------------------------------------------- PEPPERPY_TIMEOUT

def test_pepperpy_timeout_sets_every_clients_timeout(openai_on_loopback: FakeProviderServer,
                                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PEPPERPY_TIMEOUT", "0.3")
    with pepperpy.Client(env_file=None, max_retries=0) as client:
        assert client.timeout == 0.3
        openai_on_loopback.fault(Fault.hang(3.0))
        started = time.monotonic()
        with pytest.raises(pepperpy.ProviderTimeoutError):
            client.complete("hi", model="gpt-4o-mini")
        assert time.monotonic() - started < 2.5
    assert pepperpy.Client(env_file=None, timeout=7).timeout == 7  # explicit beats the environment
    monkeypatch.setenv("PEPPERPY_TIMEOUT", "5, 60")
    assert pepperpy.Client(env_file=None).timeout == (5.0, 60.0)
    monkeypatch.delenv("PEPPERPY_TIMEOUT")
    (tmp_path / ".env").write_text("PEPPERPY_TIMEOUT=12\n")
    assert pepperpy.Client().timeout == 12.0  # one configuration path: .env too


@pytest.mark.parametrize("value", ["0", "soon", "-3", "1,2,3", "inf"])
def test_a_bad_pepperpy_timeout_names_the_variable(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_TIMEOUT", value)
    with pytest.raises(pepperpy.ConfigurationError, match=f"PEPPERPY_TIMEOUT='{value}' is not a timeout"):
        pepperpy.Client(env_file=None)
