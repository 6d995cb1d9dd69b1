"""HTTP on both roads: the blocking one (pooled requests sessions, uploads streamed from disk, bounded downloads,
OAuth token fetches) and the event loop's own HTTP/1.1 client with its connection pools; server-sent events and
NDJSON read from body bytes; and the one place answers and transport failures become pepperpy errors.

Uses only ``media``, ``types`` and the base modules (``errors``, ``_redact``). ``transport`` is its face for the
layers above; dialects use only ``transport``, ``_translate`` and the upload types, never the connection code.
"""
