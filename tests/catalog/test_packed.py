"""Instant cold start: the packaged catalog loads from its packed form, generated from the YAML and checked
against it here, without importing yaml or jsonschema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pepperpy
from pepperpy.catalog import _packed as _catalog_cache
from pepperpy.catalog._packed import PACKED_PATH, pack_catalog
from pepperpy.catalog._registry import Catalog, packaged_catalog_dir

ROOT = Path(__file__).resolve().parents[2]


def test_the_packed_catalog_is_generated_from_the_current_yaml() -> None:
    assert PACKED_PATH.read_text(encoding="utf-8") == pack_catalog(), (
        "pepperpy/catalog/packed.json is stale: run `make catalog` after editing catalog/*.yaml")


def test_a_fresh_process_with_no_cache_builds_a_client_without_yaml_or_jsonschema(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)  # a read-only home: nowhere to cache anything
    code = ("import sys, pepperpy\nclient = pepperpy.Client(env_file=None)\n"
            "print(len(client.models()), 'yaml' in sys.modules, 'jsonschema' in sys.modules)")
    env = {**os.environ, "PEPPERPY_CACHE_DIR": "", "HOME": str(home), "XDG_CACHE_HOME": ""}
    env.pop("PEPPERPY_CATALOG_PATH", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path,
                         env=env).stdout.split()
    assert out == [str(len(Catalog.load(include_env=False))), "False", "False"]
    # a user file still pays for YAML and validation, and only it
    (tmp_path / "house.yaml").write_text("provider: house\nbase_url: http://localhost:8000/v1\nmodels: [{id: x}]\n")
    code = code.replace("Client(env_file=None)", "Client('house.yaml', env_file=None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path,
                         env=env).stdout.split()
    assert out[1:] == ["True", "True"]


@pytest.fixture
def no_packed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file through YAML and the schema: no packed data, no validated-file cache."""
    monkeypatch.setattr(_catalog_cache._Packed, "_by_digest", {})
    monkeypatch.setattr(_catalog_cache._ValidatedFiles, "_memory", {})
    monkeypatch.setenv("PEPPERPY_CACHE_DIR", "")


def test_the_packed_data_is_what_the_yaml_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    packed = Catalog.load(include_env=False)
    with monkeypatch.context() as patch:
        patch.setattr(_catalog_cache._Packed, "_by_digest", {})
        patch.setattr(_catalog_cache._ValidatedFiles, "_memory", {})
        patch.setenv("PEPPERPY_CACHE_DIR", "")
        from_yaml = Catalog.load(include_env=False)
    assert len(packed) > 80 and dict(packed.providers) == dict(from_yaml.providers)


def test_an_edited_packaged_file_is_read_from_its_yaml_never_from_stale_packed_data(tmp_path: Path) -> None:
    copy = tmp_path / "catalog"
    shutil.copytree(packaged_catalog_dir(), copy)
    openai = copy / "openai.yaml"
    openai.write_text(openai.read_text().replace("  - id: gpt-4o-mini\n", "  - id: gpt-4o-mini\n    notes: edited\n"))
    catalog = Catalog.from_files(sorted(copy.glob("*.yaml")))
    assert catalog.resolve("openai/gpt-4o-mini")[1].notes == "edited"
    assert catalog.resolve("claude-haiku")[1] == Catalog.load(include_env=False).resolve("claude-haiku")[1]
    openai.write_text(openai.read_text().replace("notes: edited", "contxt_window: 5"))
    with pytest.raises(pepperpy.CatalogError, match="did you mean 'context_window'"):
        Catalog.from_files(sorted(copy.glob("*.yaml")))


def test_a_missing_or_damaged_packed_file_costs_only_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            no_packed: None) -> None:
    expected = dict(Catalog.load(include_env=False).providers)
    for text in (None, "not json", json.dumps({"format": 1, "files": {"x.yaml": {"sha256": 1}}})):
        damaged = tmp_path / "catalog.packed.json"
        if text is not None:
            damaged.write_text(text)
        monkeypatch.setattr(_catalog_cache, "PACKED_PATH", damaged)
        monkeypatch.setattr(_catalog_cache._Packed, "_by_digest", None)
        assert dict(Catalog.load(include_env=False).providers) == expected


def test_packing_refuses_a_broken_folder_listing_every_problem(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("provider: a\nbase_url: http://x.example\nmodels: [{id: m, mode: chta}]\n")
    (tmp_path / "b.yaml").write_text("provider: b\nbase_url: [\n")
    with pytest.raises(pepperpy.CatalogError) as info:
        pack_catalog(tmp_path)
    assert [p.file for p in info.value.problems] == [str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")]


def test_make_catalog_writes_it_and_the_build_ships_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert "$(PY) -m pepperpy.catalog" in (ROOT / "Makefile").read_text()
    target = tmp_path / "catalog.packed.json"
    monkeypatch.setattr(_catalog_cache, "PACKED_PATH", target)
    assert _catalog_cache.main() == 0 and target.read_text(encoding="utf-8") == pack_catalog()
    assert "written" in capsys.readouterr().err
    assert _catalog_cache.main() == 0 and "up to date" in capsys.readouterr().err
    build = tmp_path / "build"
    subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                    "--build-lib", str(build)], check=True, capture_output=True, cwd=ROOT)
    assert (build / "pepperpy" / "catalog" / "packed.json").read_bytes() == PACKED_PATH.read_bytes()
    shipped = sorted(p.name for p in (build / "pepperpy" / "_catalog_data").glob("*.yaml"))
    assert shipped == sorted(p.name for p in packaged_catalog_dir().glob("*.yaml"))
