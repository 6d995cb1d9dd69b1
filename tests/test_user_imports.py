"""Every import users write keeps working after the package was arranged by area (round 3).

Three sources: the user-facing packages' ``__all__``; the module paths that moved (``pepperpy._moved.MOVED``:
``pepperpy.transport``, ``pepperpy.budget`` ...), each still the very module of its new home; and every import
line written in README.md, docs/ and examples/, run as written in a fresh interpreter.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pepperpy._moved import MOVED

ROOT = Path(__file__).resolve().parents[1]

USER_FACING = ["pepperpy", "pepperpy.errors", "pepperpy.types", "pepperpy.testing", "pepperpy.web",
               "pepperpy.providers", "pepperpy.providers.domain", "pepperpy.providers.engine", "pepperpy.aio",
               "pepperpy.catalog", "pepperpy.client", "pepperpy.resilience", "pepperpy.pipeline", "pepperpy.tools",
               "pepperpy.media", "pepperpy.jobs", "pepperpy.shared", "pepperpy.dialects.base"]

# The modules that sat directly under pepperpy/ with public names before round 3, and a name each exported
BEFORE_ROUND_3 = {
    "pepperpy.audit": "RedactionFilter", "pepperpy.budget": "Budget", "pepperpy.cache": "CacheConfig",
    "pepperpy.catalog": "Catalog", "pepperpy.catalog_files": "packaged_catalog_dir",
    "pepperpy.catalog_sync": "CatalogDiff", "pepperpy.client": "Client", "pepperpy.config": "Settings",
    "pepperpy.events": "ResponseEvent", "pepperpy.pipeline": "Pipeline", "pepperpy.ratelimit": "RateLimiter",
    "pepperpy.resilience": "RetryPolicy", "pepperpy.schema": "function_schema", "pepperpy.structured": "ResponseFormat",
    "pepperpy.telemetry": "Telemetry", "pepperpy.tokens": "estimate_tokens", "pepperpy.tools": "ToolSet",
    "pepperpy.transport": "Request", "pepperpy.usage": "UsageReport", "pepperpy.validation": "check_params",
    "pepperpy.aio": "create_provider", "pepperpy.api": "complete", "pepperpy.web": "http_error",
    "pepperpy.errors": "ProviderError",
}


@pytest.mark.parametrize("module", USER_FACING)
def test_every_name_in_a_user_facing_all_imports(module: str) -> None:
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None)
    assert names, f"{module} has no __all__"
    missing = [name for name in names if not hasattr(mod, name)]
    assert missing == [], f"{module}.__all__ names what it does not have: {missing}"


@pytest.mark.parametrize("old", sorted(BEFORE_ROUND_3))
def test_the_module_paths_of_round_2_still_import(old: str) -> None:
    module = importlib.import_module(old)
    assert hasattr(module, BEFORE_ROUND_3[old])
    if old in MOVED:
        assert module is importlib.import_module(MOVED[old])  # one module: isinstance and monkeypatch agree
        name = old.rpartition(".")[2]
        import pepperpy
        assert getattr(pepperpy, name) is module  # `pepperpy.budget` after a bare `import pepperpy`


def test_the_moved_table_is_complete_and_points_at_real_modules() -> None:
    for old, new in MOVED.items():
        assert not (ROOT / (old.replace(".", "/") + ".py")).exists(), f"{old} is still a file: drop it from MOVED"
        assert (ROOT / (new.replace(".", "/") + ".py")).exists(), f"{new} does not exist"
    shadows = [old for old in BEFORE_ROUND_3 if not (ROOT / (old.replace(".", "/") + ".py")).exists()
               and not (ROOT / old.replace(".", "/")).is_dir() and old not in MOVED]
    assert shadows == [], f"round-2 module paths with no home and no entry in pepperpy/_moved.py: {shadows}"


_IMPORT = re.compile(r"^[ \t]*(from[ \t]+pepperpy[\w.]*[ \t]+import[ \t]+(?:\([^)]*\)|[^\n#]+)"
                     r"|import[ \t]+pepperpy[\w.]*(?:[ \t]+as[ \t]+\w+)?)", re.M)


def _written_imports() -> list[tuple[str, str]]:
    sources = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "examples").rglob("*.py"))]
    found: dict[str, str] = {}
    for path in sources:
        for match in _IMPORT.finditer(path.read_text(encoding="utf-8")):
            statement = " ".join(match.group(1).replace("\\", " ").split())
            found.setdefault(statement, str(path.relative_to(ROOT)))
    return sorted(found.items())


def test_docs_and_examples_write_imports_of_pepperpy() -> None:
    assert len(_written_imports()) >= 15  # the scan found them (a broken pattern would pass the test below)


def test_every_import_written_in_readme_docs_and_examples_runs_as_written() -> None:
    imports = _written_imports()
    program = "\n".join(
        f"try:\n    {statement}\nexcept Exception as exc:\n    print({where!r}, {statement!r}, repr(exc))"
        for statement, where in imports)
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "", f"imports written in the docs that fail:\n{out.stdout}"
