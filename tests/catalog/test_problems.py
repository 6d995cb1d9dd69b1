"""Every problem at once: one CatalogError lists every problem of every file, each with its file and line."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

import pepperpy
from pepperpy.catalog._registry import Catalog, check_file

THREE_MISTAKES = """\
provider: house
base_url: http://localhost:8000/v1
requires_api_key: maybe
models:
  - id: qwen
    contxt_window: 32768
  - id: llama
    mode: chta
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_with_three_mistakes_gives_one_error_listing_all_three(tmp_path: Path) -> None:
    path = write(tmp_path, "house.yaml", THREE_MISTAKES)
    with pytest.raises(pepperpy.CatalogError) as info:
        pepperpy.Client(catalog=tmp_path, env_file=None)
    err = info.value
    assert [(p.file, p.line, p.field) for p in err.problems] == [
        (str(path), 3, "requires_api_key"), (str(path), 6, "models[0].contxt_window"), (str(path), 8, "models[1].mode")]
    assert "did you mean 'context_window'?" in str(err.problems[1])
    assert "'chta' is not one of" in str(err.problems[2])
    assert str(err).splitlines() == ["3 catalog problems:", *(f"  {p}" for p in err.problems)]
    assert (err.file, err.line, err.field) == (str(path), 3, "requires_api_key")  # the first one's


def test_every_file_and_every_path_at_once(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "provider: a\nbase_url: http://x.example\nmodels: [{id: m, mode: chta}]\n")
    write(tmp_path, "b.yaml", "provider: b\nbase_url: http://y.example\nmodels: [{id: fine}]\n")
    third = write(tmp_path, "c.yaml", "provider: c\nmodels: [{id: m}]\n")  # a new provider without base_url
    missing = tmp_path / "nowhere"
    with pytest.raises(pepperpy.CatalogError) as info:
        pepperpy.Client(catalog=[tmp_path, missing], env_file=None)
    assert [(p.file, p.field) for p in info.value.problems] == [
        (str(missing), None), (str(first), "models[0].mode"), (str(third), "base_url")]


def test_each_unknown_key_is_reported_with_a_suggestion_when_one_is_close(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "provider: a\nbase_url: http://x.example\ntimout: 5\ncolour: red\n"
                                     "models:\n  - id: m\n    max_ouput_tokens: 5\n")
    problems = check_file(path)
    assert [(p.line, p.field) for p in problems] == [(3, "timout"), (4, "colour"), (7, "models[0].max_ouput_tokens")]
    assert "unknown key 'timout'; did you mean 'timeout'?" in str(problems[0])
    assert "did you mean" not in str(problems[1]) and "(allowed: api_key_env, base_url" in str(problems[1])
    assert "did you mean 'max_output_tokens'?" in str(problems[2])
    path = write(tmp_path, "b.yaml", "provider: b\nbase_url: http://x.example\ncontext_window: 5\n"
                                     "models:\n  - id: m\n    timeout: 5\n")
    top, model = check_file(path)
    assert "'context_window' is a model field: put it under a model in models:" in str(top)
    assert (model.field, model.line) == ("models[0].timeout", 6) and "'timeout' is a provider field" in str(model)


def test_settings_in_code_report_every_problem_too() -> None:
    with pytest.raises(pepperpy.CatalogError) as info:
        pepperpy.Client(providers={"openai": {"timeout": -1, "base_ulr": "http://x"}, "anthropic": "http://y"},
                        env_file=None)
    assert [p.field for p in info.value.problems] == [
        "providers['openai'].base_ulr", "providers['openai'].timeout", "providers['anthropic']"]
    assert "did you mean 'base_url'?" in str(info.value.problems[0])


def test_dates_must_be_real_days(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", "provider: a\nbase_url: http://x.example\nchecked: 2026-02-30\n"
                                     "models: [{id: m, deprecated: 2026-13-01}]\n")
    assert [(p.line, p.field) for p in check_file(path)] == [(3, "checked"), (4, "models[0].deprecated")]


def test_max_age_flags_old_and_undated_files(tmp_path: Path) -> None:
    today = datetime.date(2026, 12, 1)
    old = write(tmp_path, "old.yaml", "provider: old\nbase_url: http://x.example\nchecked: 2026-08-01\nmodels: []\n")
    fresh = write(tmp_path, "new.yaml", "provider: new\nbase_url: http://x.example\nchecked: 2026-11-01\n"
                                        "models: []\n")
    undated = write(tmp_path, "undated.yaml", "provider: undated\nbase_url: http://x.example\n"
                                              "models: [{id: m, context_window: 8192}]\n")
    no_figures = write(tmp_path, "no-figures.yaml", "provider: bare\nbase_url: http://x.example\nmodels: [{id: m}]\n")
    assert check_file(no_figures, max_age=0, today=today) == []  # nothing in it can go stale
    assert check_file(old) == []  # no age asked: no age problem
    (problem,) = check_file(old, max_age=90, today=today)
    assert (problem.line, problem.field) == (3, "checked")
    assert "122 days ago (over --max-age 90)" in str(problem) and "pepperpy catalog sync old" in str(problem)
    assert check_file(fresh, max_age=90, today=today) == []
    assert check_file(fresh, max_age=29, today=today) != []
    (problem,) = check_file(undated, max_age=90, today=today)
    assert (problem.line, problem.field) == (1, "checked") and "no checked: date" in str(problem)


def test_every_packaged_file_says_when_its_figures_were_checked() -> None:
    catalog = Catalog.load(include_env=False)
    for provider in catalog.providers.values():
        assert provider.checked is not None, provider.name
        assert datetime.date.fromisoformat(provider.checked) <= datetime.date.today(), provider.name
