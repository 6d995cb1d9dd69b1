"""Tools and structured answers: Python functions as tool definitions and the loop of ``client.run``
(``_toolset``), JSON Schema made from Python types (``schema``), and answers checked against a
``response_format`` and built into the user's type (``structured``).

Uses only ``types`` and the base modules: no HTTP, no catalog.
"""

from ._toolset import DEFAULT_MAX_TURNS, Tool, ToolSet, run_loop, tool_result, tool_text

__all__ = ["DEFAULT_MAX_TURNS", "Tool", "ToolSet", "run_loop", "tool_result", "tool_text"]
