"""Seeing what calls do and what they cost: usage totals (``usage``), budgets (``budget``), hooks (``events``),
OpenTelemetry (``telemetry``), the audit log (``audit``), progress bars, and the ``Observer`` the pipeline
reports to at a call's fixed points.

Uses ``resilience`` (the breakers it watches), ``catalog`` (token estimates) and the values below; never the
pipeline or the client.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy

if TYPE_CHECKING:
    from .budget import Budget
    from .usage import UsageReport

__all__ = ["Budget", "UsageReport"]

__getattr__, __dir__ = lazy(__name__, {"Budget": "budget", "UsageReport": "usage"})
