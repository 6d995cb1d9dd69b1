"""Job ids, and every bad input to batch(): a typed error that says how to fix it, before anything is sent."""

from __future__ import annotations

import pytest

import pepperpy
from pepperpy.jobs import JobRef
from pepperpy.jobs._ref import Part
from pepperpy.testing import FakeProviderServer
from tests.jobs.helpers import job_client


def test_a_job_id_round_trips_everything_a_resume_needs() -> None:
    ref = JobRef("batch", "openai", "openai/ft:gpt-4o-mini:org::x/y", (Part("batch_1", 0, 3), Part("b:2", 3, 5)),
                 5, {2: "temperature", 4: "-"}, {"seconds": 8})
    text = ref.encode()
    assert text.startswith("batch:openai:") and "=" not in text and " " not in text
    assert JobRef.decode(text) == ref
    assert JobRef.decode(f"  {text}\n") == ref  # pasted with whitespace


@pytest.mark.parametrize("bad, words", [
    ("nonsense", "not a pepperpy job id"),
    ("batch:openai:", "not a pepperpy job id"),
    ("batch:openai:eyJ2IjoxLCJtIjoiYSJ9", "damaged"),          # {"v":1,"m":"a"}: no parts
    ("batch:openai:%%%", "damaged"),
    ("batch:openai:eyJ2Ijo5OX0", "damaged"),                   # {"v":99}
    (42, "a job id is a string"),
])
def test_a_bad_id_is_a_validation_error_saying_what_is_wrong(bad: object, words: str) -> None:
    with pytest.raises(pepperpy.ValidationError, match=words):
        JobRef.decode(bad)


def test_an_id_of_the_other_kind_says_which_method_resumes_it() -> None:
    text = JobRef("video", "gemini", "gemini/veo", (Part("models/veo/operations/1"),), 1).encode()
    with pytest.raises(pepperpy.ValidationError, match=r"client.video_job\(id\)"):
        JobRef.decode(text, "batch")
    with pytest.raises(pepperpy.ValidationError, match="video job"):
        pepperpy.Client(env_file=None).batch_job(text)


def test_an_id_whose_model_the_catalog_lacks_is_model_not_found() -> None:
    text = JobRef("batch", "anthropic", "anthropic/claude-nonexistent-9", (Part("msgbatch_1", 0, 1),), 1).encode()
    with pytest.raises(pepperpy.ModelNotFoundError):  # strict: by default an unlisted "<provider>/<name>" is
        pepperpy.Client(env_file=None, strict_models=True).batch_job(text)  # sent as typed (docs/catalog.md)


@pytest.fixture
def client(server: FakeProviderServer) -> pepperpy.Client:
    return pepperpy.Client(env_file=None, api_keys={"anthropic": "k", "openai": "k", "gemini": "k"},
                           providers={"anthropic": {"base_url": server.url}, "ollama": {"base_url": server.url}})


@pytest.mark.parametrize("items, kwargs, words", [
    ("just one prompt", {}, "takes a list of items"),
    ({"prompt": "x"}, {}, "takes a list of items"),
    ([], {}, "at least one item"),
    (["a"], {"stream": True}, "never streamed"),
    (["a"], {"fallbacks": ["x"]}, "no fallbacks"),
    ([{"prompt": "a", "model": "gpt-4o"}], {}, "item 0 sets 'model'"),
    ([42, None], {}, "every item was refused before upload; item 0: item 0 is a int"),
    (["a", "b"], {"temperature": 9}, "every item was refused"),
])
def test_bad_batches_fail_before_anything_is_sent(items: object, kwargs: dict[str, object], words: str,
                                                  client: pepperpy.Client, server: FakeProviderServer) -> None:
    with pytest.raises(pepperpy.ValidationError, match=words):
        client.batch(items, model="claude-haiku-4-5", **kwargs)  # type: ignore[arg-type]
    assert server.requests == []


def test_a_model_without_the_batch_capability_names_ones_that_have_it(server: FakeProviderServer) -> None:
    private = {"id": "claude-private", "mode": "chat", "context_window": 1000, "max_output_tokens": 100,
               "source": "https://example.com"}
    client = pepperpy.Client(env_file=None, api_keys={"anthropic": "k"},
                             providers={"anthropic": {"base_url": server.url, "models": [private]}})
    with pytest.raises(pepperpy.ValidationError, match=r"lack 'batch'.*anthropic models that do: anthropic/"):
        client.batch(["a"], model="claude-private")
    client = pepperpy.Client(env_file=None, api_keys={"gemini": "k"})
    with pytest.raises(pepperpy.ValidationError, match="embedding model; batches carry chat"):
        client.batch(["a"], model="gemini-embedding-001")


def test_a_dialect_without_a_batch_api_points_at_map() -> None:
    with pytest.raises(pepperpy.ValidationError, match=r"no batch API .* client.map"):
        pepperpy.Client(env_file=None).batch(["a"], model="ollama/llama3")


def test_missing_credentials_fail_before_any_work() -> None:
    with pytest.raises(pepperpy.ConfigurationError, match="ANTHROPIC_API_KEY"):
        pepperpy.Client(env_file=None).batch(["a"], model="claude-haiku-4-5")


def test_bad_limits_in_the_catalog_are_a_configuration_error(server: FakeProviderServer) -> None:
    client = pepperpy.Client(env_file=None, api_keys={"anthropic": "k"},
                             providers={"anthropic": {"base_url": server.url,
                                                      "options": {"batch_max_requests": 0}}})
    with pytest.raises(pepperpy.ConfigurationError, match="batch_max_requests"):
        client.batch(["a"], model="claude-haiku-4-5")


@pytest.mark.parametrize("kind, model, provider_id", [
    ("batch", "gpt-5-mini", "batch_gone"),
    ("batch", "claude-haiku-4-5", "msgbatch_gone"),
    ("batch", "gemini-flash", "batches/gone"),
    ("video", "veo-3.1-fast-generate-preview", "models/veo-3.1-fast-generate-preview/operations/gone"),
])
def test_a_job_the_provider_does_not_know_says_so(server: FakeProviderServer, kind: str, model: str,
                                                  provider_id: str) -> None:
    with job_client(server, max_retries=0) as client:
        provider, spec = client.catalog.resolve(model)
        text = JobRef(kind, provider.name, spec.name, (Part(provider_id),), 1).encode()
        job = client.batch_job(text) if kind == "batch" else client.video_job(text)
        with pytest.raises(pepperpy.InvalidRequestError) as info:
            job.status()
        message = str(info.value)
        assert info.value.status_code == 404 and f"{provider.name} does not know this job" in message
        assert "another API key or account" in message and "model name" not in message  # not a model problem
        with pytest.raises(pepperpy.InvalidRequestError) as info:
            job.wait(poll=0)
        assert "does not know this job" in str(info.value) and "goes on at the provider" not in str(info.value)
