"""How a job talks to its provider: every request through the Client's pipeline, and the shared reading.

``Services`` is what a job needs of its Client (the Client builds it: this package sits below the client and
does not import it). ``JobIO`` sends one job's requests through ``Pipeline.send``, so submits, polls, result
downloads and cancels get the provider's breaker, rate limiter, retries, timeouts and audit records, as chat
calls do. ``Items`` turns one batch item's answer (a provider's chat body or error body) into a Completion (the
ledger prices it, at batch price), or into that item's typed error.
"""

from __future__ import annotations

import json
import tempfile
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import IO, Any

import requests

from .. import errors
from ..catalog._registry import Catalog
from ..dialects.base import Dialect
from ..http import _translate
from ..http.transport import Request, iter_lines
from ..observe.ledger import JobHold, Ledger
from ..pipeline import _decode
from ..pipeline._blocking import Pipeline, Prepared
from ..pipeline._runtimes import Runtime
from ..resilience.retry import RetryPolicy
from ..types import Completion, ModelSpec, ProviderSpec
from ._ref import JobRef

__all__ = ["ERROR_STATUS", "ID_FIX", "RESULT_BYTES", "Items", "Job", "JobIO", "PartStatus", "Prepare", "Services",
           "same_origin"]

Prepare = Callable[[str, str | None, Sequence[Mapping[str, Any]] | None, str | None, dict[str, Any]],
                   tuple[ProviderSpec, ModelSpec, list[dict[str, Any]], dict[str, Any]]]
"""``Client._prepare``: (model, prompt, messages, system, params) -> (provider, model, messages, checked params)."""

# A provider's error type, when it names one without an HTTP status (Anthropic's batch results)
ERROR_STATUS = {"invalid_request_error": 400, "authentication_error": 401, "billing_error": 402,
                "permission_error": 403, "not_found_error": 404, "request_too_large": 413,
                "rate_limit_error": 429, "api_error": 500, "timeout_error": 504, "overloaded_error": 529}
# What a refused provider id (it lands in a URL path: ``http._targets``) tells the user to do
ID_FIX = "ids come from the provider and from job.id: resume the job with job.id copied whole, as job.id gave it"
RESULT_BYTES = 4_000_000_000  # a result file may be this large (it goes to a temporary file, not memory)


@dataclass(frozen=True)
class Services:
    """What jobs need of their Client: its catalog, pipeline, provider runtimes, the validation of one chat
    call (``Client._prepare``) and its retry policy (whose ``sleep`` and ``clock`` ``wait`` uses)."""

    catalog: Catalog
    pipeline: Pipeline
    runtime: Callable[[ProviderSpec], Runtime]
    prepare: Prepare
    policy: RetryPolicy


@dataclass(frozen=True)
class PartStatus:
    """One provider job as last seen: ``state`` in pepperpy's words (queued, running, cancelling, completed,
    failed, expired, cancelled), item counts when the provider gives them, why it failed, its raw object."""

    state: str
    raw: Any = None
    succeeded: int = 0
    failed: int = 0
    error: str | None = None
    percent: float | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("completed", "failed", "expired", "cancelled")


class JobIO:
    """The requests of one job, each through the pipeline. A failure raises the typed error, as for chat."""

    def __init__(self, services: Services, provider: ProviderSpec, model: ModelSpec) -> None:
        self.runtime = services.runtime(provider)
        self.pipeline = services.pipeline
        self.provider = provider
        self.model = model

    @property
    def base_url(self) -> str:
        return self.runtime.transport.base_url

    def json(self, op: str, request: Request, *, replay: bool = True, content: Any = None,
             input_bytes: int = 0) -> Any:
        """The JSON answer of ``request``; ``replay=False`` for requests that create something. ``content`` is
        what ``log_content`` records instead of the body (which may hold every prompt of a batch, or an image
        as base64), ``input_bytes`` the size of the files it carries."""
        prepared = Prepared(self.runtime, self.model, request, input_bytes=input_bytes, content=content)
        try:
            return self.pipeline.send(op, prepared, _json, replay=replay)
        except errors.InvalidRequestError as exc:
            if exc.status_code == 404 and op.endswith((".poll", ".cancel")):
                raise self._unknown(exc) from None
            raise

    def _unknown(self, exc: errors.InvalidRequestError) -> errors.InvalidRequestError:
        """A 404 on a job's own address: the provider does not know the job (not a model name to check)."""
        name = self.provider.name
        said = _translate.provider_message(exc.details)
        return errors.InvalidRequestError(
            f"{name} does not know this job{f' ({said})' if said else ''}: it was made with another API key or "
            f"account, or at another base_url, or {name} has deleted it; a job id resumes a job only where it was "
            f"made", provider=name, model=self.model.id, status_code=404, details=exc.details,
            request_id=exc.request_id)

    def answer(self, op: str, request: Request, *, replay: bool = True) -> tuple[Any, Mapping[str, str]]:
        """The JSON answer of ``request`` and its headers (Gemini's resumable uploads say things there)."""
        prepared = Prepared(self.runtime, self.model, request)
        return self.pipeline.send(op, prepared, _json_and_headers, replay=replay)

    def download(self, op: str, url: str, *, max_bytes: int = RESULT_BYTES) -> IO[bytes]:
        """The body at ``url`` in a temporary file (at its start; the caller closes it): bounded, the key only
        to the provider's own host, redirects followed without it, retried from scratch as the policy says."""
        handle = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
        transport = self.runtime.transport

        def fetch(timeout: Any) -> int:
            handle.seek(0)
            handle.truncate()
            return int(transport.download(url, max_bytes=max_bytes, into=handle, model=self.model.id,
                                          timeout=timeout))

        try:
            self.pipeline.send(op, Prepared(self.runtime, self.model, Request("GET", url)), _size, fetch=fetch)
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        return handle

    def content(self, op: str, url: str, *, max_bytes: int) -> bytes:
        """The body at ``url`` in memory (a video), as ``download`` fetches it."""
        transport = self.runtime.transport

        def fetch(timeout: Any) -> bytes:
            data = transport.download(url, max_bytes=max_bytes, model=self.model.id, timeout=timeout)
            return data if isinstance(data, bytes) else b""

        result = self.pipeline.send(op, Prepared(self.runtime, self.model, Request("GET", url)), _same, fetch=fetch)
        return bytes(result)

    def jsonl(self, op: str, url: str) -> Iterator[Any]:
        """The JSON values of a JSON Lines file at ``url`` (a result file: downloaded to disk, then read line by
        line, since it can be large)."""
        provider, model = self.provider.name, self.model.id
        with self.download(op, url) as handle:
            for number, line in enumerate(iter_lines(iter(partial(handle.read, 1 << 16), b"")), 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as exc:
                        raise errors.ProviderAPIError(f"{provider} sent a result file whose line {number} is not "
                                                      f"JSON", provider=provider, model=model) from exc

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` is on the provider's own host (only there may its key go)."""
        return same_origin(url, self.base_url)


class Job:
    """What a batch job and a video job share: the id's ``JobRef`` resolved against the catalog (the provider
    it names must be the model's), ``id`` / ``model`` / ``provider``, and the JobIO their requests go through."""

    def __init__(self, services: Services, ref: JobRef) -> None:
        provider, model = services.catalog.resolve(ref.model)
        if provider.name != ref.provider:
            raise errors.ValidationError(f"the job id says provider {ref.provider!r} but its model {ref.model!r} "
                                         f"is {provider.name}'s in this catalog", param="id", value=ref.provider)
        self._services = services
        self._ref = ref
        self._provider = provider
        self._model = model

    @property
    def id(self) -> str:
        """The one string that resumes this job in any process: ``client.batch_job(id)`` for a batch,
        ``client.video_job(id)`` for a video."""
        return self._ref.encode()

    @property
    def model(self) -> str:
        """The model's catalog name, ``provider/id``."""
        return self._model.name

    @property
    def provider(self) -> str:
        return self._provider.name

    def _io(self) -> JobIO:
        return JobIO(self._services, self._provider, self._model)

    def _ledger(self) -> Ledger:
        return self._services.pipeline.observer.ledger

    def _hold(self) -> JobHold | None:
        """The reservation and day of submission the id carries (None: an id made before ids carried them)."""
        extra = self._ref.extra
        day = extra.get("d")
        if not isinstance(day, str):
            return None
        amount = extra.get("b")
        return JobHold(float(amount) if isinstance(amount, (int, float)) else 0.0, str(extra.get("q") or "all"),
                       day)


def same_origin(url: str, base_url: str) -> bool:
    a, b = urllib.parse.urlsplit(url), urllib.parse.urlsplit(base_url)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port) and a.scheme in ("http", "https")


def _json(p: Prepared, response: requests.Response) -> Any:
    return _decode.json_body(p.runtime.transport, response, p.model)


def _json_and_headers(p: Prepared, response: requests.Response) -> tuple[Any, Mapping[str, str]]:
    return _decode.json_body(p.runtime.transport, response, p.model), response.headers


def _size(p: Prepared, size: int) -> int:
    return size


def _same(p: Prepared, value: bytes) -> bytes:
    return value


class Items:
    """One batch's items: a provider's answer body becomes a Completion at batch price, an error body the
    item's typed error, a job-level outcome (expired, cancelled...) a JobError."""

    def __init__(self, provider: ProviderSpec, model: ModelSpec, dialect: Dialect, job_id: str) -> None:
        self.provider = provider
        self.model = model
        self.dialect = dialect
        self.job_id = job_id

    def completion(self, body: Any, request_id: str | None = None) -> Completion | errors.ProviderError:
        try:
            result = self.dialect.parse_chat(body, self.model)
        except errors.ProviderError as exc:  # an error object where the answer should be
            return exc
        except _decode.SHAPE_ERRORS as exc:
            return errors.ProviderAPIError(
                f"{self.provider.name} returned a batch result in a shape the {self.dialect.name} dialect does not "
                f"know ({type(exc).__name__}: {exc})", provider=self.provider.name, model=self.model.id)
        return replace(result, request_id=request_id or result.request_id)  # priced by the ledger, at batch price

    def error(self, body: Any, status: int | None) -> errors.ProviderError:
        """The typed error of an item the provider refused or failed (``status``: its HTTP status, or the
        one its error type stands for)."""
        return _translate.from_error_payload(body, status=status, provider=self.provider.name, model=self.model.id)

    def ended(self, state: str, message: str) -> errors.JobError:
        """The error of an item the provider never ran (``state``: expired, cancelled, failed, missing)."""
        return errors.JobError(message, job_id=self.job_id, state=state, provider=self.provider.name,
                               model=self.model.id)
