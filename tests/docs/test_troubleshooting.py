"""docs/troubleshooting.md has a row for every error class users can meet, and no row for a class that is gone.

The classes are every subclass of ``pepperpy.PepperpyError`` that a public module exports (``pepperpy``,
``pepperpy.errors``, and any other module without a leading underscore in its path), plus every subclass
defined anywhere in the package (every module is imported first, the lazily imported ones too): a new error
class, wherever it lives, fails this test until the page says what causes it and how to fix it. (The page's
examples, which produce the quoted messages, run in ``test_doc_examples.py``.)
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pepperpy
from pepperpy.errors import PepperpyError

PAGE = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
SECTION = "## Every error, its causes and its fix"
_ROW = re.compile(r"^\|\s*`(?P<name>[A-Za-z_][A-Za-z0-9_]*)`\s*\|")


def all_modules() -> list[str]:
    """Every module of the package, ``pepperpy`` first (``__main__`` modules run a command: left out)."""
    return ["pepperpy", *(info.name for info in pkgutil.walk_packages(pepperpy.__path__, "pepperpy.")
                          if not info.name.endswith(".__main__"))]


def public_modules() -> list[str]:
    """``pepperpy`` and every module of it whose dotted path has no part starting with ``_``."""
    return [name for name in all_modules() if not any(part.startswith("_") for part in name.split("."))]


def error_classes() -> dict[str, type[PepperpyError]]:
    """Every error class users can meet, by name (an alias such as ProviderRateLimitError is its class's)."""
    found: dict[str, type[PepperpyError]] = {}
    public = set(public_modules())
    for name in all_modules():
        module = importlib.import_module(name)
        if name not in public:
            continue
        for attribute in getattr(module, "__all__", ()):
            value = getattr(module, attribute, None)
            if isinstance(value, type) and issubclass(value, PepperpyError):
                found[value.__name__] = value
    pending: list[type[PepperpyError]] = [PepperpyError]
    while pending:  # defined in any module of the package, exported or not
        cls = pending.pop()
        if cls.__module__.split(".")[0] == "pepperpy" and not cls.__name__.startswith("_"):
            found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def table_rows() -> list[str]:
    """The class names of the error table's rows, in page order."""
    text = PAGE.read_text(encoding="utf-8")
    assert SECTION in text, f"{PAGE.name} lost its section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [match["name"] for line in section.splitlines() if (match := _ROW.match(line))]


def test_every_error_class_has_a_row() -> None:
    rows = set(table_rows())
    missing = sorted(set(error_classes()) - rows)
    assert missing == [], (f"docs/troubleshooting.md has no row for {', '.join(missing)}: add one to its table "
                           f"(the usual causes, the exact message users see, and the fix)")


def test_every_row_names_a_class_that_exists_once() -> None:
    rows = table_rows()
    classes = error_classes()
    assert sorted(set(rows) - set(classes)) == [], "rows for classes pepperpy no longer has"
    assert len(rows) == len(set(rows)), "a class with two rows"


def test_the_discovery_sees_the_whole_tree() -> None:
    classes = error_classes()
    assert {"ConfigurationError", "CatalogError", "ModelNotFoundError", "ValidationError", "StructuredOutputError",
            "MaxTurnsError", "BudgetExceededError", "JobTimeoutError", "ProviderError", "ProviderAPIError",
            "AuthenticationError", "RateLimitError", "ContextLengthError", "InvalidRequestError",
            "ProviderUnavailableError", "ProviderTimeoutError", "ProviderConnectionError", "StreamError",
            "CircuitOpenError", "JobError"} <= set(classes)
    assert "pepperpy.testing" in public_modules() and "pepperpy.errors" in public_modules()
    assert not any(name.split(".")[-1].startswith("_") for name in public_modules())
