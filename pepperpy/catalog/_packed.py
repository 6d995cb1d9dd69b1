"""Validated catalog data without YAML or JSON Schema on the way: the packed packaged catalog, then a cache
of validated user files.

**The packed catalog.** ``packed.json`` (next to this module, shipped in the wheel) holds the validated
data of every packaged YAML file under the SHA-256 of the file's bytes. It is generated from the YAML
(``make catalog``, i.e. ``python -m pepperpy.catalog``) and a test fails when it is stale, so the YAML
stays the only thing people edit. Lookups are by content: a packaged file that was edited since packing (a
checkout between an edit and ``make catalog``) simply misses and is validated like a user file. So a Client
built from the packaged catalog never imports ``yaml`` or ``jsonschema``, in a fresh process, with no cache
folder, on a read-only home.

**User files** pay for YAML and validation once: their validated data is kept by the SHA-256 of (pepperpy
version, the schema, the file's bytes), so a changed file, schema or version is never served stale, in memory
per process and as JSON (never pickle) under ``$PEPPERPY_CACHE_DIR`` (default ``~/.cache/pepperpy``; an
empty string disables it).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CatalogError
from ._files import SCHEMA_PATH, catalog_files, packaged_catalog_dir, parse_text

if TYPE_CHECKING:
    pass

__all__ = ["CACHE_DIR_ENV", "PACKED_PATH", "load_validated", "pack_catalog", "remember_valid", "remembered_valid"]

CACHE_DIR_ENV = "PEPPERPY_CACHE_DIR"
PACKED_PATH = Path(__file__).with_name("packed.json")
_FORMAT = "2"  # bumped when a check is added: files validated before are checked again
_PACKED_FORMAT = 1


class _Packed:
    """The packed packaged catalog: validated data by the SHA-256 of a file's bytes, read once per process."""

    _lock = threading.Lock()
    _by_digest: Mapping[str, Any] | None = None

    @classmethod
    def get(cls, digest: str) -> Any:
        by_digest = cls._by_digest
        if by_digest is None:
            with cls._lock:
                if cls._by_digest is None:
                    cls._by_digest = _read_packed()
                by_digest = cls._by_digest
        return by_digest.get(digest)


def _read_packed() -> Mapping[str, Any]:
    try:
        packed = json.loads(PACKED_PATH.read_bytes())
        files = packed["files"] if packed.get("format") == _PACKED_FORMAT else {}
        return {entry["sha256"]: entry["data"] for entry in files.values()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # missing or damaged: validate the YAML
        return {}


class _ValidatedFiles:
    """Validated user-file data by content hash: in memory, then on disk as JSON."""

    _lock = threading.Lock()
    _memory: dict[str, Any] = {}
    _schema_digest: bytes | None = None

    @classmethod
    def key(cls, raw: bytes) -> str:
        if cls._schema_digest is None:
            from .._version import __version__

            salt = SCHEMA_PATH.read_bytes() + __version__.encode() + _FORMAT.encode()
            cls._schema_digest = hashlib.sha256(salt).digest()
        return hashlib.sha256(cls._schema_digest + raw).hexdigest()

    @staticmethod
    def folder() -> Path | None:
        value = os.environ.get(CACHE_DIR_ENV)
        if value == "":
            return None
        base = Path(value) if value else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pepperpy"
        return base / "catalog"

    @classmethod
    def get(cls, key: str) -> Any:
        data = cls._memory.get(key)
        if data is not None:
            return data
        folder = cls.folder()
        if folder is None:
            return None
        try:
            data = json.loads((folder / f"{key}.json").read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or "provider" not in data:
            return None
        with cls._lock:
            cls._memory[key] = data
        return data

    @classmethod
    def put(cls, key: str, data: Any) -> None:
        with cls._lock:
            if len(cls._memory) > 256:
                cls._memory.clear()
            cls._memory[key] = data
        folder = cls.folder()
        if folder is None:
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, folder / f"{key}.json")
        except OSError:  # a read-only home only costs speed
            pass


def remembered_valid(content: bytes) -> bool:
    """Whether provider data with these bytes (canonical JSON of settings given in code) passed the checks
    before, in this process or an earlier one (the validated-files cache)."""
    return _ValidatedFiles.get(_ValidatedFiles.key(content)) is not None


def remember_valid(content: bytes, data: Any) -> None:
    """Remember that provider data with these bytes passed the checks."""
    _ValidatedFiles.put(_ValidatedFiles.key(content), data)


def load_validated(path: Path, *, use_cache: bool = True) -> tuple[bytes, Any]:
    """(raw bytes, validated data) of one file; one CatalogError listing every problem of the file.
    ``use_cache=False`` parses and validates the YAML whatever the caches hold."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read: {exc.strerror}", file=str(path)) from exc
    if use_cache:
        data = _Packed.get(hashlib.sha256(raw).hexdigest())
        if data is not None:
            return raw, data
    key = _ValidatedFiles.key(raw)
    data = _ValidatedFiles.get(key) if use_cache else None
    if data is not None:
        return raw, data
    from ._checks import file_problems  # the checks load for a file that is not packed or remembered

    text, data = parse_text(path, raw)
    problems = file_problems(data, file=str(path), text=text)
    if problems:
        raise CatalogError.of(problems)
    _ValidatedFiles.put(key, data)
    return raw, data


def pack_catalog(folder: Path | None = None) -> str:
    """The text of ``packed.json`` for the YAML files of ``folder`` (default: the packaged catalog):
    each file's validated data under its name and SHA-256, one file per line. CatalogError listing every
    problem when a file is not valid."""
    from ._checks import file_problems

    problems: list[CatalogError] = []
    lines = []
    for path in catalog_files([folder or packaged_catalog_dir()]):
        raw = path.read_bytes()
        try:
            text, data = parse_text(path, raw)
        except CatalogError as exc:
            problems.append(exc)
            continue
        problems.extend(file_problems(data, file=str(path), text=text))
        entry = {"sha256": hashlib.sha256(raw).hexdigest(), "data": data}
        lines.append(f"{json.dumps(path.name)}: {json.dumps(entry, ensure_ascii=False, separators=(',', ':'))}")
    if problems:
        raise CatalogError.of(problems)
    return (f'{{"format": {_PACKED_FORMAT}, "generated_by": "make catalog (python -m pepperpy.catalog)", '
            f'"files": {{\n' + ",\n".join(lines) + "\n}}\n")


def main() -> int:
    """``python -m pepperpy.catalog``: write packed.json from the packaged YAML files."""
    try:
        text = pack_catalog()
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    if PACKED_PATH.exists() and PACKED_PATH.read_text(encoding="utf-8") == text:
        print(f"{PACKED_PATH.name}: up to date", file=sys.stderr)
        return 0
    tmp = PACKED_PATH.with_name(f".{PACKED_PATH.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, PACKED_PATH)
    print(f"{PACKED_PATH.name}: written from {packaged_catalog_dir()}", file=sys.stderr)
    return 0


