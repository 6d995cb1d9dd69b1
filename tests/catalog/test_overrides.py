"""Client(providers=...) goes through the catalog's schema and code, like a file: bad values fail at Client()."""

from __future__ import annotations

from typing import Any

import pytest

import pepperpy


@pytest.mark.parametrize("values, field", [
    ({"timeout": "30"}, "timeout"),
    ({"limits": {"rpm": "x"}}, "limits.rpm"),
    ({"limits": {"rpn": 5}}, "limits.rpn"),
    ({"breaker": {"fail_max": 0}}, "breaker.fail_max"),
    ({"headers": {"X-A": 1}}, "headers.X-A"),
    ({"base_url": "localhost:8000"}, "base_url"),
    ({"requires_api_key": "no"}, "requires_api_key"),
    ({"api_key_env": "OPENAI_KEY"}, "api_key_env"),
])
def test_a_bad_override_fails_at_client_naming_the_key(values: dict[str, Any], field: str) -> None:
    with pytest.raises(pepperpy.CatalogError) as caught:
        pepperpy.Client(env_file=None, providers={"openai": values})
    assert caught.value.field == f"providers['openai'].{field}"
    assert f"providers['openai'].{field}: " in str(caught.value)


def test_an_override_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(pepperpy.CatalogError, match=r"providers\['openai'\]"):
        pepperpy.Client(env_file=None, providers={"openai": "http://localhost"})  # type: ignore[dict-item]


def test_overrides_are_coerced_by_the_same_code_as_files() -> None:
    client = pepperpy.Client(env_file=None, providers={"openai": {
        "timeout": 30, "limits": {"rpm": 60}, "api_key_env": ["MY_KEY"], "options": {"x": 1}}})
    spec = client.catalog.provider("openai")
    assert spec.timeout == 30.0 and isinstance(spec.timeout, float)
    assert dict(spec.limits) == {"rpm": 60} and spec.api_key_env == ("MY_KEY",)
    assert spec.options["x"] == 1 and "default_model" in spec.options  # options merge, as a later file's do
    assert spec.file == pepperpy.Client(env_file=None).catalog.provider("openai").file


def test_an_override_may_add_a_model_like_a_file() -> None:
    client = pepperpy.Client(env_file=None, providers={"openai": {"models": [
        {"id": "my-tune", "mode": "chat", "context_window": 1000, "max_output_tokens": 10,
         "source": "https://example.com"}]}})
    assert client.model("openai/my-tune").context_window == 1000
    assert client.model("gpt-4o").provider == "openai"  # the file's models stay
