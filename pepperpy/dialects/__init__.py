"""Wire dialects: one module per wire format (openai, anthropic, gemini, ollama, stackspot).

A dialect is stateless and does no I/O: it builds requests from plain values and parses plain JSON into
pepperpy types. ``get_dialect(name)`` (in ``base``) imports a dialect's module on first use.
"""
