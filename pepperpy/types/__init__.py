"""The values pepperpy hands out: Completion, Chunk, Stream, Usage, Embeddings, ToolStep, TokenCount, and the
catalog's ModelSpec and ProviderSpec. All are frozen Value classes (dataclasses to ``dataclasses``) except Stream, which
is an iterator.

- ``_answer``: what a chat call answers (Completion, Usage, ToolCall, Chunk) and the short texts the reprs show;
  ``_other_answers``: Embeddings, TokenCount, ToolStep; ``_specs``: the catalog's ModelSpec, Pricing, ParamRange
  and ProviderSpec; ``_stream``: Stream.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy
from ._answer import FINISH_REASONS, Chunk, Completion, ToolCall, Usage, text_chunk

# Not in __all__, imported from here by other modules (``as`` marks them re-exported for mypy --strict)
from ._answer import REPR_TEXT as REPR_TEXT
from ._answer import combine_usage as combine_usage
from ._answer import plural as plural
from ._answer import result_repr as result_repr
from ._answer import short_text as short_text
from ._answer import short_value as short_value
from ._specs import ModelSpec, ParamRange, Pricing, ProviderSpec, RetiredModel
from ._specs import day_of as day_of

if TYPE_CHECKING:
    from ._other_answers import Embeddings, TokenCount, ToolStep
    from ._stream import Stream

__all__ = [
    "FINISH_REASONS", "Chunk", "Completion", "Embeddings", "ModelSpec", "ParamRange", "Pricing", "ProviderSpec",
    "RetiredModel", "Stream", "TokenCount", "ToolCall", "ToolStep", "Usage", "text_chunk",
]

# the answers of embed, count_tokens and run, and a stream: their classes are made when first used
__getattr__, __dir__ = lazy(__name__, {"Embeddings": "_other_answers", "TokenCount": "_other_answers",
                                      "ToolStep": "_other_answers", "Stream": "_stream"})
