"""The StackSpot dialect: agent chat bodies, refused params, SSE without [DONE], and the OAuth token cache."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
import requests
import responses

import pepperpy
from pepperpy.dialects.stackspot import DIALECT
from pepperpy.http._oauth import ClientCredentialsAuth as StackSpotAuth
from pepperpy.http.transport import iter_sse
from pepperpy.testing import DEFAULT_TOKEN_TTL, FakeProviderServer, Fault, Reply

CLIENT_ID = "pepper-client-7f3a"
SECRET = "stk-secret-0123456789abcdef"
REALM = "acme"
TOKEN_URL = f"https://idm.stackspot.com/{REALM}/oidc/oauth/token"
AGENT = "01J9Z8AGENT"
AGENT_URL = f"https://genai-inference-app.stackspot.com/v1/agent/{AGENT}/chat"
MODEL = f"stackspot/{AGENT}"
TOKEN = {"access_token": "tok-1", "token_type": "Bearer", "expires_in": 1199}
ANSWER = {"message": "Olá!", "stop_reason": "stop", "tokens": {"user": 10, "enrichment": 5, "output": 3},
          "conversation_id": "01JCONV", "message_id": "01JMSG"}
# Shaped like the Agents API stream: fragments, then the event with stop_reason and tokens; no [DONE].
STREAM = (b'data: {"message": "Hel"}\n\n'
          b'data: {"message": "lo", "knowledge_source_id": []}\n\n'
          b'data: {"message": "", "stop_reason": "stop", "tokens": {"input": 7, "output": 2},'
          b' "message_id": "01JM"}\n\n')
RATE_LIMITED = {"type": "TooManyRequests", "code": "CODEBUDDY_1044_QUICK_COMMAND_RATE_LIMIT_EXCEEDED",
                "details": "Too many requests, try again later"}


@pytest.fixture
def creds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKSPOT_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("STACKSPOT_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("STACKSPOT_REALM", REALM)


@pytest.fixture
def client(creds: None) -> Iterator[pepperpy.Client]:
    with pepperpy.Client(env_file=None, max_retries=0) as c:
        yield c


def build(client: pepperpy.Client, messages: list[dict[str, object]], stream: bool = False,
          **params: object) -> dict[str, object]:
    provider, spec = client.catalog.resolve(MODEL)
    request = DIALECT.build_chat(provider, spec, messages, params, stream=stream)
    assert request.path == f"/v1/agent/{AGENT}/chat" and request.stream is stream
    return dict(request.json)


def assert_secret_hidden(err: BaseException) -> None:
    details = getattr(err, "details", None)
    for text in (str(err), repr(err), json.dumps(details, default=str)):
        assert SECRET not in text


# --------------------------------------------------------------------------- pure: bodies and parsing

def test_one_prompt_body(client: pepperpy.Client) -> None:
    assert build(client, [{"role": "user", "content": "hi"}], stream=True) == {
        "user_prompt": "hi", "streaming": True, "stackspot_knowledge": False, "return_ks_in_response": False,
        "use_conversation": False}


def test_history_and_system_are_folded_into_the_prompt(client: pepperpy.Client) -> None:
    body = build(client, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                          {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "2+2?"}])
    assert body["user_prompt"] == "System: Be brief.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: 2+2?"


def test_conversation_id_and_extra_fields_pass_through(client: pepperpy.Client) -> None:
    body = build(client, [{"role": "user", "content": "more"}], conversation_id="01JCONV", stackspot_knowledge=True,
                 upload_ids=["u1"])
    assert body["conversation_id"] == "01JCONV" and body["use_conversation"] is True
    assert body["stackspot_knowledge"] is True and body["upload_ids"] == ["u1"]


@pytest.mark.parametrize(("param", "value"), [("temperature", 0.3), ("top_p", 0.9), ("max_tokens", 100),
                                              ("stop", ["x"])])
def test_sampling_params_are_refused(client: pepperpy.Client, param: str, value: object) -> None:
    with pytest.raises(pepperpy.ValidationError, match=f"{param}.*on the agent") as info:
        build(client, [{"role": "user", "content": "hi"}], **{param: value})
    assert info.value.param == param


def test_images_are_refused_rather_than_dropped(client: pepperpy.Client) -> None:
    parts = [{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,"}}]
    with pytest.raises(pepperpy.ValidationError, match="upload_ids"):
        build(client, [{"role": "user", "content": parts}])


def test_parse_answer(client: pepperpy.Client) -> None:
    r = DIALECT.parse_chat(ANSWER, client.model(MODEL))
    assert (r.text, r.finish_reason, r.model, r.provider) == ("Olá!", "stop", AGENT, "stackspot")
    assert (r.usage.input_tokens, r.usage.output_tokens, r.usage.total_tokens) == (15, 3, 18)
    assert r.raw["conversation_id"] == "01JCONV" and r.request_id == "01JMSG"


@pytest.mark.parametrize("size", [1, 5, 4096])
def test_stream_without_done_ends_on_stop_reason(client: pepperpy.Client, size: int) -> None:
    parser = DIALECT.stream_parser(client.model(MODEL))
    pieces = [STREAM[i:i + size] for i in range(0, len(STREAM), size)]
    chunks = [c for e, d in iter_sse(pieces) if (c := parser.feed(e, d)) is not None]
    assert [c.text for c in chunks] == ["Hel", "lo", ""]
    assert chunks[-1].finish_reason == "stop" and chunks[-1].usage == pepperpy.Usage(7, 2)
    assert parser.done


def test_stream_without_stop_reason_is_not_done(client: pepperpy.Client) -> None:
    parser = DIALECT.stream_parser(client.model(MODEL))
    parser.feed("message", b'{"message": "Hel"}')
    assert not parser.done


def test_error_event_mid_stream(client: pepperpy.Client) -> None:
    parser = DIALECT.stream_parser(client.model(MODEL))
    with pytest.raises(pepperpy.ProviderUnavailableError, match="Stream interrupted"):
        parser.feed("message", b'{"type": "InternalServerError", "code": "STREAM_ERROR",'
                               b' "details": "Stream interrupted"}')


# --------------------------------------------------------------------------- responses: through the Client

def add_token(**answer: object) -> responses.BaseResponse:
    return responses.post(TOKEN_URL, **(answer or {"json": TOKEN}))


@responses.activate
def test_token_then_agent_call(client: pepperpy.Client) -> None:
    add_token()
    responses.post(AGENT_URL, json=ANSWER)
    r = client.complete("Oi", model=MODEL, conversation_id="01JCONV")
    assert r.text == "Olá!" and r.raw["conversation_id"] == "01JCONV"
    token_call, agent_call = responses.calls
    assert dict(parse_qsl(token_call.request.body)) == {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                                       "client_secret": SECRET}
    assert "Authorization" not in token_call.request.headers
    assert agent_call.request.headers["Authorization"] == "Bearer tok-1"
    assert json.loads(agent_call.request.body)["conversation_id"] == "01JCONV"
    assert SECRET not in str(agent_call.request.headers) + str(agent_call.request.body)


@responses.activate
@pytest.mark.parametrize("missing", ["STACKSPOT_CLIENT_ID", "STACKSPOT_REALM", "STACKSPOT_CLIENT_SECRET"])
def test_missing_credentials_name_the_variables(creds: None, monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    monkeypatch.delenv(missing)
    with pepperpy.Client(env_file=None) as client, pytest.raises(pepperpy.ConfigurationError, match=missing):
        client.complete("hi", model=MODEL)
    assert len(responses.calls) == 0


@responses.activate
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_token_request_is_not_followed(client: pepperpy.Client, status: int) -> None:
    # requests would resend the form, client secret included, to the new host on a 307 or 308
    add_token(status=status, headers={"location": "https://idm.example.net/steal?x=1"}, body=b"")
    responses.post("https://idm.example.net/steal", json=TOKEN)
    with pytest.raises(pepperpy.InvalidRequestError) as info:
        client.complete("hi", model=MODEL)
    assert "a redirect to https://idm.example.net/steal: pepperpy does not follow redirects" in str(info.value)
    assert [call.request.url for call in responses.calls] == [TOKEN_URL]
    assert info.value.status_code == status and "auth_url" in str(info.value)
    assert_secret_hidden(info.value)


@responses.activate
@pytest.mark.parametrize("status", [400, 401])
def test_refused_credentials(client: pepperpy.Client, status: int) -> None:
    add_token(status=status, json={"error": "invalid_client", "error_description": f"bad secret {SECRET}"})
    with pytest.raises(pepperpy.AuthenticationError) as info:
        client.complete("hi", model=MODEL)
    text = str(info.value)
    assert "STACKSPOT_CLIENT_ID" in text and "STACKSPOT_CLIENT_SECRET" in text and info.value.status_code == status
    assert_secret_hidden(info.value)
    assert len(responses.calls) == 1  # the agent was never called


@responses.activate
def test_idm_outage_is_retryable_unavailable(client: pepperpy.Client) -> None:
    add_token(status=503, body="upstream connect error")
    with pytest.raises(pepperpy.ProviderUnavailableError) as info:
        client.complete("hi", model=MODEL)
    assert info.value.retryable


@responses.activate
@pytest.mark.parametrize(("status", "body", "cls"), [
    (429, RATE_LIMITED, pepperpy.RateLimitError),
    (403, {"type": "Forbidden", "code": "FORBIDDEN", "details": "no access"}, pepperpy.AuthenticationError),
    (404, {"type": "NotFound", "code": "AGENT_NOT_FOUND", "details": "Agent not found."}, pepperpy.InvalidRequestError),
    (422, {"type": "UnprocessableEntity", "code": "X", "details": "user_prompt is required"},
     pepperpy.InvalidRequestError),
    (500, {"type": "InternalServerError", "code": "X", "details": "boom"}, pepperpy.ProviderUnavailableError),
])
def test_agent_error_answers(client: pepperpy.Client, status: int, body: dict[str, str], cls: type) -> None:
    add_token()
    responses.post(AGENT_URL, status=status, json=body, headers={"retry-after": "3"} if status == 429 else {})
    with pytest.raises(cls) as info:
        client.complete("hi", model=MODEL)
    assert type(info.value) is cls and body["details"] in str(info.value) and info.value.status_code == status
    if status == 429:
        assert info.value.retry_after == 3.0 and info.value.retryable
    assert_secret_hidden(info.value)


@responses.activate
def test_a_401_refetches_the_token_once_and_resends(client: pepperpy.Client) -> None:
    add_token()
    add_token(json={**TOKEN, "access_token": "tok-2"})
    responses.post(AGENT_URL, status=401, json={"type": "Unauthorized", "code": "UNAUTHORIZED", "details": "expired"})
    responses.post(AGENT_URL, json=ANSWER)
    assert client.complete("hi", model=MODEL).text == "Olá!"
    auths = [c.request.headers.get("Authorization") for c in responses.calls if c.request.url == AGENT_URL]
    assert auths == ["Bearer tok-1", "Bearer tok-2"]


@responses.activate
def test_a_second_401_is_an_authentication_error(client: pepperpy.Client) -> None:
    add_token()
    responses.post(AGENT_URL, status=401, json={"type": "Unauthorized", "code": "UNAUTHORIZED", "details": "nope"})
    with pytest.raises(pepperpy.AuthenticationError, match="STACKSPOT_CLIENT_SECRET"):
        client.complete("hi", model=MODEL)
    urls = [c.request.url for c in responses.calls]
    assert urls == [TOKEN_URL, AGENT_URL, TOKEN_URL, AGENT_URL]


def test_no_embeddings(client: pepperpy.Client) -> None:
    with pytest.raises(pepperpy.InvalidRequestError, match="no embeddings"):
        client.embed("x", model=MODEL)


# --------------------------------------------------------------------------- loopback: the fake server

@pytest.fixture
def local(creds: None, server: FakeProviderServer) -> Iterator[pepperpy.Client]:
    overrides = {"base_url": server.base_url("stackspot"),
                 "options": {"auth_url": server.url + "/{realm}/oidc/oauth/token"}}
    with pepperpy.Client(env_file=None, max_retries=0, providers={"stackspot": overrides}) as c:
        yield c


def test_one_token_shared_by_eight_threads(local: pepperpy.Client, server: FakeProviderServer) -> None:
    barrier = threading.Barrier(8)
    texts: list[str] = []

    def call(n: int) -> None:
        barrier.wait()
        texts.append(local.complete(f"hello {n}", model=MODEL).text)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(texts) == [f"echo: hello {n}" for n in range(8)]
    assert server.tokens_issued == 1
    token_requests = [r for r in server.requests if r.path.endswith("/token")]
    assert token_requests[0].path == f"/{REALM}/oidc/oauth/token" and "authorization" not in token_requests[0].headers


def test_revoked_token_is_renewed_once(local: pepperpy.Client, server: FakeProviderServer) -> None:
    local.complete("one", model=MODEL)
    server.revoke_tokens()
    assert local.complete("two", model=MODEL).text == "echo: two"
    assert server.tokens_issued == 2


def test_stream_without_done_completes(local: pepperpy.Client, server: FakeProviderServer) -> None:
    server.reply(Reply(chunks=["Bom ", "dia"], usage=(3, 2)))
    with local.stream("oi", model=MODEL) as s:
        assert [c.text for c in s if c.text] == ["Bom ", "dia"]
    assert (s.completion.text, s.completion.finish_reason, s.completion.usage.total_tokens) == ("Bom dia", "stop", 5)
    assert server.requests[-1].json["streaming"] is True


def test_cut_stream_is_incomplete(local: pepperpy.Client, server: FakeProviderServer) -> None:
    server.fault(Fault.cut_stream(after=1, clean=True))
    with pytest.raises(pepperpy.StreamError, match="terminator"):
        list(local.stream("a b c", model=MODEL))


def test_conversation_id_round_trip(local: pepperpy.Client, server: FakeProviderServer) -> None:
    r = local.complete("continue", model=MODEL, conversation_id="01JCONV")
    sent = server.requests[-1].json
    assert sent["conversation_id"] == "01JCONV" and sent["use_conversation"] is True
    assert r.raw["conversation_id"] == "01JCONV"


def test_temperature_refused_before_any_request(local: pepperpy.Client, server: FakeProviderServer) -> None:
    with pytest.raises(pepperpy.ValidationError, match="temperature"):
        local.complete("hi", model=MODEL, temperature=0.2)
    with pytest.raises(pepperpy.ValidationError, match="temperature"):  # the catalog's placeholder says so too
        local.complete("hi", model="stackspot/agent", temperature=0.2)
    assert server.requests == []


def test_wrong_credentials_and_a_relative_auth_url(creds: None, server: FakeProviderServer) -> None:
    server.stackspot_credentials = ("someone-else", "other-secret")
    overrides = {"base_url": server.url, "options": {"auth_url": "/{realm}/oidc/oauth/token"}}  # under base_url
    with pepperpy.Client(env_file=None, providers={"stackspot": overrides}) as client, \
            pytest.raises(pepperpy.AuthenticationError, match="STACKSPOT_CLIENT_ID") as info:
        client.complete("hi", model=MODEL)
    assert_secret_hidden(info.value)
    assert [r.path for r in server.requests] == [f"/{REALM}/oidc/oauth/token"]


def test_token_renewed_before_expiry_with_a_fake_clock(server: FakeProviderServer) -> None:
    now = [1000.0]
    auth = StackSpotAuth(server.token_url(REALM), CLIENT_ID, SECRET, clock=lambda: now[0])
    with requests.Session() as session:
        session.auth = auth
        url = server.base_url("stackspot") + f"/v1/agent/{AGENT}/chat"
        body = {"user_prompt": "hi", "streaming": False}
        assert session.post(url, json=body, timeout=5).status_code == 200
        now[0] += DEFAULT_TOKEN_TTL - 61  # still outside the renewal margin
        assert session.post(url, json=body, timeout=5).status_code == 200
        assert server.tokens_issued == 1
        now[0] += 2  # now within 60 s of expiry
        assert session.post(url, json=body, timeout=5).status_code == 200
        assert server.tokens_issued == 2
    auth.close()


def test_auth_url_moves_with_env(creds: None, monkeypatch: pytest.MonkeyPatch, server: FakeProviderServer) -> None:
    monkeypatch.setenv("PEPPERPY_PROVIDER_STACKSPOT_AUTH_URL", server.url + "/{realm}/oidc/oauth/token")
    monkeypatch.setenv("PEPPERPY_PROVIDER_STACKSPOT_BASE_URL", server.base_url("stackspot"))
    with pepperpy.Client(env_file=None, max_retries=0) as client:
        assert client.complete("Hi", model=MODEL).text == "echo: Hi"
    assert server.tokens_issued == 1


@pytest.fixture
def silent_idm() -> Iterator[tuple[str, list[socket.socket]]]:
    """A token endpoint that accepts connections and never answers; the accepted sockets are listed."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:  # the listener was closed
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/{REALM}/oidc/oauth/token", accepted
    listener.close()
    for conn in accepted:
        conn.close()


def test_threads_waiting_for_a_failed_fetch_share_its_error(silent_idm: tuple[str, list[socket.socket]]) -> None:
    """Six threads need a token and the IDM hangs: one fetch, one timeout for all, not six in a row."""
    url, accepted = silent_idm
    auth = StackSpotAuth(url, CLIENT_ID, SECRET, timeout=(0.3, 0.3))
    barrier = threading.Barrier(6)
    took: list[float] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        started = time.monotonic()
        try:
            auth.token()
        except pepperpy.ProviderError as exc:
            errors.append(exc)
        took.append(time.monotonic() - started)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(errors) == 6 and all(isinstance(e, pepperpy.ProviderTimeoutError) for e in errors)
    assert max(took) < 0.55, sorted(round(t, 2) for t in took)  # one 0.3 s timeout, not 6 x 0.3 s
    assert len(accepted) == 1
    with pytest.raises(pepperpy.ProviderTimeoutError):  # a later call is not stuck with that error: it fetches
        auth.token()
    assert len(accepted) == 2
    auth.close()


def test_a_fetch_interrupted_by_ctrl_c_hands_over_to_a_waiting_thread() -> None:
    auth = StackSpotAuth(TOKEN_URL, CLIENT_ID, SECRET)
    fetching, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def fetch() -> tuple[str, float]:
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            fetching.set()
            release.wait(5)
            raise KeyboardInterrupt
        return "tok-2", time.monotonic() + 600

    auth._fetch = fetch  # type: ignore[method-assign]
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            auth.token()
        except KeyboardInterrupt as exc:
            outcome["first"] = exc

    def waiter() -> None:
        outcome["waiter"] = auth.token()

    one = threading.Thread(target=first, name="first")
    one.start()
    assert fetching.wait(5)
    two = threading.Thread(target=waiter, name="waiter")
    two.start()
    time.sleep(0.05)  # the waiter is now queued behind the first fetch
    release.set()
    one.join(5)
    two.join(5)
    assert isinstance(outcome["first"], KeyboardInterrupt) and outcome["waiter"] == "tok-2"
    assert calls == ["first", "waiter"]
    auth.close()


def test_missing_credentials_name_all_three_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in ({}, {"STACKSPOT_CLIENT_SECRET": SECRET}):
        for name, value in setting.items():
            monkeypatch.setenv(name, value)
        with pepperpy.Client(env_file=None) as client, pytest.raises(pepperpy.ConfigurationError) as info:
            client.complete("Hi", model=MODEL)
        message = str(info.value)
        assert all(n in message for n in ("STACKSPOT_CLIENT_ID", "STACKSPOT_CLIENT_SECRET", "STACKSPOT_REALM"))
        assert SECRET not in message
