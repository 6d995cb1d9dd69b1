"""Issue 11 item 12: the on-disk catalog cache is documented in docs/catalog.md (not only in performance.md),
and what the page says matches what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import pepperpy

PAGE = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"


def section(title: str) -> str:
    text = PAGE.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"docs/catalog.md has no '## {title}' section"
    return match.group(1)


def test_the_catalog_page_documents_the_on_disk_cache() -> None:
    text = section("The on-disk cache")
    for fact in ("PEPPERPY_CACHE_DIR", "~/.cache/pepperpy/catalog/", "XDG_CACHE_HOME", "SHA-256", "version",
                 "schema", 'PEPPERPY_CACHE_DIR=""', "delete the folder", "never pickle"):
        assert fact in text, fact


def test_the_documented_folder_is_where_validated_files_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "house.yaml").write_text("provider: house\nbase_url: http://127.0.0.1:9/v1\nmodels:\n  - id: m\n")
    pepperpy.Client(catalog=folder, env_file=None)
    written = list((tmp_path / "cache" / "catalog").glob("*.json"))
    assert len(written) == 1 and re.fullmatch(r"[0-9a-f]{64}\.json", written[0].name)  # a SHA-256, as JSON
    monkeypatch.setenv("PEPPERPY_CACHE_DIR", "")
    (folder / "house.yaml").write_text("provider: house\nbase_url: http://127.0.0.1:9/v2\nmodels:\n  - id: m\n")
    pepperpy.Client(catalog=folder, env_file=None)
    assert len(list((tmp_path / "cache" / "catalog").glob("*.json"))) == 1  # an empty value: nothing written
