"""One contract, every dialect: the same calls and the same error classes against the loopback server.

Each dialect gets a provider declared by YAML alone, pointing at the FakeProviderServer, which answers
in that provider's native wire format.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import pepperpy
from pepperpy.catalog._files import SCHEMA_PATH
from pepperpy.dialects import base
from pepperpy.dialects._registry import NAME, SHIPPED
from pepperpy.testing import FakeProviderServer, Fault, Reply
from tests.conftest import LOCAL_MODELS, write_provider

DIALECTS = ["openai", "anthropic", "gemini", "ollama", "stackspot"]
EMBEDS = {"openai", "gemini", "ollama"}
STACKSPOT_ENV = {"STACKSPOT_CLIENT_ID": "contract-client", "STACKSPOT_CLIENT_SECRET": "contract-secret-123456",
                 "STACKSPOT_REALM": "contract"}


def test_the_contract_covers_every_dialect() -> None:
    """A dialect added to pepperpy (docs/contributing-a-provider.md) is added here too, and catalog files may name
    it: the three lists agree."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert DIALECTS == list(base.DIALECTS) == list(SHIPPED)
    # the schema checks the shape of a name only: dialects of other packages are checked by name when loaded
    assert schema["properties"]["dialect"] == {"type": "string", "pattern": NAME.pattern}
    assert {name for name in DIALECTS if base.get_dialect(name).supports_embeddings} == EMBEDS


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def contract_client(dialect: str, server: FakeProviderServer, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> Iterator[pepperpy.Client]:
    extra = ""
    models = LOCAL_MODELS
    if dialect == "stackspot":
        for name, value in STACKSPOT_ENV.items():
            monkeypatch.setenv(name, value)
        extra = (f"options: {{auth_url: '{server.url}/{{realm}}/oidc/oauth/token', client_id_env: "
                 f"[STACKSPOT_CLIENT_ID], realm_env: [STACKSPOT_REALM]}}\napi_key_env: [STACKSPOT_CLIENT_SECRET]\n"
                 "open_models: true\n")
        models = "[]\n"
    folder = write_provider(tmp_path / "contract", f"c-{dialect}", dialect, server.base_url(dialect), extra=extra,
                            models=models)
    with pepperpy.Client(catalog=folder, env_file=None, max_retries=0) as client:
        yield client


def chat_model(dialect: str) -> str:
    return f"c-{dialect}/agent-1" if dialect == "stackspot" else f"c-{dialect}/local-chat"


def test_complete(contract_client: pepperpy.Client, dialect: str, server: FakeProviderServer) -> None:
    server.reply("Hello there", usage=(7, 2))
    r = contract_client.complete("Hi", model=chat_model(dialect))
    assert (r.text, r.finish_reason, r.provider) == ("Hello there", "stop", f"c-{dialect}")
    assert (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens) == (7, 2, 9)
    if dialect != "stackspot":  # agents carry no catalog price
        assert r.cost == pytest.approx((7 * 1.0 + 2 * 2.0) / 1e6)


def test_stream(contract_client: pepperpy.Client, dialect: str, server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["Hel", "lo", " you"], usage=(5, 3)))
    with contract_client.stream("Hi", model=chat_model(dialect)) as stream:
        pieces = [c.text for c in stream if c.text]
    assert "".join(pieces) == "Hello you" and len(pieces) >= 3
    done = stream.completion
    assert done.text == "Hello you" and done.finish_reason == "stop"
    assert (done.usage.input_tokens, done.usage.output_tokens) == (5, 3)


def test_embed_where_supported(contract_client: pepperpy.Client, dialect: str) -> None:
    if dialect not in EMBEDS:
        with pytest.raises((pepperpy.InvalidRequestError, pepperpy.ValidationError, pepperpy.ModelNotFoundError)):
            contract_client.embed(["a", "b"], model=f"c-{dialect}/local-embed")
        return
    e = contract_client.embed(["a", "b"], model=f"c-{dialect}/local-embed")
    assert len(e.vectors) == 2 and all(len(v) == 8 for v in e.vectors) and e.vectors[0] != e.vectors[1]


@pytest.mark.parametrize(("status", "cls"), [
    (401, pepperpy.AuthenticationError),
    (403, pepperpy.AuthenticationError),
    (404, pepperpy.InvalidRequestError),
    (400, pepperpy.InvalidRequestError),
    (429, pepperpy.RateLimitError),
    (500, pepperpy.ProviderUnavailableError),
    (503, pepperpy.ProviderUnavailableError),
])
def test_error_classes(contract_client: pepperpy.Client, dialect: str, server: FakeProviderServer, status: int,
                       cls: type) -> None:
    server.fail(status, times=2, message="refused by the contract test")  # stackspot retries a 401 once
    with pytest.raises(cls) as info:
        contract_client.complete("Hi", model=chat_model(dialect))
    assert info.value.status_code == status and info.value.provider == f"c-{dialect}"


def test_context_length_error(contract_client: pepperpy.Client, dialect: str, server: FakeProviderServer) -> None:
    server.fail(400, message="prompt is too long: 205000 tokens > 200000 maximum")
    with pytest.raises(pepperpy.ContextLengthError):
        contract_client.complete("Hi", model=chat_model(dialect))


def test_mid_stream_error_and_cut_stream(contract_client: pepperpy.Client, dialect: str,
                                         server: FakeProviderServer) -> None:
    server.fault(Fault.STREAM_ERROR)
    with pytest.raises(pepperpy.ProviderError):
        list(contract_client.stream("Hi", model=chat_model(dialect)))
    server.fault(Fault.cut_stream(1, clean=True))
    with pytest.raises(pepperpy.StreamError):
        list(contract_client.stream("Hi", model=chat_model(dialect)))
    server.fault(Fault.CUT_STREAM)
    with pytest.raises(pepperpy.StreamError):
        list(contract_client.stream("Hi", model=chat_model(dialect)))


def test_timeout_and_connection_errors(contract_client: pepperpy.Client, dialect: str, server: FakeProviderServer,
                                       tmp_path: Path) -> None:
    contract_client.timeout = 0.2
    server.fault(Fault.hang(1.0))
    with pytest.raises(pepperpy.ProviderTimeoutError):
        contract_client.complete("Hi", model=chat_model(dialect))
    dead = contract_client.catalog.with_overrides({f"c-{dialect}": {"base_url": "http://127.0.0.1:9"}})
    contract_client.catalog = dead
    contract_client.close()
    with pytest.raises(pepperpy.ProviderConnectionError):
        contract_client.complete("Hi", model=chat_model(dialect))
