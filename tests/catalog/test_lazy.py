"""The packaged catalog's providers are built on first use, and resolve exactly as a catalog built whole does."""

from __future__ import annotations

import pytest

import pepperpy
from pepperpy.catalog._files import catalog_files, packaged_catalog_dir
from pepperpy.catalog._registry import Catalog
from pepperpy.catalog._specs import Deferred


def _whole() -> Catalog:
    return Catalog.from_files(catalog_files([packaged_catalog_dir()]))  # every provider built at once


def test_a_name_builds_only_its_provider() -> None:
    catalog = Catalog.load(include_env=False)
    assert all(isinstance(source, Deferred) for source in catalog._sources.values())
    provider, model = catalog.resolve("gpt-4o-mini")
    assert (provider.name, model.id) == ("openai", "gpt-4o-mini")
    built = [name for name, source in catalog._sources.items() if not isinstance(source, Deferred)]
    assert built == ["openai"]
    assert len(catalog) == len(_whole()) and list(catalog.providers) == list(_whole().providers)


def test_every_listed_name_resolves_as_in_a_catalog_built_whole() -> None:
    lazy, whole = Catalog.load(include_env=False), _whole()
    names = list(whole._keys)
    assert len(names) > 200
    for name in names:
        assert lazy.resolve(name) == whole.resolve(name), name
    for name in ("GPT-4O-MINI", "gpt-4o-2024-11-20", "openai/gpt-4o-mini-2099-01-01"):  # case, snapshot, inherited
        assert lazy.resolve(name) == whole.resolve(name), name


@pytest.mark.parametrize("name", ["gpt-4", "gpt-4o-mni", "openai", "nosuch/model-x"])
def test_mistakes_read_the_same(name: str) -> None:
    errors = []
    for catalog in (Catalog.load(include_env=False, strict=True), Catalog.from_files(
            catalog_files([packaged_catalog_dir()]), strict=True)):
        with pytest.raises(pepperpy.PepperpyError) as info:
            catalog.resolve(name)
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]


def test_overrides_build_only_the_provider_overridden() -> None:
    catalog = Catalog.load(include_env=False).with_overrides({"groq": {"base_url": "http://localhost:9/v1"}})
    assert catalog.provider("groq").base_url == "http://localhost:9/v1"
    assert isinstance(catalog._sources["anthropic"], Deferred)
    assert catalog.resolve("claude-haiku-4-5")[0].name == "anthropic"
