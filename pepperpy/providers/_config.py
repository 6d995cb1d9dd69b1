"""``ProviderConfig``: the settings of one seed-API provider (``pepperpy.providers.ProviderConfig``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ProviderConfig"]


@dataclass(repr=False)
class ProviderConfig:
    """The settings of one provider instance. ``to_dict()`` (alias ``dict()``) feeds ``create_provider(**...)``."""

    provider_type: str
    api_key: str | None = None
    model: str | None = None
    timeout: float | None = None    # None: the Client's default (the catalog's timeout, else 60 s)
    max_retries: int | None = None  # None: the Client's default (2)
    extra_config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    dict = to_dict  # the seed documents use config.dict()

    def __repr__(self) -> str:
        key = "'***'" if self.api_key else "None"
        return (f"ProviderConfig(provider_type={self.provider_type!r}, api_key={key}, model={self.model!r}, "
                f"timeout={self.timeout!r}, max_retries={self.max_retries!r}, "
                f"extra_config={sorted(self.extra_config)!r})")
