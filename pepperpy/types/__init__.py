"""The values pepperpy hands out: Completion, Chunk, Stream, Usage, Embeddings, ToolStep, TokenCount, and the
catalog's ModelSpec and ProviderSpec. All are frozen dataclasses except Stream, which is an iterator.

- ``_answer``: what a call answers (Completion, Usage, ToolCall, ToolStep, Chunk, Embeddings, TokenCount) and
  the short texts their reprs show; ``_specs``: the catalog's ModelSpec, Pricing, ParamRange and ProviderSpec;
  ``_stream``: Stream.
"""

from ._answer import FINISH_REASONS, Chunk, Completion, Embeddings, TokenCount, ToolCall, ToolStep, Usage, text_chunk

# Not in __all__, imported from here by other modules (``as`` marks them re-exported for mypy --strict)
from ._answer import REPR_TEXT as REPR_TEXT
from ._answer import combine_usage as combine_usage
from ._answer import plural as plural
from ._answer import result_repr as result_repr
from ._answer import short_text as short_text
from ._answer import short_value as short_value
from ._specs import ModelSpec, ParamRange, Pricing, ProviderSpec, RetiredModel
from ._specs import day_of as day_of
from ._stream import Stream

__all__ = [
    "FINISH_REASONS", "Chunk", "Completion", "Embeddings", "ModelSpec", "ParamRange", "Pricing", "ProviderSpec",
    "RetiredModel", "Stream", "TokenCount", "ToolCall", "ToolStep", "Usage", "text_chunk",
]
