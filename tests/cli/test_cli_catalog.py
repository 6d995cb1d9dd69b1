"""``pepperpy catalog ...``: every problem at once, --max-age, sync against the fake server."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from pepperpy import cli
from pepperpy.catalog._registry import Catalog
from pepperpy.testing import FakeProviderServer


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_client_command_lists_every_catalog_problem_one_per_line(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "house.yaml"
    path.write_text("provider: house\nbase_url: http://x.example\ncontext_window: 5\nmodels:\n"
                    "  - {id: m, mode: chta, contxt_window: 5}\n", encoding="utf-8")
    code, out, err = run(capsys, "--catalog", str(path), "models")
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == "error: 3 catalog problems:"
    assert lines[1].startswith(f"  {path}:3: context_window: unknown key 'context_window'; 'context_window' is a "
                               "model field: put it under a model in models: (allowed: ")
    assert lines[2].startswith(f"  {path}:5: models[0].contxt_window: unknown key 'contxt_window'; did you mean "
                               "'context_window'? (allowed: ")
    assert lines[3].startswith(f"  {path}:5: models[0].mode: 'chta' is not one of")
    assert len(lines) == 4 and all(len(line) > 100 for line in lines[1:])  # each whole, never cut


def test_validate_max_age_flags_stale_and_undated_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    today = datetime.date.today()
    stale = tmp_path / "a-stale.yaml"
    stale.write_text(f"provider: stale\nbase_url: http://x.example\nchecked: {today - datetime.timedelta(days=100)}\n"
                     "models: []\n", encoding="utf-8")
    fresh = tmp_path / "b-fresh.yaml"
    fresh.write_text(f"provider: fresh\nbase_url: http://x.example\nchecked: {today}\nmodels: []\n", encoding="utf-8")
    undated = tmp_path / "c-undated.yaml"
    undated.write_text("provider: undated\nbase_url: http://x.example\n"
                       "models: [{id: m, pricing: {input: 1, output: 2}}]\n", encoding="utf-8")
    assert run(capsys, "catalog", "validate", str(tmp_path))[0] == 0
    code, out, err = run(capsys, "catalog", "validate", "--max-age", "90", str(tmp_path))
    assert code == 1
    assert [line.split(": ")[0:2] for line in out.splitlines()] == [[f"{stale}:3", "checked"],
                                                                    [f"{undated}:1", "checked"]]
    assert "100 days ago (over --max-age 90)" in out and err == "2 problems in 2 of 3 files\n"  # issue 11
    assert run(capsys, "catalog", "validate", "--max-age", "100", str(stale))[0] == 0


def test_the_packaged_catalog_passes_a_max_age_as_old_as_its_oldest_file(capsys: pytest.CaptureFixture[str]) -> None:
    checked = [datetime.date.fromisoformat(p.checked or "") for p in Catalog.load(include_env=False).providers.values()]
    days = (datetime.date.today() - min(checked)).days
    assert run(capsys, "catalog", "validate", "--max-age", str(days))[:2] == (0, "")
    if days > 0:
        code, out, _ = run(capsys, "catalog", "validate", "--max-age", str(days - 1))
        assert code == 1 and out.count(": checked: figures checked") == checked.count(min(checked))


def test_max_age_takes_whole_days(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["catalog", "validate", "--max-age", "soon"])
    assert exited.value.code == 2
    assert "takes a whole number of days" in capsys.readouterr().err


def test_sync_prints_the_diff_and_writes_a_file_that_validate_accepts_and_a_client_uses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "my-catalog"
    catalog = Catalog.load(include_env=False)
    kept, *gone = [m.id for m in catalog.models(provider="anthropic")]
    with FakeProviderServer() as server:
        server.page_size = 1  # the listing comes in pages of one
        server.models = [kept, {"id": "claude-new-9", "context_window": 300000, "max_output_tokens": 64000,
                                "capabilities": ["vision"]}]
        monkeypatch.setenv("PEPPERPY_PROVIDER_ANTHROPIC_BASE_URL", server.base_url("anthropic"))
        monkeypatch.setenv("PEPPERPY_PROVIDER_ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
        code, out, _ = run(capsys, "catalog", "sync", "anthropic", "--write", str(folder))
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == f"anthropic: 2 models listed by the provider; 1 new, {len(gone)} no longer listed, " \
                           "0 figures changed"
        assert lines[1] == "  + claude-new-9 (context 300,000, max output 64,000)"
        assert lines[2:2 + len(gone)] == [f"  - {name} (in the catalog, no longer listed)" for name in gone]
        assert lines[-1].startswith(f"wrote {folder / 'anthropic-synced.yaml'}; check it with `pepperpy catalog "
                                    f"validate {folder}`")
        assert [r.query.get("after_id") for r in server.requests] == [None, kept]  # every page was read
        assert run(capsys, "catalog", "validate", str(folder))[:2] == (0, "")
        server.reply("hi from the synced model")
        code, out, _ = run(capsys, "--catalog", str(folder), "complete", "-m", "claude-new-9", "--no-stream", "hi")
        assert (code, out) == (0, "hi from the synced model\n")
        assert server.requests[-1].json["model"] == "claude-new-9"


def test_sync_of_a_provider_without_a_listing_api_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "catalog", "sync", "stackspot")
    assert (code, out) == (1, "")
    assert err == ("error: stackspot has no model-listing API (stackspot dialect), so there is nothing to sync: its "
                   "catalog entries are kept by hand\n")
