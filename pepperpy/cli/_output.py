"""What the commands print and write: an answer as JSON (``completion_json``, the same in every command), and the
output files of the commands that pay for what they write (images, speech, videos, batch results), checked
before the provider is called, so a typo in ``-o`` does not cost a generation that is then lost."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import errors

if TYPE_CHECKING:
    from ..types import Completion

__all__ = ["check_output", "completion_json"]


def completion_json(result: Completion) -> dict[str, Any]:
    """An answer as ``pepperpy complete --json`` prints it (``map`` and ``batch results`` print the same, each line
    with its ``index``)."""
    from dataclasses import asdict  # only JSON output needs it

    return {"text": result.text, "model": result.model, "provider": result.provider,
            "finish_reason": result.finish_reason, "usage": asdict(result.usage), "cost": result.cost}


def check_output(path: str) -> None:
    """ValidationError, before anything is sent, when ``path`` cannot be written: its folder is missing or
    read-only, or it is a folder itself (a name without an extension gets one later, so only a name with one
    is looked at)."""
    target = Path(path).expanduser()
    folder = target.parent
    if not folder.is_dir():
        raise errors.ValidationError(f"cannot write {path}: the folder {folder} does not exist; create it first "
                                     f"(mkdir -p {folder}) or give another -o", param="output", value=path)
    if not os.access(folder, os.W_OK):
        raise errors.ValidationError(f"cannot write {path}: the folder {folder} is not writable; give another -o",
                                     param="output", value=path)
    if target.suffix and target.is_dir():
        raise errors.ValidationError(f"cannot write {path}: {path} is a folder; give a file name such as "
                                     f"{target / ('out' + target.suffix)}", param="output", value=path)
