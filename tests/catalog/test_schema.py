"""Broken catalog files raise CatalogError naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

import pepperpy
from pepperpy.catalog._registry import Catalog, check_file

GOOD = """\
provider: acme
dialect: openai
base_url: https://acme.example/v1
models:
  - id: acme-1
    mode: chat
    context_window: 1000
    max_output_tokens: 100
    source: https://acme.example/models
"""


def write(tmp_path: Path, text: str, name: str = "acme.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "line", "field", "words"), [
    (GOOD.replace("mode: chat", "mode: chta"), 6, "models[0].mode", "chta"),
    (GOOD.replace("    source:", "    contxt_window: 5\n    source:"), 9, "models[0].contxt_window", "unknown key"),
    (GOOD.replace("dialect: openai", "dialect: opena"), 2, "dialect", "opena"),
    (GOOD.replace("context_window: 1000", "context_window: many"), 7, "models[0].context_window", "many"),
    (GOOD.replace("base_url: https://acme.example/v1", "base_url: ftp://x"), 3, "base_url", "ftp"),
    (GOOD.replace("provider: acme", "provider: Acme Corp"), 1, "provider", "Acme"),
    (GOOD + "    params: {temperature: {min: 0, maxx: 2}}\n", 10, "models[0].params.temperature", "range"),
    (GOOD + "    pricing: {input: -1, output: 2}\n", 10, "models[0].pricing.input", "-1"),
    (GOOD.replace("    source: https://acme.example/models\n", "    source: nowhere\n"), 9, "models[0].source",
     "URL"),
    (GOOD.replace("max_output_tokens: 100", "max_output_tokens: 5000"), 8, "models[0].max_output_tokens",
     "larger"),
    (GOOD + "  - id: acme-1\n    mode: chat\n    context_window: 10\n    max_output_tokens: 1\n"
            "    source: https://x.example\n", 10, "models[1].id", "twice"),
])
def test_broken_files_name_file_line_and_field(tmp_path: Path, text: str, line: int, field: str,
                                               words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(pepperpy.CatalogError) as info:
        Catalog.from_files([path])
    err = info.value
    assert err.file == str(path)
    assert err.line == line, str(err)
    assert err.field == field
    assert words in str(err)
    assert str(err).startswith(f"{path}:{line}: {field}: ")


def test_invalid_yaml_reports_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("mode: chat", "mode: [chat"))
    with pytest.raises(pepperpy.CatalogError) as info:
        Catalog.from_files([path])
    assert info.value.line is not None and info.value.line >= 6
    assert "invalid YAML" in str(info.value)


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(pepperpy.CatalogError, match="mapping"):
        Catalog.from_files([write(tmp_path, "- just\n- a list\n")])
    with pytest.raises(pepperpy.CatalogError, match="no such catalog"):
        pepperpy.Client(catalog=tmp_path / "missing", env_file=None)


def test_a_folder_without_yaml_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("catalog files go here", encoding="utf-8")
    with pytest.raises(pepperpy.CatalogError, match=r"no \.yaml files") as info:
        pepperpy.Client(catalog=tmp_path, env_file=None)
    assert info.value.file == str(tmp_path)


def test_check_file_collects_every_semantic_problem_and_loading_raises_them_all(tmp_path: Path) -> None:
    text = (GOOD.replace("max_output_tokens: 100", "max_output_tokens: 5000")
            + "    params: {temperature: {min: 1, max: 0}}\n"
            + "  - id: acme-1\n    mode: chat\n    context_window: 10\n    source: https://x.example\n")
    path = write(tmp_path, text)
    problems = check_file(path)
    assert [(p.line, p.field) for p in problems] == [
        (8, "models[0].max_output_tokens"), (10, "models[0].params.temperature"), (11, "models[1].id")]
    with pytest.raises(pepperpy.CatalogError) as info:
        Catalog.from_files([path])
    assert [str(p) for p in info.value.problems] == [str(p) for p in problems]


def test_semantic_checks_survive_files_that_break_the_schema(tmp_path: Path) -> None:
    text = GOOD.replace("context_window: 1000", "context_window: many") + "    aliases: [7, acme-1]\n"
    problems = check_file(write(tmp_path, text))
    assert {p.field for p in problems} >= {"models[0].context_window", "models[0].aliases[0]",
                                           "models[0].aliases[1]"}


def test_merge_problems_lists_every_file_that_fails_when_merged(tmp_path: Path) -> None:
    first = write(tmp_path, GOOD.replace("base_url: https://acme.example/v1\n", ""), "a.yaml")
    second = write(tmp_path, GOOD.replace("provider: acme", "provider: other").replace("base_url: https://acme."
                                                                                        "example/v1\n", ""), "b.yaml")
    good = write(tmp_path, GOOD.replace("provider: acme", "provider: fine"), "c.yaml")
    problems = Catalog.merge_problems([first, second, good])
    assert [(p.file, p.field) for p in problems] == [(str(first), "base_url"), (str(second), "base_url")]
    assert Catalog.merge_problems([good]) == []


def test_new_provider_needs_base_url_and_its_dialect_defaults_to_openai(tmp_path: Path) -> None:
    with pytest.raises(pepperpy.CatalogError, match="base_url"):
        Catalog.from_files([write(tmp_path, GOOD.replace("base_url: https://acme.example/v1\n", ""))])
    catalog = Catalog.from_files([write(tmp_path, GOOD.replace("dialect: openai\n", "dialect: anthropic\n"))])
    assert catalog.providers["acme"].dialect == "anthropic"
    catalog = Catalog.from_files([write(tmp_path, GOOD.replace("dialect: openai\n", ""))])
    assert catalog.providers["acme"].dialect == "openai"


def test_check_file_lists_every_problem(tmp_path: Path) -> None:
    text = GOOD.replace("mode: chat", "mode: chta").replace("dialect: openai", "dialect: x")
    problems = check_file(write(tmp_path, text))
    assert [p.field for p in problems] == ["dialect", "models[0].mode"]
    assert check_file(write(tmp_path, GOOD, "ok.yaml")) == []


def test_dates_stay_strings(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "    deprecated: 2026-06-01\n")
    catalog = Catalog.from_files([path])
    assert catalog.resolve("acme-1")[1].deprecated == "2026-06-01"


def test_validated_files_are_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pepperpy.catalog import _packed as _catalog_cache

    cache = tmp_path / "cache"
    monkeypatch.setenv("PEPPERPY_CACHE_DIR", str(cache))
    _catalog_cache._ValidatedFiles._memory.clear()
    path = write(tmp_path, GOOD)
    Catalog.from_files([path])
    stored = list((cache / "catalog").glob("*.json"))
    assert len(stored) == 1
    _catalog_cache._ValidatedFiles._memory.clear()
    assert Catalog.from_files([path]).resolve("acme-1")[1].context_window == 1000  # from the disk cache
    # an edit changes the key: a broken file is never served from the cache
    write(tmp_path, GOOD.replace("mode: chat", "mode: chta"))
    with pytest.raises(pepperpy.CatalogError, match="chta"):
        Catalog.from_files([path])


def test_cache_can_be_disabled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEPPERPY_CACHE_DIR", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    Catalog.from_files([write(tmp_path, GOOD)])
    assert not (tmp_path / ".cache").exists()


def test_a_damaged_cache_entry_is_validated_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pepperpy.catalog import _packed as _catalog_cache

    cache = tmp_path / "cache"
    monkeypatch.setenv("PEPPERPY_CACHE_DIR", str(cache))
    _catalog_cache._ValidatedFiles._memory.clear()
    path = write(tmp_path, GOOD)
    Catalog.from_files([path])
    (entry,) = (cache / "catalog").glob("*.json")
    entry.write_text('{"provider": "acme", "models": [{"id": 1}]}')
    _catalog_cache._ValidatedFiles._memory.clear()
    assert Catalog.from_files([path]).resolve("acme-1")[1].context_window == 1000


def test_the_modes_and_capabilities_filters_check_are_the_schemas() -> None:
    import json

    from pepperpy.catalog._registry import CAPABILITIES, MODES

    model = json.loads((Path(pepperpy.__file__).parent / "catalog" / "schema.json").read_text())["$defs"]["model"]
    assert list(MODES) == model["properties"]["mode"]["enum"]
    assert list(CAPABILITIES) == model["properties"]["capabilities"]["items"]["enum"]
