"""The public face: __all__ is pinned, and importing pepperpy stays light."""

from __future__ import annotations

import subprocess
import sys

import pepperpy

EXPECTED_ALL = [
    "AsyncRealtimeSession", "AudioStream", "AuthenticationError", "BatchJob", "BreakerConfig", "BridgeTimeoutError",
    "Budget", "BudgetExceededError", "CacheConfig", "CatalogDiff", "CatalogError", "Chunk", "CircuitOpenError",
    "Client", "Completion", "ConfigurationError", "ContextLengthError", "Embeddings", "Image", "Images",
    "InvalidRequestError", "JobError", "JobStatus", "JobTimeoutError", "MaxTurnsError", "ModelChange",
    "ModelNotFoundError", "ModelRetiredError", "ModelSpec", "PepperpyError", "ProviderAPIError",
    "ProviderConnectionError", "ProviderError", "ProviderRateLimitError", "ProviderSpec", "ProviderTimeoutError",
    "ProviderUnavailableError", "RateLimitError", "RealtimeReply", "RealtimeSession", "RetryPolicy", "Segment",
    "Speech", "Stream", "StreamError", "StructuredOutputError", "TokenCount", "ToolCall", "ToolStep",
    "Transcription", "TranscriptionStream", "Usage", "ValidationError", "Video", "VideoJob", "__version__",
    "complete", "default_client", "embed", "generate_image", "register_dialect", "reset_default_client", "stream",
    "synthesize", "tool_result", "transcribe",
]


def test_all_is_pinned_and_sorted() -> None:
    assert pepperpy.__all__ == EXPECTED_ALL
    assert sorted(pepperpy.__all__) == pepperpy.__all__
    for name in pepperpy.__all__:
        assert hasattr(pepperpy, name), name


def test_the_config_classes_users_need_are_exported() -> None:
    from pepperpy.resilience.breaker import BreakerConfig
    from pepperpy.resilience.cache import CacheConfig
    from pepperpy.resilience.retry import RetryPolicy

    assert (pepperpy.RetryPolicy, pepperpy.CacheConfig, pepperpy.BreakerConfig) == (RetryPolicy, CacheConfig,
                                                                                   BreakerConfig)
    client = pepperpy.Client(env_file=None, retry_policy=pepperpy.RetryPolicy(max_retries=4),
                             cache=pepperpy.CacheConfig(maxsize=2), breaker=pepperpy.BreakerConfig(fail_max=3))
    assert client.retry_policy.max_retries == 4 and client.cache_info().maxsize == 2


def test_import_loads_no_heavy_module_and_reads_no_file() -> None:
    code = (
        "import sys, builtins, io\n"
        "opened = []\n"
        "real_open = io.open\n"
        "def spy(file, *a, **k):\n"
        "    opened.append(str(file)); return real_open(file, *a, **k)\n"
        "builtins.open = spy\n"
        "import pepperpy\n"
        "heavy = [m for m in ('yaml', 'jsonschema', 'pybreaker', 'dotenv', 'cachetools') if m in sys.modules]\n"
        "print(heavy, [f for f in opened if f.endswith(('.yaml', '.env', '.json'))])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[] []"


def test_completion_reprs() -> None:
    r = pepperpy.Completion(text="Hi", model="m", provider="p", finish_reason="stop",
                            usage=pepperpy.Usage(3, 1), cost=0.5)
    assert str(r) == "Hi" and r.usage.total_tokens == 4
    assert "Hi" in r._repr_markdown_() and "p/m" in r._repr_markdown_()
