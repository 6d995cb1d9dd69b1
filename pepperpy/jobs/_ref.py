"""A job's id: one string that says everything needed to find the job again, in any process, any day.

``batch:openai:eyJ2IjoxLC...``: the kind, the catalog provider, then base64url (no padding) of a small JSON
object: the model's catalog name, the provider's own ids (several when provider limits split one input into
several provider batches), which input items each covers, the items refused before upload (the parameter that
was wrong and why, scrubbed of anything shaped like a credential), for a video the seconds and size asked for
(its cost), and what the ledger needs to book the job once in any process: the day it was submitted (whose
prices bill it) and the amount reserved on the budget, in which period. Nothing secret goes in: an id may be
logged, stored in a database or passed on a command line.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import ValidationError

__all__ = ["KINDS", "JobRef", "Part"]

KINDS = ("batch", "video")
_VERSION = 1


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Part:
    """One provider job: its provider id and the input items ``[start, stop)`` it holds."""

    id: str
    start: int = 0
    stop: int = 1


@dataclass(frozen=True)
class JobRef:
    """What a job id encodes. ``rejected`` maps an input index to the parameter that was refused ("" when the
    item as a whole was), for items never sent, and ``reasons`` the same index to what the refusal said.
    ``extra`` holds a video's ``s`` (seconds) and ``z`` (size), and the ledger's ``d`` (the day of submission),
    ``b`` (USD reserved) and ``q`` (the budget period it was reserved in)."""

    kind: str
    provider: str
    model: str
    parts: tuple[Part, ...]
    total: int
    rejected: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    extra: Mapping[str, Any] = field(default_factory=_empty)
    reasons: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))

    def encode(self) -> str:
        payload: dict[str, Any] = {"v": _VERSION, "m": self.model, "n": self.total,
                                   "p": [[p.id, p.start, p.stop] for p in self.parts]}
        if self.rejected:
            payload["r"] = {str(index): param for index, param in sorted(self.rejected.items())}
        if self.reasons:
            payload["e"] = {str(index): text for index, text in sorted(self.reasons.items())}
        if self.extra:
            payload["x"] = dict(self.extra)
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return f"{self.kind}:{self.provider}:{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}"

    @classmethod
    def decode(cls, text: object, kind: str | None = None) -> JobRef:
        """The JobRef of an id; ValidationError saying what is wrong with it (truncated, another kind...)."""
        if not isinstance(text, str):
            raise ValidationError(f"a job id is a string like 'batch:openai:eyJ2Ijox...', not "
                                  f"{type(text).__name__}", param="id", value=text)
        found, _, rest = text.strip().partition(":")
        provider, _, encoded = rest.partition(":")
        if found not in KINDS or not provider or not encoded:
            raise ValidationError(f"{_short(text)!r} is not a pepperpy job id (they look like "
                                  f"'batch:openai:eyJ2Ijox...' or 'video:gemini:...', as job.id gave them)",
                                  param="id", value=_short(text))
        if kind is not None and found != kind:
            use = "client.video_job(id)" if found == "video" else "client.batch_job(id)"
            raise ValidationError(f"this is the id of a {found} job; resume it with {use}", param="id",
                                  value=_short(text))
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            payload = json.loads(raw)
            if not isinstance(payload, dict) or payload.get("v") != _VERSION:
                raise ValueError(f"version {payload.get('v') if isinstance(payload, dict) else None!r}")
            parts = tuple(Part(str(i), int(a), int(b)) for i, a, b in payload["p"])
            rejected = {int(k): str(v) for k, v in (payload.get("r") or {}).items()}
            reasons = {int(k): str(v) for k, v in (payload.get("e") or {}).items()}
            ref = cls(found, provider, str(payload["m"]), parts, int(payload["n"]),
                      MappingProxyType(rejected), MappingProxyType(dict(payload.get("x") or {})),
                      MappingProxyType(reasons))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise ValidationError(f"the job id {_short(text)!r} is damaged ({type(exc).__name__}: {exc}); copy it "
                                  f"whole, as job.id gave it", param="id", value=_short(text)) from None
        if not parts:
            raise ValidationError(f"the job id {_short(text)!r} names no provider job", param="id",
                                  value=_short(text))
        return ref


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."
