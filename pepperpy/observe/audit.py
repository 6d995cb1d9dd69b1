"""The audit log and the redaction filter of every pepperpy logger.

Logger ``pepperpy.audit`` gets one record per call (complete, stream, embed, and the media calls), at INFO
when it succeeded and WARNING when it failed. Every field is also in ``extra=``, for structured handlers::

    op, provider, model, latency_ms, status ("ok" or the error class), status_code, attempts,
    input_tokens, output_tokens, total_tokens, cost, cached, fallback_hop, fallback_from, failures,
    request_id, for media calls input_bytes and output_bytes (sizes, never the bytes), and with
    Client(log_content=True) also prompt (the request body, or a media call's text and file sizes) and output.

    >>> logging.getLogger("pepperpy.audit").setLevel(logging.INFO)   # doctest: +SKIP

Nothing is built for a record the logger would drop: the pipeline asks ``isEnabledFor`` with the record's
level once the call's outcome is known, so at WARNING (the usual way to log failures only) failures are
still recorded and successes cost nothing.

``RedactionFilter`` sits on each pepperpy logger (``pepperpy.audit``, ``pepperpy.resilience``) and replaces
anything shaped like a credential, in the message and in every extra field, with ``***``; add it to your
own handlers too, with your secrets: ``handler.addFilter(RedactionFilter(secrets=[key]))``.
"""

from __future__ import annotations

import logging
from typing import Any

from .._redact import RedactionFilter, get_logger

__all__ = ["AUDIT_LOGGER", "RedactionFilter", "emit", "get_logger", "level_of"]

AUDIT_LOGGER = "pepperpy.audit"


logger = get_logger(AUDIT_LOGGER)
# A library logs nothing unless the application configures logging (the logging HOWTO's advice): without
# this, Python's last-resort handler would print warnings such as "circuit opened" to stderr.
logging.getLogger("pepperpy").addHandler(logging.NullHandler())


def level_of(status: str) -> int:
    """A record's level: INFO for a call that succeeded (status ``"ok"``), WARNING for any other outcome."""
    return logging.INFO if status == "ok" else logging.WARNING


def emit(fields: dict[str, Any]) -> None:
    """Log one call's record; ``fields`` become the record's extra attributes."""
    level = level_of(fields["status"])
    tokens = fields.get("total_tokens")
    hop = f", hop {fields['fallback_hop']} after {fields['fallback_from']}" if fields.get("fallback_hop") else ""
    logger.log(level, "%s %s/%s %s in %.0f ms (attempts=%d, tokens=%s, cost=%s, cached=%s%s)",
               fields["op"], fields["provider"], fields["model"], fields["status"], fields["latency_ms"],
               fields["attempts"], tokens, fields.get("cost"), fields.get("cached", False), hop, extra=fields)
