"""What a built wheel holds: every package and module of the source tree, the data files, the console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_build_ships_every_module_of_the_source_tree(tmp_path: Path) -> None:
    build = tmp_path / "build"
    subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                    "--build-lib", str(build)], check=True, capture_output=True, cwd=ROOT)
    source = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pepperpy").rglob("*.py")
                    if "__pycache__" not in p.parts)
    shipped = sorted(p.relative_to(build).as_posix() for p in (build / "pepperpy").rglob("*.py"))
    assert [m for m in source if m not in shipped] == []  # a package missing from pyproject's list is lost
    for data in ("py.typed", "catalog/schema.json", "catalog/packed.json"):
        assert (build / "pepperpy" / data).is_file(), data
    assert sorted(p.name for p in (build / "pepperpy" / "_catalog_data").glob("*.yaml")) == \
        sorted(p.name for p in (ROOT / "catalog").glob("*.yaml"))
