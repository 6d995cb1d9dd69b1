"""Every encoding of a key is masked (issue 22, finding 11): a server that echoes the key as sent, JSON-escaped,
percent-encoded (``quote``, ``quote_plus``, either case of hex digits) or, for a password in the base URL, as the
base64 ``Authorization: Basic`` value, never gets it into an error's ``str`` or ``repr``, its ``.details``, a log
record (the redacting logger, the audit record), a telemetry span or the command line's ``--verbose`` output.
Both roads (``complete`` through requests, ``acomplete`` on the event loop) run every case with the same
assertions, against a loopback server that echoes what it is told to.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import pepperpy
from pepperpy import cli
from pepperpy._redact import RedactionFilter, redact
from pepperpy.resilience.retry import RetryPolicy
from tests.conftest import LOCAL_MODELS, write_provider

MODES = ("blocking", "async")
# Characters that the encodings change: '/' (kept by quote, not by quote_plus), '+' '=' ':' '@' '%'
KEY = "pk/live+Tq=9_x:z@w%Ab~end0123"
ENCODINGS: dict[str, Callable[[str], str]] = {
    "exact": lambda key: key,
    "json": lambda key: json.dumps(key)[1:-1],
    "json-slash": lambda key: json.dumps(key)[1:-1].replace("/", "\\/"),
    "quote": urllib.parse.quote,
    "quote-safe-none": lambda key: urllib.parse.quote(key, safe=""),
    "quote_plus": urllib.parse.quote_plus,
    "quote-lower-hex": lambda key: re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(),
                                          urllib.parse.quote(key, safe="")),
    "base64": lambda key: base64.b64encode(key.encode()).decode(),
}


def leaks(text: str, key: str = KEY) -> list[str]:
    """The encodings of ``key`` found in ``text`` (and the part after the '/', which has no special character)."""
    found = [name for name, encode in ENCODINGS.items() if encode(key) in text]
    return found + (["tail"] if key.rsplit("~", 1)[-1] in text else [])


class EchoServer:
    """Answers every request with ``status`` and ``body(headers)`` as JSON (or text, with ``text=True``)."""

    def __init__(self) -> None:
        self.status = 401
        self.code = "invalid_api_key"
        self.text = False
        self.body: Callable[[dict[str, str]], str] = lambda headers: ""
        self.hits = 0
        echo = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                echo.hits += 1
                text = echo.body({k.lower(): v for k, v in self.headers.items()})
                payload = text if echo.text else json.dumps(
                    {"error": {"message": text, "type": "invalid_request_error", "code": echo.code}})
                data = payload.encode()
                self.send_response(echo.status)
                self.send_header("Content-Type", "text/plain" if echo.text else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture
def catalog(tmp_path: Path, echo: EchoServer) -> Path:
    return write_provider(tmp_path / "catalog", "local", "openai", echo.url, models=LOCAL_MODELS)


def complete(mode: str, client: pepperpy.Client, **kwargs: Any) -> pepperpy.ProviderError:
    try:
        if mode == "blocking":
            client.complete("hi", model="local-chat", **kwargs)
        else:
            asyncio.run(client.acomplete("hi", model="local-chat", **kwargs))
    except pepperpy.ProviderError as exc:
        return exc
    raise AssertionError("the call succeeded")


def everything_about(exc: pepperpy.ProviderError) -> str:
    return "\n".join([str(exc), repr(exc), exc.message, json.dumps(exc.details, ensure_ascii=False),
                      str(exc.args)])


# --------------------------------------------------------------------------- errors, on both roads

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_key_echoed_in_any_encoding_is_masked_in_the_error(mode: str, encoding: str, echo: EchoServer,
                                                             catalog: Path) -> None:
    echo.body = lambda headers: f"Incorrect API key provided: {ENCODINGS[encoding](KEY)}. Find your key at ..."
    with pepperpy.Client(catalog=catalog, env_file=None, api_keys={"local": KEY}, max_retries=0) as client:
        exc = complete(mode, client)
    assert isinstance(exc, pepperpy.AuthenticationError)
    assert "Incorrect API key provided: ***" in str(exc)
    assert leaks(everything_about(exc)) == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("encoding", ["json", "json-slash", "quote_plus"])
def test_a_key_echoed_in_a_text_body_is_masked(mode: str, encoding: str, echo: EchoServer, catalog: Path) -> None:
    """A body that is not JSON keeps its escapes: a gateway's page repeating the request it saw."""
    echo.text = True
    echo.body = lambda headers: '{"sent": {"api_key": "' + ENCODINGS[encoding](KEY) + '"}} was refused'
    with pepperpy.Client(catalog=catalog, env_file=None, api_keys={"local": KEY}, max_retries=0) as client:
        exc = complete(mode, client)
    assert leaks(everything_about(exc)) == []
    assert "***" in everything_about(exc)


@pytest.mark.parametrize("mode", MODES)
def test_the_basic_auth_header_of_a_password_in_the_base_url_is_masked(mode: str, echo: EchoServer,
                                                                       tmp_path: Path) -> None:
    """requests (and the event loop's client) send ``user:password`` of the base URL as Basic auth: a server
    that repeats the header shows base64 of the pair, which decodes to the password."""
    password = "s3cr3t/pass+word"
    url = echo.url.replace("http://", f"http://alice:{urllib.parse.quote(password, safe='')}@")
    folder = write_provider(tmp_path / "catalog", "local", "openai", url, models=LOCAL_MODELS)
    echo.body = lambda headers: f"refused credentials: {headers.get('authorization')}"
    with pepperpy.Client(catalog=folder, env_file=None, max_retries=0) as client:
        exc = complete(mode, client)
    pair = base64.b64encode(f"alice:{password}".encode()).decode()
    text = everything_about(exc)
    assert pair not in text and password not in text and urllib.parse.quote(password, safe="") not in text
    assert "refused credentials: Basic ***" in str(exc)
    assert echo.hits == 1


# --------------------------------------------------------------------------- logs, audit records, telemetry, CLI

@pytest.mark.parametrize("mode", MODES)
def test_audit_records_and_log_lines_carry_no_encoding_of_the_key(mode: str, echo: EchoServer, catalog: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A 503 echoing every encoding falls back (the failure is in the audit record's ``failures``), fails again
    and opens the breaker (a log line): every record, message and extra field, is clean."""
    echo.status, echo.code = 503, "server_error"
    echo.body = lambda headers: " | ".join(encode(KEY) for encode in ENCODINGS.values())
    caplog.set_level(logging.DEBUG, logger="pepperpy")
    with pepperpy.Client(catalog=catalog, env_file=None, api_keys={"local": KEY}, max_retries=0,
                         breaker={"fail_max": 2}, fallbacks={"local-chat": ["local/lc"]}) as client:
        exc = complete(mode, client)
    assert isinstance(exc, pepperpy.ProviderUnavailableError) and echo.hits == 2  # and the breaker opened
    audit = [r for r in caplog.records if r.name == "pepperpy.audit"]
    assert audit and any(getattr(r, "failures", None) for r in audit)
    for record in caplog.records:
        fields = {k: v for k, v in vars(record).items() if k not in ("args", "exc_info", "exc_text", "stack_info")}
        assert leaks(record.getMessage() + json.dumps(fields, default=str, ensure_ascii=False)) == [], record.name


def test_the_redaction_filter_masks_every_encoding_of_its_secrets() -> None:
    """``RedactionFilter(secrets=[key])`` on an application's own handler: a record that holds the key
    percent-encoded (a URL logged by mistake) is masked too."""
    logged = f"/x?key={urllib.parse.quote_plus(KEY)}"
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "calling %s", (logged,), None)
    record.url = f"https://h/?k={urllib.parse.quote(KEY, safe='')}"
    record.sent = {"body": json.dumps({"key": KEY}), "header": base64.b64encode(KEY.encode()).decode()}
    RedactionFilter(secrets=[KEY]).filter(record)
    assert leaks(record.getMessage() + record.url + json.dumps(record.sent)) == []
    assert record.getMessage() == "calling /x?key=***"


@pytest.mark.parametrize("mode", MODES)
def test_telemetry_spans_carry_no_encoding_of_the_key(mode: str, echo: EchoServer, catalog: Path) -> None:
    otel_trace = pytest.importorskip("opentelemetry.trace")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel_trace.set_tracer_provider(provider)
    echo.status, echo.code = 503, "server_error"
    echo.body = lambda headers: " | ".join(encode(KEY) for encode in ENCODINGS.values())
    with pepperpy.Client(catalog=catalog, env_file=None, api_keys={"local": KEY}, telemetry=True,
                         retry_policy=RetryPolicy(max_retries=1, backoff_base=0)) as client:
        complete(mode, client)
    (span,) = exporter.get_finished_spans()
    shown = [span.status.description or "", json.dumps(dict(span.attributes or {}), default=str)]
    shown += [json.dumps([event.name, dict(event.attributes or {})], default=str) for event in span.events]
    assert span.events and echo.hits == 2  # the retry is an event
    assert leaks("\n".join(shown)) == []


def test_the_command_line_verbose_output_carries_no_encoding_of_the_key(
        echo: EchoServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    echo.body = lambda headers: " | ".join(encode(KEY) for encode in ENCODINGS.values())
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_BASE_URL", echo.url)
    monkeypatch.setenv("PEPPERPY_PROVIDER_OPENAI_API_KEY", KEY)
    code = cli.main(["-v", "complete", "-m", "gpt-4o-mini", "--no-stream", "--max-retries", "0", "hi"])
    out, err = capsys.readouterr()
    assert code == 1 and "error: openai returned 401" in err and "Traceback" in err
    assert leaks(out + err) == []


# --------------------------------------------------------------------------- redact itself

@pytest.mark.parametrize("key", [KEY, "sk-ünïcode/ключ+1 2", 'quo"te\\back/slash', "with space/and+plus"])
def test_redact_masks_each_encoding_and_leaves_the_rest(key: str) -> None:
    for name, encode in ENCODINGS.items():
        text = f"before {encode(key)} after"
        assert redact(text, [key]) == "before *** after", name
    non_ascii = json.dumps(key, ensure_ascii=True)[1:-1]
    assert redact(f"<{non_ascii}>", [key]) == "<***>"
    assert redact("nothing here", [key]) == "nothing here"
    assert redact("abc", ["ab"]) == "abc"  # too short to mask anywhere
