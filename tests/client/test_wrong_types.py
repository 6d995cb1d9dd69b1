"""Arguments of the wrong type or value: a typed error that names the argument and says what it takes, before
anything is sent; never a bare AttributeError or TypeError from deep inside, never an empty answer that hides
a typo."""

from __future__ import annotations

from typing import Any

import pytest

import pepperpy
from pepperpy.testing import FakeProviderServer


@pytest.fixture
def client(server: FakeProviderServer) -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"openai": "sk-test-types-0123456789"}, max_retries=0,
                           providers={"openai": {"base_url": server.base_url("openai")}})


@pytest.mark.parametrize("model", [4, ["gpt-4o-mini"], b"gpt-4o-mini", "", "   "])
def test_a_model_that_is_no_name_is_a_validation_error(client: pepperpy.Client, server: FakeProviderServer,
                                                       model: Any) -> None:
    for call in (lambda: client.complete("hi", model=model), lambda: client.model(model),
                 lambda: client.embed("hi", model=model), lambda: client.complete("hi", model="gpt-4o-mini",
                                                                                 fallbacks=[model])):
        with pytest.raises(pepperpy.ValidationError, match=r"model= takes a catalog model.s name.*'gpt-4o-mini'"):
            call()
    assert server.requests == []


def test_no_model_without_a_default_names_the_variable_and_none_is_no_name(client: pepperpy.Client,
                                                                          server: FakeProviderServer) -> None:
    # model=None asks for the mode's default model (PEPPERPY_DEFAULT_<MODE>_MODEL): none is set here
    for call, variable in ((lambda: client.complete("hi", model=None), "PEPPERPY_DEFAULT_CHAT_MODEL"),
                           (lambda: client.embed("hi"), "PEPPERPY_DEFAULT_EMBEDDING_MODEL")):
        with pytest.raises(pepperpy.ConfigurationError, match=f"no model given.*{variable}"):
            call()
    for call in (lambda: client.model(None), lambda: client.complete("hi", model="gpt-4o-mini",  # type: ignore
                                                                    fallbacks=[None])):
        with pytest.raises(pepperpy.ValidationError, match=r"model= takes a catalog model.s name.*'gpt-4o-mini'"):
            call()
    assert server.requests == []


def test_a_model_name_with_spaces_around_it_suggests_it_without(client: pepperpy.Client) -> None:
    with pytest.raises(pepperpy.ModelNotFoundError) as info:
        client.complete("hi", model=" gpt-4o-mini\n")
    assert info.value.suggestions == ["gpt-4o-mini"]
    assert "spaces" in str(info.value) and "'openai/ gpt-4o-mini" not in str(info.value)


@pytest.mark.parametrize(("filters", "error", "hint"), [
    ({"mode": "chta"}, pepperpy.ValidationError, "did you mean 'chat'"),
    ({"mode": "images"}, pepperpy.ValidationError, "did you mean 'image'"),
    ({"capability": "visoin"}, pepperpy.ValidationError, "did you mean 'vision'"),
    ({"capability": "function_calling"}, pepperpy.ValidationError, "tools"),
    ({"provider": "opneai"}, pepperpy.ConfigurationError, "did you mean 'openai'"),
])
def test_a_misspelt_filter_of_models_is_an_error_not_an_empty_list(client: pepperpy.Client, filters: dict[str, Any],
                                                                  error: type[Exception], hint: str) -> None:
    with pytest.raises(error, match=hint):
        client.models(**filters)


def test_filters_the_catalog_knows_but_no_model_matches_give_an_empty_list(tmp_path: Any) -> None:
    (tmp_path / "house.yaml").write_text("provider: house\nbase_url: http://localhost:8000/v1\n"
                                         "requires_api_key: false\nmodels: [{id: m}]\n")
    client = pepperpy.Client(tmp_path, env_file=None)
    assert client.models(provider="house", mode="embedding") == []
    assert client.models(provider="house", capability="vision") == []
    assert [m.name for m in client.models(provider="house", mode="chat")] == ["house/m"]


SECRET = "sk-secret-typed-0123456789"


@pytest.mark.parametrize(("options", "hint"), [
    ({"env_file": 3}, r"env_file takes the path of a \.env file"),
    ({"api_keys": SECRET}, r"api_keys takes a mapping of provider name to key, e\.g\. api_keys=\{'openai': \.\.\.\}"),
    ({"api_keys": [("openai", SECRET)]}, r"api_keys takes a mapping"),
    ({"api_keys": {"openai": 123}}, r"api_keys\['openai'\] must be a string \(the key\), not int"),
    ({"api_keys": {"openai": SECRET.encode()}}, r"api_keys\['openai'\] must be a string \(the key\), not bytes"),
    ({"catalog": 3}, r"catalog takes a path to a YAML file or folder, or a list of them, not int"),
    ({"catalog": [Any]}, r"catalog takes a path"),
    ({"max_retries": "2"}, r"max_retries must be a whole number of 0 or more, not '2'"),
    ({"max_retries": 1.5}, r"max_retries must be a whole number"),
    ({"total_timeout": "30"}, r"total_timeout must be"),
    ({"max_retry_wait": "5"}, r"max_retry_wait must be"),
])
def test_a_client_option_of_the_wrong_type_says_what_it_takes(options: dict[str, Any], hint: str) -> None:
    with pytest.raises(pepperpy.ConfigurationError, match=hint) as info:
        pepperpy.Client(**options)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
