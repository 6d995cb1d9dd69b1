"""A progress bar for work that takes a while (``client.map``, waiting on batch jobs): tqdm's when it is installed
and wanted, else none."""

from __future__ import annotations

import sys
from typing import Any, Protocol

from ..errors import ConfigurationError

__all__ = ["ProgressBar", "is_terminal", "progress_bar"]


class ProgressBar(Protocol):
    def update(self, n: int = 1) -> Any: ...

    def close(self) -> None: ...


def progress_bar(progress: bool | None, total: int, model: str) -> ProgressBar | None:
    if progress is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise ConfigurationError("progress=True needs tqdm: pip install 'pepperpy[progress]' (or pip install "
                                     "tqdm), or pass progress=None to show a bar only when tqdm is there") from None
        return None
    if progress is None and not is_terminal(sys.stderr):
        return None
    bar: ProgressBar = tqdm(total=total, desc=model, unit="call")
    return bar


def is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # closed stream
        return False
