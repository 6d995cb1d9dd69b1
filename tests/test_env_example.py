""".env.example at the repository root lists MODELS and every provider's credential variables, as the catalog
names them: a provider added to the catalog, or a variable renamed, fails here until the file follows."""

from __future__ import annotations

import re
from pathlib import Path

import pepperpy
from pepperpy.config import credential_fields

EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")


def listed() -> list[str]:
    return [m[1] for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if (m := _LINE.match(line))]


def catalog_variables() -> set[str]:
    catalog = pepperpy.Client(env_file=None, use_keyring=False).catalog
    names: set[str] = set()
    for provider in catalog.providers.values():
        names.update(provider.api_key_env)
        for field in credential_fields(provider):
            names.update(str(n) for n in provider.options[field + "_env"])
    return names


def test_every_credential_variable_of_the_catalog_is_listed_once() -> None:
    names = listed()
    assert len(names) == len(set(names)), "a variable listed twice"
    wanted = catalog_variables()
    assert sorted(wanted - set(names)) == [], "add these to .env.example"
    extra = set(names) - wanted - {"MODELS"}
    assert all(name.startswith("PEPPERPY_") for name in extra), f"not in the catalog: {sorted(extra)}"


def test_models_comes_first_and_every_key_is_empty() -> None:
    lines = [line for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if _LINE.match(line)]
    assert lines[0].startswith("MODELS=")
    for line in lines:
        name, _, value = line.lstrip("# ").partition("=")
        if name.endswith(("_API_KEY", "_SECRET")):
            assert value == "", f"{name} has a value in .env.example"
