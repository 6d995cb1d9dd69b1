"""Notebook display: what Jupyter shows for a Completion or Embeddings, and streaming into a cell as it arrives.

IPython is not a dependency, so ``display_bundle`` does what IPython's DisplayFormatter does with an object
that ends a cell: it asks each ``_repr_<format>_`` method and keeps the answers by MIME type. ``CellOutput``
stands in for ipykernel's stdout, recording when each write is flushed.
"""

from __future__ import annotations

import io
import sys
import time
from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer, Reply

MIME_METHODS = {"text/html": "_repr_html_", "text/markdown": "_repr_markdown_", "text/latex": "_repr_latex_",
                "application/json": "_repr_json_", "image/png": "_repr_png_"}


def display_bundle(obj: Any) -> dict[str, Any]:
    """The MIME bundle a notebook front end receives for ``obj`` (as IPython builds it)."""
    bundle: dict[str, Any] = {"text/plain": repr(obj)}
    for mime, method in MIME_METHODS.items():
        render = getattr(type(obj), method, None)
        if callable(render):
            value = render(obj)
            if value is not None:
                bundle[mime] = value
    return bundle


class CellOutput(io.StringIO):
    """A notebook cell's stdout: remembers what was flushed, and when."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[tuple[float, str]] = []
        self._sent = 0

    def flush(self) -> None:
        text = self.getvalue()[self._sent:]
        if text:
            self.flushed.append((time.monotonic(), text))
            self._sent += len(text)


def test_a_completion_renders_as_markdown_with_its_metadata(client: pepperpy.Client,
                                                            server: FakeProviderServer) -> None:
    server.reply("| river | km |\n|---|---|\n| Nile | 6650 |", usage=(12, 9))
    r = client.complete("Rivers?", model="local-chat")
    bundle = display_bundle(r)
    markdown = bundle["text/markdown"]
    assert markdown.startswith("| river | km |\n|---|---|\n| Nile | 6650 |")  # the answer's own Markdown
    meta = markdown.splitlines()[-1]
    assert meta.startswith("*") and meta.endswith("*")                     # one italic line under it
    for part in ("local/local-chat", "stop", "12→9 tokens", f"${r.cost:.6f}"):
        assert part in meta
    assert "Completion(" in bundle["text/plain"]


def test_a_cached_completion_says_so_and_an_unpriced_one_shows_no_cost() -> None:
    r = pepperpy.Completion(text="Hi", model="m", provider="p", finish_reason="stop",
                            usage=pepperpy.Usage(3, 1), cost=None, cached=True)
    meta = display_bundle(r)["text/markdown"].splitlines()[-1]
    assert "cached" in meta and "$" not in meta


def test_embeddings_render_as_a_one_line_summary(client: pepperpy.Client) -> None:
    e = client.embed(["a", "b", "c"], model="local-embed")
    markdown = display_bundle(e)["text/markdown"]
    assert markdown == "*3 vectors × 8 dims from local/local-embed*"
    assert "0." not in markdown  # no wall of floats in the cell


def test_streaming_prints_each_piece_as_it_arrives(client: pepperpy.Client, server: FakeProviderServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    server.reply(Reply(chunks=["Once", " upon", " a", " time"], chunk_delay=0.08))
    cell = CellOutput()
    monkeypatch.setattr(sys, "stdout", cell)
    started = time.monotonic()
    for chunk in client.stream("Tell me a story", model="local-chat"):
        print(chunk.text, end="", flush=True)
    finished = time.monotonic()
    monkeypatch.undo()
    pieces = [text for _, text in cell.flushed]
    assert "".join(pieces) == "Once upon a time"
    assert pieces[:4] == ["Once", " upon", " a", " time"]   # one flush per piece, none held back
    first_shown = cell.flushed[0][0]
    assert first_shown - started < finished - started - 0.15  # the first words showed well before the end


def test_a_stream_ending_a_cell_prints_as_it_arrives(client: pepperpy.Client, server: FakeProviderServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server.reply(Reply(chunks=["Once", " upon", " a", " time"], usage=(4, 4), chunk_delay=0.05))
    stream = client.stream("Tell me a story", model="local-chat")
    assert callable(getattr(type(stream), "_ipython_display_", None))  # IPython calls it for a cell's value
    cell = CellOutput()
    monkeypatch.setattr(sys, "stdout", cell)
    stream._ipython_display_()
    monkeypatch.undo()
    pieces = [text for _, text in cell.flushed]
    assert pieces[:4] == ["Once", " upon", " a", " time"]
    assert "4→4 tokens" in pieces[-1] and "local/local-chat" in pieces[-1]
