"""The documentation's code names current models: no string in a code block of docs/*.md or README.md, nor in
examples/, is a name the catalog lists as retired (the seed documents used several; docs/seed-api.md and the
error tables mention them in prose, which is not checked)."""

from __future__ import annotations

import re
from pathlib import Path

import pepperpy
from tests.docs.test_doc_examples import blocks

ROOT = Path(__file__).resolve().parents[2]
_STRING = re.compile(r"""["']([A-Za-z0-9][\w.:/-]*)["']""")


def retired_strings(text: str, catalog: pepperpy.Client) -> list[str]:
    return [name for name in _STRING.findall(text) if catalog.catalog.retired(name) is not None]


def test_no_code_in_the_docs_or_examples_names_a_retired_model() -> None:
    client = pepperpy.Client(env_file=None, use_keyring=False)
    found = []
    for page in [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]:
        for block in blocks(page):
            found += [f"{block.where}: {name}" for name in retired_strings(block.code, client)]
    for path in sorted((ROOT / "examples").rglob("*.py")):
        found += [f"{path.relative_to(ROOT)}: {name}" for name in retired_strings(path.read_text("utf-8"), client)]
    assert found == []


def test_the_check_sees_a_retired_name() -> None:
    client = pepperpy.Client(env_file=None, use_keyring=False)
    assert retired_strings('complete("hi", model="gpt-4") or model="gpt-4.1"', client) == ["gpt-4"]
