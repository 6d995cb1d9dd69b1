"""Files sent to providers: an ``Upload`` (a path, bytes or a binary file object, never read up front) and a
``Multipart`` form body that streams its files from disk.

Nothing here reads a whole file into memory. ``Upload.of`` checks what it can without reading (the path
exists and is a readable file, its size), so a missing, unreadable or oversized file fails before anything
is sent. ``Multipart.open()`` returns a fresh reader for every attempt: each path is opened again, a caller's
file object is seeked back to where it started, bytes are re-read from memory. That is what lets the retry
policy resend an upload correctly. ``Transport.send`` streams a ``Request(upload=...)`` body in blocks, with
its Content-Length known before the first byte (no chunked upload, which some providers refuse).

How other features use it (batch jobs, file APIs)::

    body = Multipart(fields=[("purpose", "batch")], files=[("file", Upload.of("requests.jsonl"))])
    transport.send(Request("POST", "/files", upload=body))          # OpenAI /v1/files
    transport.send(Request("POST", url, upload=Upload.of(path), headers={...}))   # a raw body (Gemini resumable)
"""

from ._multipart import Multipart
from ._upload import BLOCK_SIZE, Upload, UploadSource, sniff_type

__all__ = ["BLOCK_SIZE", "Multipart", "Upload", "UploadSource", "sniff_type"]
