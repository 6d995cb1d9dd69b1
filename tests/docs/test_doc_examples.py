"""Every ```python block of docs/*.md and README.md runs, offline, against the loopback fake server.

How a page is run: its blocks run in order, in one namespace (a later block may use what an earlier one
defined), in a temporary directory, with every catalog provider pointed at a fresh ``FakeProviderServer``
(``server_environ``: base URL and a fake key per provider; StackSpot through a catalog overlay). Chat calls
answer ``"echo: <prompt>"``, embeddings are deterministic vectors. Top-level ``await`` is allowed.

Marking blocks (an HTML comment on the line just before the fence; mkdocs and GitHub hide it):
- ``<!-- no-run -->`` or ``<!-- no-run: why -->``: shown, never run (needs real keys, a real server, a
  framework that is not installed...). Keep these few.
- A block whose imports are not installed (django, flask...) is skipped, with that reason.
- A ```yaml block whose first line is a comment naming a file (``# my-catalog/house.yaml``) is written to
  that path before the next blocks run; a provider it declares is pointed at the fake server too. Any other
  block is written to a file when ``<!-- file: prompts.jsonl -->`` precedes it (formats without comments).
Every ``pepperpy ...`` command line in ```bash / ```console / ```sh blocks must parse with the CLI's parser, and
runs (``cli.main``, in-process) in the same offline world, after the page's named ```yaml files are written; it
must exit 0. A command on the right of a pipe (``git diff | pepperpy complete ... -``) reads two lines of sample
text from stdin. ``<!-- no-run -->`` before a shell block skips its commands (they still have to parse).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import re
import shlex
import signal
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy import cli
from pepperpy.cli import build_parser
from pepperpy.testing import FAKE_API_KEY, FakeProviderServer, server_environ

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
PAGE_SECONDS = 30  # a page that runs longer is stuck (a real network call, an endless loop)

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\s`]*)")
_NO_RUN = re.compile(r"^\s*<!--\s*no-run\b\s*:?\s*(?P<why>.*?)\s*-->\s*$")
_FILE = re.compile(r"^\s*<!--\s*file:\s*(?P<name>\S+)\s*-->\s*$")
_SHELL = {"bash", "sh", "shell", "console", "zsh"}


@dataclass(frozen=True)
class Block:
    page: Path
    line: int          # 1-based line of the first code line
    language: str
    code: str
    no_run: str | None  # the reason, "" when none was given; None when the block runs
    file: str | None = None  # the file a <!-- file: NAME --> marker writes the block to

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].strip().startswith(fence[0] * len(fence)):
            end += 1
        previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = _NO_RUN.match(previous)
        named = _FILE.match(previous)
        code = textwrap.dedent("\n".join(line[indent:] if line[:indent].isspace() else line
                                         for line in lines[start:end]))
        found.append(Block(page, start + 1, match["info"].lower(), code, marker["why"] if marker else None,
                           named["name"] if named else None))
        i = end + 1
    return found


def python_blocks(page: Path) -> list[Block]:
    return [b for b in blocks(page) if b.language in ("python", "py", "python3")]


@dataclass(frozen=True)
class Command:
    block: Block
    line: int           # 1-based line on the page
    text: str           # the pepperpy command as written (one segment of a pipeline)
    words: list[str]    # its arguments, "pepperpy" first
    piped: bool         # something is piped into it

    @property
    def where(self) -> str:
        return f"{self.block.page.relative_to(ROOT)}:{self.line}"


def commands(block: Block) -> list[Command]:
    """The ``pepperpy ...`` commands of a shell block (lines ending with a backslash continue)."""
    if block.language not in _SHELL:
        return []
    found: list[Command] = []
    lines = block.code.splitlines()
    number = 0
    while number < len(lines):
        first, line = number, lines[number]
        while line.rstrip().endswith("\\") and number + 1 < len(lines):
            number += 1
            line = line.rstrip()[:-1] + " " + lines[number].strip()
        number += 1
        for position, segment in enumerate(line.split("|")):
            words = shlex.split(segment.strip().removeprefix("$ "), comments=True)
            if words and words[0] == "pepperpy":
                found.append(Command(block, block.line + first, segment.strip(), words, position > 0))
    return found


def file_of(block: Block) -> Path | None:
    """The relative path a ```yaml block names in its first-line comment, or a ``<!-- file: -->`` marker."""
    if block.file is not None:
        path = Path(block.file)
        return None if path.is_absolute() or ".." in path.parts else path
    first = block.code.lstrip().splitlines()[0] if block.code.strip() else ""
    words = first.removeprefix("#").split()
    if block.language not in ("yaml", "yml") or not first.startswith("#") or not words:
        return None
    path = Path(words[0])
    if path.suffix not in (".yaml", ".yml") or path.is_absolute() or ".." in path.parts:
        return None
    return path


def write_file(block: Block, path: Path, server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(block.code + "\n", encoding="utf-8")
    if block.language not in ("yaml", "yml"):
        return
    data = yaml.safe_load(block.code)
    if isinstance(data, dict) and data.get("provider") and (data.get("dialect") or data.get("base_url")):
        prefix = "PEPPERPY_PROVIDER_" + str(data["provider"]).upper().replace("-", "_") + "_"  # a new provider
        monkeypatch.setenv(prefix + "BASE_URL", server.base_url(str(data.get("dialect", "openai"))))
        monkeypatch.setenv(prefix + "API_KEY", FAKE_API_KEY)


# --------------------------------------------------------------------------- the offline world

@contextlib.contextmanager
def offline_providers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviderServer]:
    with FakeProviderServer() as server:
        for name, value in server_environ(server).items():
            monkeypatch.setenv(name, value)
        overlay = tmp_path / "docs-overlay"
        overlay.mkdir()
        (overlay / "stackspot.yaml").write_text(
            f"provider: stackspot\nbase_url: {server.url}\noptions:\n"
            f"  auth_url: \"{server.token_url('{realm}')}\"\n"
            f"  client_id_env: [STACKSPOT_CLIENT_ID]\n  realm_env: [STACKSPOT_REALM]\n", encoding="utf-8")
        monkeypatch.setenv("PEPPERPY_CATALOG_PATH", str(overlay))
        for name, value in {"STACKSPOT_CLIENT_ID": "docs", "STACKSPOT_REALM": "docs",
                            "STACKSPOT_CLIENT_SECRET": FAKE_API_KEY}.items():
            monkeypatch.setenv(name, value)
        pepperpy.reset_default_client()
        try:
            yield server
        finally:
            pepperpy.reset_default_client()


@contextlib.contextmanager
def deadline(seconds: int, where: str) -> Iterator[None]:
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def stuck(signum: int, frame: Any) -> None:
        raise TimeoutError(f"{where} still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_block(block: Block, namespace: dict[str, Any]) -> None:
    # Padding keeps traceback line numbers equal to the Markdown page's.
    source = "\n" * (block.line - 1) + block.code
    code = compile(source, str(block.page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


def _third_party(error: ModuleNotFoundError) -> bool:
    return bool(error.name) and str(error.name).split(".")[0] not in ("pepperpy", "tests")


# --------------------------------------------------------------------------- the tests

@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)], ids=lambda p: p.name)
def test_python_examples_run_offline(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    skipped: list[str] = []
    with offline_providers(tmp_path, monkeypatch) as server, deadline(PAGE_SECONDS, page.name):
        for block in blocks(page):
            path = file_of(block)
            if path is not None and block.no_run is None:
                write_file(block, path, server, monkeypatch)
            if block.language not in ("python", "py", "python3"):
                continue
            if block.no_run is not None:
                skipped.append(f"{block.where}: marked no-run {block.no_run}".rstrip())
                continue
            try:
                run_block(block, namespace)
            except ModuleNotFoundError as exc:
                if not _third_party(exc):
                    raise
                skipped.append(f"{block.where}: needs {exc.name}, which is not installed")
            except BaseException as exc:
                output = capsys.readouterr().out[-2000:]
                pytest.fail(f"the example at {block.where} raised {type(exc).__name__}: {exc}\n"
                            f"(mark it <!-- no-run: why --> if it cannot run offline)\n--- its output ---\n"
                            f"{output}", pytrace=True)
    if skipped:
        print("\n".join(skipped), file=sys.stderr)


@pytest.mark.parametrize("page", [p for p in PAGES if any(b.language in _SHELL for b in blocks(p))],
                         ids=lambda p: p.name)
def test_documented_commands_parse(page: Path) -> None:
    parser = build_parser()
    for block in blocks(page):
        for command in commands(block):
            if any(w in ("--help", "-h", "--version") for w in command.words):
                continue
            try:
                parser.parse_args(command.words[1:])
            except SystemExit as exc:
                pytest.fail(f"{command.where}: `{command.text}` does not parse (exit {exc.code})")


@pytest.mark.parametrize("page", [p for p in PAGES if any(commands(b) for b in blocks(p))], ids=lambda p: p.name)
def test_documented_commands_run_offline(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    skipped: list[str] = []
    with offline_providers(tmp_path, monkeypatch) as server, deadline(PAGE_SECONDS, page.name):
        for block in blocks(page):
            path = file_of(block)
            if path is not None and block.no_run is None:
                write_file(block, path, server, monkeypatch)
        for block in blocks(page):
            for command in commands(block):
                if block.no_run is not None:
                    skipped.append(f"{command.where}: marked no-run {block.no_run}".rstrip())
                    continue
                monkeypatch.setattr(sys, "stdin", io.StringIO("first sample text\nsecond sample text\n"
                                                              if command.piped else ""))
                try:
                    code = cli.main(command.words[1:])
                except SystemExit as exc:  # --help, --version
                    code = exc.code if isinstance(exc.code, int) else 1
                out, err = capsys.readouterr()
                assert code == 0, (f"{command.where}: `{command.text}` exited {code} offline\n"
                                   f"(mark its block <!-- no-run: why --> if it cannot run offline)\n"
                                   f"--- stderr ---\n{err[-2000:]}\n--- stdout ---\n{out[-2000:]}")
    if skipped:
        print("\n".join(skipped), file=sys.stderr)


def test_the_harness_finds_shell_commands(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```bash\npepperpy models  # all\ngit diff | pepperpy complete -m m -\n"
                    "pepperpy complete -m m \\\n    'two lines'\npip install pepperpy\n```\n", encoding="utf-8")
    (block,) = blocks(page)
    assert [(c.line, c.words, c.piped) for c in commands(block)] == [
        (2, ["pepperpy", "models"], False), (3, ["pepperpy", "complete", "-m", "m", "-"], True),
        (4, ["pepperpy", "complete", "-m", "m", "two lines"], False)]


def test_the_harness_writes_marked_blocks_to_files(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text('<!-- file: data/prompts.jsonl -->\n```jsonl\n"a"\n"b"\n```\n\n```jsonl\n"c"\n```\n'
                    '<!-- file: ../escape.txt -->\n```text\nx\n```\n', encoding="utf-8")
    named, plain, escaping = blocks(page)
    assert (file_of(named), file_of(plain), file_of(escaping)) == (Path("data/prompts.jsonl"), None, None)


def test_the_harness_finds_and_marks_blocks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# t\n\n```python\nx = 1\n```\n\n<!-- no-run: needs a real key -->\n\n```py\nboom()\n```\n"
                    "\n- item\n\n  ```python\n  y = x + 1\n  ```\n", encoding="utf-8")
    found = python_blocks(page)
    assert [(b.line, b.code, b.no_run) for b in found] == [
        (4, "x = 1", None), (10, "boom()", "needs a real key"), (16, "y = x + 1", None)]
    namespace: dict[str, Any] = {}
    run_block(found[0], namespace)
    run_block(found[2], namespace)
    assert namespace["y"] == 2
    awaiting = Block(page, 3, "python", "import asyncio\nawait asyncio.sleep(0)\nz = 3", None)
    run_block(awaiting, namespace)
    assert namespace["z"] == 3
