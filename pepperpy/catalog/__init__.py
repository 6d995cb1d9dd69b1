"""The catalog: YAML files checked against their JSON Schema (or the packed, already validated packaged catalog)
into frozen specs and one name index; and the checks of a call against a model's entry (``validation``,
``tokens``: params, messages, context window).

Uses only ``types`` and the base modules.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy
from ._registry import (
    CAPABILITIES,
    DEFAULT_DIALECT,
    MODES,
    Catalog,
    catalog_files,
    model_spec,
    packaged_catalog_dir,
)

if TYPE_CHECKING:
    from ._checks import check_file

__getattr__, __dir__ = lazy(__name__, {"check_file": "_checks"})  # for the files people write

__all__ = ["CAPABILITIES", "DEFAULT_DIALECT", "MODES", "Catalog", "catalog_files", "check_file", "model_spec",
           "packaged_catalog_dir"]
