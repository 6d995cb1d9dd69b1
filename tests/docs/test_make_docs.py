"""`make docs`, mkdocs.yml and the pages' structure: every page in the nav, every link and anchor resolves."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from pepperpy.catalog._registry import Catalog

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
VENV_MKDOCS = ROOT / ".venv" / "bin" / "mkdocs"
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*$", re.M)


def nav_pages() -> list[str]:
    """Every page of the nav, sections (``- Title: [pages]``) flattened, in order."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def pages(entries: list[Any]) -> list[str]:
        found: list[str] = []
        for entry in entries:
            for value in entry.values() if isinstance(entry, dict) else [entry]:
                found.extend(pages(value) if isinstance(value, list) else [value])
        return found

    return pages(config["nav"])


def doc_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def anchors(page: Path) -> set[str]:
    """The ids mkdocs' toc extension gives the page's headings."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", m["title"].lower())).strip("-")
            for m in _HEADING.finditer(text)}


def test_every_page_is_in_the_nav_and_every_nav_entry_exists() -> None:
    pages = nav_pages()
    assert sorted(pages) == sorted(p.relative_to(DOCS).as_posix() for p in doc_pages())
    assert pages[0] == "index.md"


@pytest.mark.parametrize("page", [*doc_pages(), ROOT / "README.md"], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_between_pages_resolve(page: Path) -> None:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    for match in _LINK.finditer(text):
        target = match["target"]
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: broken link {target}"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: no heading #{anchor} in {resolved.name}"


def test_providers_page_lists_every_packaged_provider() -> None:
    text = (DOCS / "providers.md").read_text(encoding="utf-8")
    missing = [name for name in Catalog.load(include_env=False).providers if f"| `{name}` |" not in text]
    assert missing == []


def test_readme_stays_short() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 60 and "make demo" in readme and "make test" in readme
    assert "docs/" in readme


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_docs_without_mkdocs_says_how_to_install_it(tmp_path: Path) -> None:
    result = subprocess.run(["make", "--no-print-directory", "docs", f"VENV={tmp_path / 'no-venv'}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "pip install mkdocs" in result.stdout


@pytest.mark.skipif(not VENV_MKDOCS.exists(), reason="mkdocs is not installed in .venv (.venv/bin/pip install mkdocs)")
def test_mkdocs_builds_the_site(tmp_path: Path) -> None:
    result = subprocess.run([str(VENV_MKDOCS), "build", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "index.html").exists() and (tmp_path / "site" / "testing.html").exists()
