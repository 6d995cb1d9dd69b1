"""Retired models (a provider file's ``retired:`` list) and ``display_name``: schema-checked, and a retired name
is a ModelRetiredError that names the day, who retired it and the closest current model."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

import pepperpy
from pepperpy.catalog._registry import Catalog, check_file, packaged_catalog_dir

ACME = """\
provider: acme
display_name: ACME Labs
dialect: openai
base_url: https://acme.example/v1
models:
  - id: acme-2
    display_name: ACME 2
    mode: chat
retired:
  - id: acme-1
    aliases: [acme-1-0613]
    date: "2025-01-31"
    replacement: acme-2
    source: https://acme.example/deprecations
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_retired_name_says_when_and_what_to_use(tmp_path: Path) -> None:
    catalog = Catalog.load([write(tmp_path, ACME)])
    for name in ("acme-1", "ACME-1", "acme-1-0613", "acme-1-2024-06-01", "acme/acme-1"):
        with pytest.raises(pepperpy.ModelRetiredError) as info:
            catalog.resolve(name)
        error = info.value
        replacement = "acme/acme-2" if name.startswith("acme/") else "acme-2"
        assert str(error) == (f"{name} was retired by ACME Labs on 2025-01-31; the closest current model is "
                              f"{replacement!r}: use model={replacement!r}.")
        assert (error.retired_on, error.retired_by, error.replacement, error.suggestions) == (
            "2025-01-31", "ACME Labs", replacement, [replacement])
        assert isinstance(error, pepperpy.ModelNotFoundError)  # code catching the old error still catches it
    provider, model = catalog.resolve("acme-2")
    assert provider.display_name == provider.title == "ACME Labs" and model.display_name == "ACME 2"
    assert "acme-1" not in catalog.close_matches("acme-1")  # never suggested for a typo


def test_a_retirement_announced_for_later_says_is_retired(tmp_path: Path) -> None:
    later = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    catalog = Catalog.load([write(tmp_path, ACME.replace("2025-01-31", later))])
    with pytest.raises(pepperpy.ModelRetiredError, match=f"acme-1 is retired by ACME Labs on {later};"):
        catalog.resolve("acme-1")


def test_a_later_file_adds_retired_names(tmp_path: Path) -> None:
    later = tmp_path / "later"
    later.mkdir()
    (later / "acme-more.yaml").write_text('provider: acme\nretired:\n  - {id: acme-0, date: "2024-01-01", '
                                          'replacement: acme-2, by: Someone Else}\n', encoding="utf-8")
    catalog = Catalog.load([write(tmp_path, ACME), later])
    with pytest.raises(pepperpy.ModelRetiredError, match="acme-0 was retired by Someone Else on 2024-01-01"):
        catalog.resolve("acme-0")
    with pytest.raises(pepperpy.ModelRetiredError, match="acme-1 was retired by ACME Labs"):
        catalog.resolve("acme-1")


@pytest.mark.parametrize(("change", "field", "words"), [
    (("    date: \"2025-01-31\"\n", ""), "retired[0]", "'date' is a required property"),
    (("date: \"2025-01-31\"", "date: \"31/01/2025\""), "retired[0].date", "is not a date"),
    (("date: \"2025-01-31\"", "date: \"2025-02-31\""), "retired[0].date", "is not a real date"),
    (("    source:", "    sourse: x\n    source:"), "retired[0].sourse", "unknown key 'sourse'"),
    (("replacement: acme-2", "replacement: acme-3"), "retired[0].replacement", "not a model of this file"),
    (("aliases: [acme-1-0613]", "aliases: [acme-2]"), "retired[0].aliases[0]", "listed as a current model"),
    (("display_name: ACME Labs", "display_name: ''"), "display_name", "should be non-empty"),
])
def test_schema_and_checks_of_retired_entries(tmp_path: Path, change: tuple[str, str], field: str,
                                              words: str) -> None:
    problems = check_file(write(tmp_path, ACME.replace(*change)))
    assert any(p.field == field and words in str(p) for p in problems), [str(p) for p in problems]


def test_every_packaged_replacement_is_a_current_model_of_the_same_provider() -> None:
    catalog = Catalog.load(include_env=False)
    count = 0
    for provider in catalog.providers.values():
        assert provider.display_name, f"{provider.name} has no display_name"
        for entry in provider.retired:
            model = catalog.resolve(f"{provider.name}/{entry.replacement}")[1]
            assert model.provider == provider.name and model.deprecated is None and not model.open, entry
            assert datetime.date.fromisoformat(entry.date) <= datetime.date(2026, 12, 7), entry  # retired already
            count += 1
    assert count >= 20
    assert check_file(packaged_catalog_dir() / "openai.yaml") == []


def test_the_seeds_names_through_the_client() -> None:
    client = pepperpy.Client(env_file=None, use_keyring=False)
    for name, replacement in (("gpt-4", "gpt-4.1"), ("gpt-3.5-turbo", "gpt-4.1-mini"),
                              ("gemini-pro-vision", "gemini-flash"),
                              ("anthropic/claude-3", "anthropic/claude-sonnet-5.5"),
                              ("openai/gpt-4", "openai/gpt-4.1"),
                              ("openrouter/openai/gpt-4", "openrouter/openai/gpt-4o"),
                              ("claude-3-haiku-20240307", "claude-haiku")):
        with pytest.raises(pepperpy.ModelRetiredError) as info:
            client.complete("hi", model=name)
        assert info.value.replacement == replacement
        client.model(replacement)  # the name given resolves
    assert client.model("gemini-pro").id == "gemini-4-carbon"  # a current alias is not a retired name
