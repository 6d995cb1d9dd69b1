"""A wire format from a separate package: ``pepperpy.register_dialect`` and the ``pepperpy.dialects`` entry-point
group, with no change to pepperpy.

The out-of-tree example of docs/contributing-a-provider.md (Route 3) is installed here as it is written: its
module, the entry point its pyproject.toml declares (as a ``.dist-info`` with ``entry_points.txt`` on a
temporary ``sys.path`` entry, visible to ``importlib.metadata`` without any network), and its catalog file; then
its usage block runs in a fresh process against the offline server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib

import pepperpy
from pepperpy.catalog._registry import Catalog, check_file
from pepperpy.dialects import _registry
from pepperpy.dialects.base import Dialect, get_dialect
from pepperpy.dialects.openai import OpenAIDialect
from pepperpy.testing import FakeProviderServer
from tests.docs.test_doc_examples import blocks, file_of

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "contributing-a-provider.md"


def example() -> dict[str, str]:
    """The blocks of Route 3, by role."""
    found = blocks(GUIDE)
    module = next(b for b in found if b.file == "pepperpy_azure/__init__.py")
    pyproject = next(b for b in found if b.language == "toml" and "pepperpy.dialects" in b.code)
    catalog = next(b for b in found if file_of(b) == Path("my-catalog/azure.yaml"))
    usage = next(b for b in found if b.language == "python" and 'model="azure/my-gpt-4o"' in b.code)
    return {"module": module.code, "pyproject": pyproject.code, "catalog": catalog.code, "usage": usage.code}


def install(site: Path, module: str, pyproject: str) -> None:
    """The package as pip would leave it: its module, and a .dist-info whose entry_points.txt says what the
    pyproject.toml's [project.entry-points] table says."""
    project = tomllib.loads(pyproject)["project"]
    (site / "pepperpy_azure").mkdir(parents=True)
    (site / "pepperpy_azure" / "__init__.py").write_text(module + "\n", encoding="utf-8")
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n",
                                   encoding="utf-8")
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in points.items())
        for group, points in groups.items()), encoding="utf-8")


# The fresh process: the packaged catalog's call must not read entry points; the example's catalog reads them
# once, finds the package's dialect, and its call reaches the deployment path with the api-key header.
SCRIPT = """
import importlib.metadata, json, os, sys
scans = []
real = importlib.metadata.entry_points
def counted(*args, **kw):
    scans.append(kw.get("group"))
    return real(*args, **kw)
importlib.metadata.entry_points = counted

import pepperpy
from pepperpy.testing import FakeProviderServer

with FakeProviderServer() as server:
    os.environ["PEPPERPY_PROVIDER_OPENAI_BASE_URL"] = server.base_url("openai")
    os.environ["PEPPERPY_PROVIDER_AZURE_BASE_URL"] = server.url
    os.environ["OPENAI_API_KEY"] = "sk-packaged-only-1"
    os.environ["AZURE_OPENAI_API_KEY"] = "azure-key-from-env-2"
    with pepperpy.Client() as packaged:
        packaged.complete("a normal call", model="gpt-4o-mini")
        packaged.stream("and a stream", model="gpt-4o-mini").completion
    before = list(scans)
    exec(compile(sys.argv[1], "usage block", "exec"), {"__name__": "__main__"})
    sent = server.requests[-1]
    print(json.dumps({"scans_before": before, "scans_after": scans, "path": sent.path, "query": sent.query,
                      "api_key": sent.headers.get("api-key"), "authorization": sent.headers.get("authorization"),
                      "model": sent.json.get("model")}))
"""


def test_the_documented_package_is_found_through_its_entry_point(tmp_path: Path) -> None:
    parts = example()
    site = tmp_path / "site-packages"
    install(site, parts["module"], parts["pyproject"])
    work = tmp_path / "app"
    (work / "my-catalog").mkdir(parents=True)
    (work / "my-catalog" / "azure.yaml").write_text(parts["catalog"] + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path]), "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, parts["usage"]], capture_output=True, text=True,
                          cwd=work, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    printed, report = done.stdout.strip().splitlines()
    sent = json.loads(report)
    assert printed == "echo: Hello"
    assert sent["scans_before"] == []  # the packaged catalog never reads entry points, calls neither
    assert sent["scans_after"] == ["pepperpy.dialects"]  # once, for the name it does not ship
    assert sent["path"] == "/openai/deployments/my-gpt-4o/chat/completions"
    assert sent["query"] == {"api-version": "2024-10-21"} and sent["model"] == "my-gpt-4o"
    assert sent["api_key"] == "azure-key-from-env-2" and sent["authorization"] is None


def test_an_unknown_dialect_lists_the_known_ones_those_of_packages_too(tmp_path: Path) -> None:
    parts = example()
    site = tmp_path / "site-packages"
    install(site, parts["module"], parts["pyproject"])
    catalog = tmp_path / "my-catalog"
    catalog.mkdir()
    (catalog / "azure.yaml").write_text(parts["catalog"].replace("azure-openai", "azure-openia") + "\n", "utf-8")
    code = textwrap.dedent(f"""
        import pepperpy
        try:
            pepperpy.Client(catalog={str(catalog)!r})
        except pepperpy.CatalogError as exc:
            print(exc)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "azure.yaml:3: dialect: unknown dialect 'azure-openia'; known: openai, anthropic, gemini, ollama, " \
           "stackspot, azure-openai (" in done.stdout


# --------------------------------------------------------------------------- register_dialect, in process

class EchoDialect(OpenAIDialect):
    name = ""  # register_dialect names it


@pytest.fixture
def registered() -> Iterator[str]:
    yield "house-wire"
    _registry.unregister("house-wire")
    from pepperpy.dialects import base

    base._cache.pop("house-wire", None)


def test_register_dialect_then_a_catalog_file_may_name_it(registered: str, tmp_path: Path,
                                                         server: FakeProviderServer) -> None:
    path = tmp_path / "house.yaml"
    path.write_text(f"provider: house\ndialect: {registered}\nbase_url: {server.base_url('openai')}\n"
                    f"requires_api_key: false\nmodels:\n  - id: h1\n", encoding="utf-8")
    problems = check_file(path)
    assert len(problems) == 1 and "unknown dialect 'house-wire'; known: openai, anthropic, gemini, ollama, " \
                                  "stackspot (" in str(problems[0])
    with pytest.raises(pepperpy.CatalogError, match="unknown dialect 'house-wire'"):
        Catalog.load([path])
    pepperpy.register_dialect(registered, EchoDialect)  # a class is made into its instance
    assert check_file(path) == [] and get_dialect(registered).name == registered
    assert isinstance(get_dialect(registered), EchoDialect) and get_dialect(registered) is get_dialect(registered)
    with pepperpy.Client(catalog=path, env_file=None) as client:
        assert client.complete("hi", model="house/h1").text == "echo: hi"
    pepperpy.register_dialect(registered, get_dialect(registered))  # the same object again: fine


@pytest.mark.parametrize(("name", "dialect", "message"), [
    ("openai", OpenAIDialect(), "'openai' is a dialect pepperpy ships"),
    ("House Wire", OpenAIDialect(), "lowercase letters, digits, '_' and '-'"),
    ("house-wire", object(), "must be a pepperpy.dialects.base.Dialect"),
])
def test_register_dialect_refuses_what_cannot_work(registered: str, name: str, dialect: object,
                                                   message: str) -> None:
    with pytest.raises(pepperpy.ConfigurationError, match=message):
        pepperpy.register_dialect(name, dialect)  # type: ignore[arg-type]


def test_another_object_under_a_registered_name_needs_replace(registered: str) -> None:
    first, second = EchoDialect(), EchoDialect()
    pepperpy.register_dialect(registered, first)
    with pytest.raises(pepperpy.ConfigurationError, match=r"already registered.*replace=True"):
        pepperpy.register_dialect(registered, second)
    pepperpy.register_dialect(registered, second, replace=True)
    assert get_dialect(registered) is second and isinstance(second, Dialect)


def test_a_normal_call_never_reads_entry_points(monkeypatch: pytest.MonkeyPatch, client: pepperpy.Client) -> None:
    import importlib.metadata

    def refuse(*args: object, **kw: object) -> object:
        raise AssertionError("entry points were read")

    monkeypatch.setattr(importlib.metadata, "entry_points", refuse)
    monkeypatch.setattr(_registry._Registry, "entry_points", None)  # nothing cached from an earlier test
    assert client.complete("hi", model="local-chat").text == "echo: hi"
    with pepperpy.Client(env_file=None) as packaged:
        assert packaged.model("gpt-4o-mini").provider == "openai"
