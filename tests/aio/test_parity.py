"""``acomplete`` / ``aembed`` give what ``complete`` / ``embed`` give: the same answer, or the same error class,
words, ``retryable``, status and ``retry_after``, after the same requests and the same retry waits.

First the shared contract cases (tests/dialects/test_contract.py) for every dialect, against the fake server in
each one's wire format (the four that the event loop sends itself, and StackSpot, whose token auth sends through
requests in a worker); then what only a raw server sends: chunked, compressed, cut, redirected, HTTP/1.0 and
IPv6 answers, a kept connection the server closed, credentials in the base URL.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import socket
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from raw_server import RawServer, answer, chat_answer

import pepperpy
from pepperpy.resilience.retry import RetryPolicy
from pepperpy.testing import FakeProviderServer, Fault
from tests.conftest import LOCAL_MODELS, write_provider
from tests.dialects.test_contract import DIALECTS, EMBEDS, STACKSPOT_ENV, chat_model

MODES = ("blocking", "async")


class FakeClock:
    def __init__(self) -> None:
        self.now, self.sleeps = 1000.0, []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(folder: Path, clock: FakeClock, **options: Any) -> pepperpy.Client:
    policy = RetryPolicy(sleep=clock.sleep, clock=clock.monotonic, random=lambda: 0.0,
                         max_retries=options.pop("max_retries", 2), max_retry_wait=60)
    return pepperpy.Client(catalog=folder, env_file=None, retry_policy=policy, **options)


def call(mode: str, client: pepperpy.Client, method: str, *args: Any, **kwargs: Any) -> Any:
    try:
        if mode == "blocking":
            return getattr(client, method)(*args, **kwargs)
        return asyncio.run(getattr(client, "a" + method)(*args, **kwargs))
    except pepperpy.PepperpyError as exc:
        return exc


def digest(outcome: Any) -> tuple[Any, ...]:
    """What must not depend on the road: the answer's parts, or the error's class, words and fields."""
    if isinstance(outcome, pepperpy.Completion):
        u = outcome.usage
        return ("completion", outcome.text, outcome.finish_reason, u.input_tokens, u.output_tokens, outcome.cost,
                outcome.provider, outcome.model)
    if isinstance(outcome, pepperpy.Embeddings):
        return ("embeddings", outcome.vectors, outcome.usage.input_tokens, outcome.model)
    assert isinstance(outcome, pepperpy.PepperpyError), outcome
    # a timeout's detail is the client's own ("timed out" / "read timeout=0.2 s"); the rest must match
    text = re.sub(r"did not answer in time \(.*?\);", "did not answer in time (...);", str(outcome))
    return (type(outcome).__name__, text, getattr(outcome, "retryable", None), getattr(outcome, "status_code", None),
            getattr(outcome, "retry_after", None), getattr(outcome, "provider", None))


# ----------------------------------------------------------------------------- the contract cases

def _failing(status: int) -> Callable[[FakeProviderServer], None]:
    """Every attempt fails (two retries; StackSpot fetches a new token once after a 401)."""
    return lambda s: s.fail(status, times=4, message="refused by the parity test")


CONTRACT: dict[str, tuple[Callable[[FakeProviderServer], Any], str]] = {
    "complete": (lambda s: s.reply("Hello there", usage=(7, 2)), "complete"),
    "embed": (lambda s: None, "embed"),
    **{f"error {status}": (_failing(status), "complete") for status in (401, 403, 404, 400, 429, 500, 503)},
    "context length": (lambda s: s.fail(400, message="prompt is too long: 205000 tokens > 200000 maximum"),
                       "complete"),
    "retry-after": (lambda s: (s.fail(429, headers={"retry-after": "7"}), s.reply("after the wait")), "complete"),
    "5xx retries": (lambda s: (s.fail(503), s.fail(502), s.reply("third time lucky")), "complete"),
    "5xx retries run out": (lambda s: s.fail(503, times=3), "complete"),
    "x-should-retry: false": (lambda s: s.fail(500, headers={"x-should-retry": "false"}), "complete"),
    "x-should-retry: true": (lambda s: (s.fail(400, headers={"x-should-retry": "true"}), s.reply("retried")),
                             "complete"),
    "timeout": (lambda s: s.fault(Fault.hang(1.0), times=3), "complete"),
    "connection reset": (lambda s: s.fault(Fault.RESET, times=3), "complete"),
    "connection refused": (lambda s: None, "complete"),
}


@pytest.mark.parametrize("case", list(CONTRACT))
@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_contract_cases_give_the_same_outcome_both_ways(
        dialect: str, case: str, server: FakeProviderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra, models = "", LOCAL_MODELS
    if dialect == "stackspot":
        for name, value in STACKSPOT_ENV.items():
            monkeypatch.setenv(name, value)
        extra = (f"options: {{auth_url: '{server.url}/{{realm}}/oidc/oauth/token', client_id_env: "
                 f"[STACKSPOT_CLIENT_ID], realm_env: [STACKSPOT_REALM]}}\napi_key_env: [STACKSPOT_CLIENT_SECRET]\n"
                 "open_models: true\n")
        models = "[]\n"
    if case == "connection refused":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        base_url += server.base_url(dialect)[len(server.url):]
    else:
        base_url = server.base_url(dialect)
    folder = write_provider(tmp_path / "parity", f"c-{dialect}", dialect, base_url, extra=extra, models=models)
    script, method = CONTRACT[case]
    seen = []
    for mode in MODES:
        clock = FakeClock()
        client = client_for(folder, clock, timeout=0.2 if case == "timeout" else None)
        server.clear()
        script(server)
        if method == "embed":
            outcome = call(mode, client, "embed", ["a", "b"], model=f"c-{dialect}/local-embed")
        else:
            outcome = call(mode, client, "complete", "Hi", model=chat_model(dialect))
        client.close()
        seen.append((digest(outcome), clock.sleeps, len(server.requests)))
    assert seen[1] == seen[0]
    outcome_kind = seen[0][0][0]
    if case in ("complete", "retry-after", "5xx retries", "x-should-retry: true") or (
            case == "embed" and dialect in EMBEDS):
        assert outcome_kind in ("completion", "embeddings")  # the case did what it says, both ways
    elif case != "embed":
        assert outcome_kind.endswith("Error")


# ----------------------------------------------------------------------------- raw HTTP answers

def raw_client(folder: Path, url: str) -> pepperpy.Client:
    write_provider(folder, "local", "openai", url, models=LOCAL_MODELS)
    return pepperpy.Client(catalog=folder, env_file=None, max_retries=0, timeout=2)


def both(raw: Callable[..., RawServer], tmp_path: Path, answers: list[bytes], **options: Any
         ) -> tuple[list[tuple[Any, ...]], list[RawServer]]:
    """Each road against a RawServer of its own playing ``answers``."""
    outcomes, servers = [], []
    for mode in MODES:
        server = raw(list(answers), **options)
        client = raw_client(tmp_path / f"raw-{mode}", server.url)
        found = digest(call(mode, client, "complete", "hi", model="local-chat"))
        outcomes.append(tuple(v.replace(str(server.port), "PORT") if isinstance(v, str) else v for v in found))
        client.close()
        servers.append(server)
    return outcomes, servers


ANSWER = chat_answer("hello")
_RAW_DEFLATE = zlib.compressobj(wbits=-zlib.MAX_WBITS)


def chunked(body: bytes, *cuts: int) -> bytes:
    parts = [body[a:b] for a, b in zip((0, *cuts), (*cuts, len(body)), strict=True)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


RAW_CASES: dict[str, tuple[list[bytes], dict[str, Any], str]] = {
    "chunked": ([b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + chunked(ANSWER, 7, 30)], {}, "completion"),
    "gzip": ([answer(gzip.compress(ANSWER), headers=b"Content-Encoding: gzip\r\n")], {}, "completion"),
    "deflate (zlib)": ([answer(zlib.compress(ANSWER), headers=b"Content-Encoding: deflate\r\n")], {}, "completion"),
    "deflate (raw)": ([answer(_RAW_DEFLATE.compress(ANSWER) + _RAW_DEFLATE.flush(),
                              headers=b"Content-Encoding: deflate\r\n")], {}, "completion"),
    "gzip that is not": ([answer(b"\x1f\x8b\x08\x00 not gzip at all", headers=b"Content-Encoding: gzip\r\n")], {},
                         "ProviderConnectionError"),
    "body cut short": ([b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"id\""],
                       {"close_after_first": True}, "StreamError"),
    "chunks cut short": ([b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"40\r\n{\"id\":"], {"close_after_first": True}, "StreamError"),
    "302": ([answer(b"", status=b"302 Found", headers=b"Location: https://elsewhere.example/v1/chat/completions\r\n")],
            {}, "InvalidRequestError"),
    "204 on a kept connection": ([b"HTTP/1.1 204 No Content\r\n\r\n", answer(ANSWER)], {}, "ProviderAPIError"),
    "200 that is not JSON": ([answer(b"<html>busy</html>")], {}, "ProviderAPIError"),
    "HTTP/1.0 to the end": ([b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + ANSWER],
                            {"close_after_first": True}, "completion"),
    "not HTTP": ([b"SSH-2.0-OpenSSH_9.2\r\n\r\n"], {"close_after_first": True}, "ProviderConnectionError"),
    "closed without answering": ([b""], {"close_after_first": True}, "ProviderConnectionError"),
}


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_raw_answers_give_the_same_outcome_both_ways(case: str, raw: Callable[..., RawServer],
                                                     tmp_path: Path) -> None:
    answers, options, expected = RAW_CASES[case]
    (blocking, nonblocking), _ = both(raw, tmp_path, answers, **options)
    assert nonblocking == blocking
    assert blocking[0] == expected, blocking


def test_a_kept_connection_the_server_closed_is_replaced_both_ways(raw: Callable[..., RawServer],
                                                                   tmp_path: Path) -> None:
    for mode in MODES:
        server = raw([answer(ANSWER), answer(chat_answer("again"))], close_after_first=True)
        client = raw_client(tmp_path / mode, server.url)

        async def twice(client: pepperpy.Client = client) -> list[str]:
            first = (await client.acomplete("a", model="local-chat")).text
            await asyncio.sleep(0.2)  # the server closes the kept connection meanwhile
            return [first, (await client.acomplete("b", model="local-chat")).text]

        if mode == "blocking":
            first = client.complete("a", model="local-chat").text
            import time

            time.sleep(0.2)
            texts = [first, client.complete("b", model="local-chat").text]
        else:
            texts = asyncio.run(twice())
        assert texts == ["hello", "again"] and server.connections == 2, mode


def test_head_limits_are_the_same_both_ways(raw: Callable[..., RawServer], tmp_path: Path) -> None:
    """http.client's rule on both roads: 99 header lines are read, 100 refused with its words; the event loop's
    client also refuses a head over 1 MiB (HEAD_LIMIT: h11 holds no more of an incomplete head)."""
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(97))  # with Content-Type and Content-Length: 99
    (blocking, nonblocking), _ = both(raw, tmp_path / "99", [answer(ANSWER, headers=headers)])
    assert blocking == nonblocking and blocking[1] == "hello"
    (blocking, nonblocking), _ = both(raw, tmp_path / "100", [answer(ANSWER, headers=headers + b"X-H: v\r\n")])
    assert blocking == nonblocking and blocking[0] == "ProviderConnectionError"
    assert "got more than 100 headers" in blocking[1]
    server = raw([answer(ANSWER, headers=b"X-Huge: " + b"a" * (2 ** 20 + 1) + b"\r\n")])
    client = raw_client(tmp_path / "huge", server.url)
    with pytest.raises(pepperpy.ProviderConnectionError, match=r"not valid HTTP/1\.1: a head over 1024 KiB"):
        asyncio.run(client.acomplete("hi", model="local-chat"))


def test_credentials_in_the_base_url_go_as_basic_auth_both_ways(raw: Callable[..., RawServer],
                                                                tmp_path: Path) -> None:
    for mode in MODES:
        server = raw([answer(ANSWER)])
        client = raw_client(tmp_path / mode, server.url.replace("http://", "http://proxy%20user:s3cret%21@"))
        assert digest(call(mode, client, "complete", "hi", model="local-chat"))[1] == "hello"
        head = server.head_of(0)
        assert head["authorization"] == "Basic cHJveHkgdXNlcjpzM2NyZXQh", mode  # "proxy user:s3cret!"
        assert head["host"] == f"127.0.0.1:{server.port}", mode  # never the user info


@pytest.fixture
def ipv6() -> None:
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")


@pytest.mark.usefixtures("ipv6")
def test_an_ipv6_base_url_gets_a_bracketed_host_header_both_ways(raw: Callable[..., RawServer],
                                                                 tmp_path: Path) -> None:
    (blocking, nonblocking), servers = both(raw, tmp_path, [answer(ANSWER)], host="::1")
    assert blocking == nonblocking and blocking[1] == "hello"
    assert [server.head_of(0)["host"] for server in servers] == [f"[::1]:{servers[0].port}",
                                                                 f"[::1]:{servers[1].port}"]
