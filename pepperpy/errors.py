"""The pepperpy exception tree, and the one place that turns HTTP and transport failures into it.

```
PepperpyError
├── ConfigurationError       missing credentials (names every env var that would work), bad options
├── CatalogError             file, line and schema path of the problem (also a ValueError)
├── ModelNotFoundError       .suggestions (close matches)
│   └── ModelRetiredError       a name the provider retired: .retired_on, .replacement (the catalog's retired:)
├── ValidationError          bad params, caught before any request (also a ValueError)
│   └── StructuredOutputError   an answer that is not the JSON asked for: .text, .errors [(json_path, message)]
├── MaxTurnsError            a tool loop that reached max_turns: .messages (the transcript), .steps
├── JobTimeoutError          wait(timeout=) ran out while a batch or video job was still running: .job_id
├── BudgetExceededError      a call whose worst-case cost would pass Client(budget=); nothing was sent
├── BridgeTimeoutError       pepperpy.aio.AsyncBridge.run(timeout=) ran out; the coroutine was cancelled
└── ProviderError            .provider (alias .provider_type), .model, .status_code, .details, .request_id, .retryable
    ├── ProviderAPIError     an HTTP error answer
    │   ├── AuthenticationError      401, 403, Gemini API_KEY_INVALID
    │   ├── RateLimitError           429 (alias ProviderRateLimitError); .retry_after seconds when known
    │   ├── ContextLengthError       prompt too long, whatever the provider calls it; .tokens, .limit when known
    │   ├── InvalidRequestError      other 4xx, and OpenRouter's 403 for input flagged by moderation
    │   └── ProviderUnavailableError 5xx, 529 overloaded
    ├── ProviderTimeoutError
    ├── ProviderConnectionError
    ├── StreamError                  a stream that broke or ended without its terminator
    ├── CircuitOpenError             raised without touching the network; .retry_after
    └── JobError                     a batch or video job (or one batch item) that failed, expired or was
                                     cancelled at the provider, or is not finished yet; .job_id, .state
```

HTTP answers and transport failures become these errors in one place, ``pepperpy._translate``; no message or
repr ever carries a credential (every text taken from a provider goes through ``pepperpy._redact``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AuthenticationError",
    "BridgeTimeoutError",
    "BudgetExceededError",
    "CatalogError",
    "CircuitOpenError",
    "ConfigurationError",
    "ContextLengthError",
    "InvalidRequestError",
    "JobError",
    "JobTimeoutError",
    "MaxTurnsError",
    "ModelNotFoundError",
    "ModelRetiredError",
    "PepperpyError",
    "ProviderAPIError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderRateLimitError",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "RateLimitError",
    "StreamError",
    "StructuredOutputError",
    "ValidationError",
]


class PepperpyError(Exception):
    """Base class of every error pepperpy raises."""


class ConfigurationError(PepperpyError):
    """Missing credentials or a bad option; the message says what to set."""


class CatalogError(PepperpyError, ValueError):
    """A catalog file that cannot be used, with ``.file``, ``.line`` and ``.field`` of the problem.

    Loading reports every problem of every file at once: ``.problems`` lists each one as a CatalogError of its
    own (a single problem lists itself), the message has one ``file:line: field: message`` line per problem,
    and ``.file``, ``.line`` and ``.field`` are the first one's.

    >>> err = CatalogError.of([CatalogError("unknown key 'colour'", file="a.yaml", line=3, field="colour"),
    ...                        CatalogError("'chta' is not one of ['chat']", file="a.yaml", line=7, field="mode")])
    >>> print(err)
    2 catalog problems:
      a.yaml:3: colour: unknown key 'colour'
      a.yaml:7: mode: 'chta' is not one of ['chat']
    >>> [p.line for p in err.problems]
    [3, 7]
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.file, self.line, self.field = file, line, field
        self.problems: tuple[CatalogError, ...] = (self,)
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        at = f"{field}: " if field else ""
        super().__init__(f"{where}{at}{message}")

    @classmethod
    def of(cls, problems: Sequence[CatalogError]) -> CatalogError:
        """One error for these problems: the problem itself when there is one, else an error listing them all."""
        flat = [single for problem in problems for single in problem.problems]
        if len(flat) == 1:
            return flat[0]
        if not flat:
            raise ValueError("CatalogError.of needs at least one problem")
        lines = "".join(f"\n  {problem}" for problem in flat)
        error = cls(f"{len(flat)} catalog problems:{lines}")
        error.file, error.line, error.field = flat[0].file, flat[0].line, flat[0].field
        error.problems = tuple(flat)
        return error


class ModelNotFoundError(PepperpyError, LookupError):
    """No catalog model (or provider) has this name; ``.suggestions`` lists close matches."""

    def __init__(self, name: str, suggestions: Sequence[str] = (), hint: str = "", *, kind: str = "model") -> None:
        self.name = name
        self.suggestions = list(suggestions)
        text = f"unknown {kind} {name!r}"
        if self.suggestions:
            text += f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?"
        elif hint.startswith(" "):  # a sentence follows the name: end the first one
            text += "."
        text += hint or " See client.models() for every model, or add one to a catalog YAML file."
        super().__init__(text)

    def __str__(self) -> str:  # LookupError would otherwise quote the message
        return str(self.args[0])


class ModelRetiredError(ModelNotFoundError):
    """A model name its provider no longer serves (the catalog lists it under ``retired:``): ``.retired_on``
    (YYYY-MM-DD), ``.retired_by`` (who retired it), ``.replacement`` (the closest current model, which is also
    ``.suggestions[0]``).

    >>> print(ModelRetiredError("gpt-4", retired_on="2026-10-23", retired_by="OpenAI", replacement="gpt-4.1"))
    gpt-4 was retired by OpenAI on 2026-10-23; the closest current model is 'gpt-4.1': use model='gpt-4.1'.
    """

    def __init__(self, name: str, *, retired_on: str, retired_by: str, replacement: str, past: bool = True,
                 note: str = "") -> None:
        super().__init__(name, [replacement])
        self.retired_on, self.retired_by, self.replacement = retired_on, retired_by, replacement
        self.past, self.note = past, note
        verb = "was retired" if past else "is retired"
        text = (f"{name} {verb} by {retired_by} on {retired_on}; the closest current model is {replacement!r}: "
                f"use model={replacement!r}.{' ' + note if note else ''}")
        self.args = (text,)

    def named(self, name: str, replacement: str) -> ModelRetiredError:
        """The same error for the name as the caller wrote it (the seed API's provider-local names)."""
        return ModelRetiredError(name, retired_on=self.retired_on, retired_by=self.retired_by,
                                 replacement=replacement, past=self.past, note=self.note)


class ValidationError(PepperpyError, ValueError):
    """A parameter refused before any request: names the param, the value and the allowed range."""

    def __init__(self, message: str, *, param: str | None = None, value: Any = None) -> None:
        self.param, self.value = param, value
        super().__init__(message)


class StructuredOutputError(ValidationError):
    """The answer is not the JSON asked for by ``response_format``, even after the repair round.

    ``text`` is the raw answer; ``errors`` lists every problem as ``(json_path, message)``, e.g.
    ``("$.items[0].price", "'ten' is not of type 'number'")``; ``completion`` is the last answer received.
    """

    def __init__(self, message: str, *, text: str, errors: Sequence[tuple[str, str]],
                 completion: Any = None) -> None:
        super().__init__(message, param="response_format")
        self.text = text
        self.errors = list(errors)
        self.completion = completion


class MaxTurnsError(PepperpyError):
    """``client.run`` reached ``max_turns`` while the model was still asking for tools.

    ``messages`` is the whole transcript (ready to continue with ``messages=``), ``steps`` every tool call
    made, ``completion`` the last answer (its ``tool_calls`` are the ones left unanswered).
    """

    def __init__(self, message: str, *, messages: Sequence[Any] = (), steps: Sequence[Any] = (),
                 completion: Any = None, max_turns: int | None = None) -> None:
        super().__init__(message)
        self.messages = list(messages)
        self.steps = list(steps)
        self.completion = completion
        self.max_turns = max_turns


class BudgetExceededError(PepperpyError):
    """A call whose worst-case cost would pass the Client's budget; refused before anything was sent.

    ``scope`` is what the limit applies to (``"total"``, a provider, or ``"provider/model"``), ``period`` its
    period (None, ``"hour"``, ``"day"``, ``"month"``); ``limit``, ``spent`` (so far in the period, reserved
    calls included) and ``needed`` (this call's worst case) are USD.
    """

    def __init__(self, message: str, *, scope: str, limit: float, spent: float, needed: float,
                 period: str | None = None, model: str | None = None) -> None:
        super().__init__(message)
        self.scope, self.limit, self.spent, self.needed = scope, limit, spent, needed
        self.period, self.model = period, model


class BridgeTimeoutError(PepperpyError, TimeoutError):
    """``AsyncBridge.run(coro, timeout=...)`` ran out of time: the coroutine was cancelled on the bridge's loop
    (``.cancelled`` is False when it was still running after the grace period, ignoring the cancellation);
    ``.timeout`` is the limit in seconds."""

    def __init__(self, message: str, *, timeout: float, cancelled: bool = True) -> None:
        self.timeout, self.cancelled = timeout, cancelled
        super().__init__(message)


class ProviderError(PepperpyError):
    """A provider call that failed. ``provider_type`` is the seed API's name for ``provider``."""

    retryable_default = False

    def __init__(self, message: str, *, provider: str | None = None, model: str | None = None,
                 status_code: int | None = None, details: Any = None, request_id: str | None = None,
                 retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.details = details
        self.request_id = request_id
        self.retryable = self.retryable_default if retryable is None else retryable
        self.should_retry: bool | None = None  # the provider's x-should-retry: true overrides the status rules

    @property
    def provider_type(self) -> str | None:
        return self.provider

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, provider={self.provider!r}, status_code={self.status_code!r})"


class ProviderAPIError(ProviderError):
    """The provider answered with an HTTP error."""


class AuthenticationError(ProviderAPIError):
    """The credentials were refused (401, 403, Gemini API_KEY_INVALID)."""


class RateLimitError(ProviderAPIError):
    """Too many requests (429); ``retry_after`` is the wait in seconds when the provider said it."""

    retryable_default = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


ProviderRateLimitError = RateLimitError


class ContextLengthError(ProviderAPIError):
    """The prompt (plus max_tokens) does not fit the model's context window.

    ``tokens`` is the prompt's size in tokens and ``limit`` the model's context window, when known: the
    pre-flight check sets both (``tokens`` is then a lower bound), a provider's message may state them.
    """

    def __init__(self, message: str, *, tokens: int | None = None, limit: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.tokens = tokens
        self.limit = limit


class InvalidRequestError(ProviderAPIError):
    """Any other 4xx answer: the request needs fixing."""


class ProviderUnavailableError(ProviderAPIError):
    """5xx or 529 overloaded: the provider failed, try again later."""

    retryable_default = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ProviderTimeoutError(ProviderError):
    """No answer within the timeout."""

    retryable_default = True


class ProviderConnectionError(ProviderError):
    """The provider could not be reached (refused, reset, DNS, TLS)."""

    retryable_default = True


class StreamError(ProviderError):
    """A stream that broke, or ended without its terminator."""


class CircuitOpenError(ProviderError):
    """The provider's circuit breaker is open; raised without touching the network."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class JobError(ProviderError):
    """A long-running job (a provider batch, a video) or one item of a batch that did not succeed.

    ``state`` says why: ``failed`` (the provider refused or failed the job), ``expired`` (the provider's window
    passed before the item ran), ``cancelled``, ``missing`` (the provider returned no result for the item), or
    ``queued`` / ``running`` when results were asked for before the job finished. ``job_id`` resumes the job
    (``client.batch_job(job_id)``).
    """

    def __init__(self, message: str, *, job_id: str | None = None, state: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.job_id = job_id
        self.state = state


class JobTimeoutError(PepperpyError, TimeoutError):
    """``wait(timeout=...)`` ran out while the job was still running; the job goes on at the provider, and
    ``job_id`` resumes it later (``client.batch_job(job_id).wait()``)."""

    def __init__(self, message: str, *, job_id: str, status: Any = None) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.status = status
