"""The token estimate (count_tokens without an endpoint) and the lower bound of the pre-flight check."""

import pytest

import pepperpy
from pepperpy.catalog.tokens import (
    BYTES_PER_TOKEN,
    IMAGE_TOKENS,
    MAX_BYTES_PER_TOKEN,
    MESSAGE_TOKENS,
    estimate_tokens,
    min_tokens,
)

PROSE = ("The quick brown fox jumps over the lazy dog while the farmer watches from the porch, "
         "wondering whether the harvest will come in before the autumn rains. ") * 20


def test_the_estimate_follows_its_documented_rule() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
    size = len("Be brief.") + len("Hello there")
    assert estimate_tokens(messages) == -(-size // BYTES_PER_TOKEN) + 2 * MESSAGE_TOKENS
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    assert estimate_tokens(messages, tools=tools) > estimate_tokens(messages)
    image = {"role": "user", "content": [{"type": "text", "text": "What is it?"},
                                         {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}
    assert estimate_tokens([image]) == -(-len("What is it?") // BYTES_PER_TOKEN) + MESSAGE_TOKENS + IMAGE_TOKENS


def test_tool_calls_and_results_count() -> None:
    turn = [{"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "' + "x" * 400 + '"}'}}]},
        {"role": "tool", "tool_call_id": "c", "content": "y" * 400}]
    assert estimate_tokens(turn) > 200
    assert min_tokens(turn) >= 1


def test_the_estimate_is_near_real_tokenizer_counts_for_prose() -> None:
    # every word of PROSE is one token in BPE vocabularies (o200k, cl100k, Llama 3): 28 words and 2 marks a
    # sentence, so about 600 tokens for the 20 sentences
    estimate = estimate_tokens([{"role": "user", "content": PROSE}])
    assert 0.7 * 600 <= estimate <= 1.3 * 600


def test_the_lower_bound_stays_well_under_real_counts() -> None:
    messages = [{"role": "user", "content": PROSE}]
    assert min_tokens(messages) * 3 <= 600  # prose: at least 3 times under the real count
    assert min_tokens(messages) == -(-len(PROSE.encode()) // MAX_BYTES_PER_TOKEN)


@pytest.mark.parametrize("text", [" " * 10_000, "=" * 10_000, "ab\n\n\n\n    \t\tcd" * 100, "\u4e2d" * 50])
def test_runs_that_tokenizers_pack_tightly_barely_count(text: str) -> None:
    bound = min_tokens([{"role": "user", "content": text}])
    assert bound <= max(1, len(text) // 40)


def test_nothing_to_count() -> None:
    assert min_tokens([]) == 0 and estimate_tokens([]) == 0
    assert min_tokens([{"role": "user", "content": None}]) == 0


def test_check_context_refuses_only_what_certainly_cannot_fit() -> None:
    from pepperpy.catalog.validation import check_context
    from pepperpy.types import ModelSpec

    small = ModelSpec(id="tiny", provider="p", context_window=100)
    check_context(small, [{"role": "user", "content": "word " * 60}])  # ~60 tokens: fits
    check_context(small, [{"role": "user", "content": "word " * 150}])  # ~150 tokens, not certainly over: sent
    check_context(ModelSpec(id="open", provider="p"), [{"role": "user", "content": "x" * 10**6}])  # no window
    text = "lorem ipsum dolor " * 200  # 3,600 bytes: at least 225 tokens on any tokenizer
    with pytest.raises(pepperpy.ContextLengthError) as info:
        check_context(small, [{"role": "user", "content": text}])
    error = info.value
    assert (error.tokens, error.limit, error.provider, error.model) == (225, 100, "p", "tiny")
    assert "at least 225 tokens" in str(error) and "100-token context window of p/tiny" in str(error)


def test_a_prompt_too_short_to_pass_the_limit_is_not_measured() -> None:
    messages = [{"role": "user", "content": "lorem ipsum dolor " * 200}]  # 3,600 characters: bound 225
    assert min_tokens(messages, above=900) == 0  # 3,600 characters * 4 bytes / 16 = 900 cannot pass 900
    assert min_tokens(messages, above=225) == 0  # 3,600 bytes / 16 = 225 cannot pass 225
    assert min_tokens(messages, above=224) == min_tokens(messages) == 225  # measured


def test_check_context_counts_tool_call_arguments_and_parts_too() -> None:
    from pepperpy.catalog.validation import check_context
    from pepperpy.types import ModelSpec

    small = ModelSpec(id="tiny", provider="p", context_window=100)
    arguments = '{"q": "' + "lorem ipsum dolor " * 200 + '"}'
    turn = {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "search", "arguments": arguments}}]}
    with pytest.raises(pepperpy.ContextLengthError):
        check_context(small, [{"role": "user", "content": "hi"}, turn])
    parts = {"role": "user", "content": [{"type": "text", "text": "lorem ipsum dolor " * 200}]}
    with pytest.raises(pepperpy.ContextLengthError):
        check_context(small, [parts])
