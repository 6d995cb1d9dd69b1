"""What ``Client(...)`` accepts, checked before anything is built: a misspelt or foreign option, the retry
policy said once, the shared state's target, timeouts and fallback lists. Each bad value is a
ConfigurationError (or ValidationError) that says what to write instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .. import errors
from ..config import SHARED_STATE_ENV, Settings
from ..pipeline._runtimes import Timeout
from ..resilience.retry import RetryPolicy

__all__ = ["catalog_paths", "check_fallbacks", "check_options", "check_timeout", "retry_policy", "shared_state"]


def check_fallbacks(fallbacks: object) -> None:
    if isinstance(fallbacks, str) or not isinstance(fallbacks, (list, tuple)):
        raise errors.ValidationError(f"fallbacks takes a list of model names, e.g. [{fallbacks!r}], not "
                                     f"{type(fallbacks).__name__}", param="fallbacks", value=fallbacks)


def catalog_paths(catalog: object) -> list[str | os.PathLike[str]]:
    """``Client(catalog=...)`` as a list of paths: one path, or a list (tuple) of them."""
    paths = [catalog] if isinstance(catalog, (str, os.PathLike)) else catalog or []
    if not isinstance(paths, (list, tuple)) or not all(isinstance(p, (str, os.PathLike)) for p in paths):
        wrong = paths if not isinstance(paths, (list, tuple)) else next(
            p for p in paths if not isinstance(p, (str, os.PathLike)))
        raise errors.ConfigurationError(f"catalog takes a path to a YAML file or folder, or a list of them, not "
                                        f"{type(wrong).__name__}")
    return list(paths)


def retry_policy(policy: RetryPolicy | None, **flat: float | None) -> RetryPolicy:
    """The one retry policy: ``retry_policy=`` as given, or one built from the flat options, never a mix (a
    flat option would silently override what the object says)."""
    given = {name: value for name, value in flat.items() if value is not None}
    if policy is None:
        return RetryPolicy(**given)  # type: ignore[arg-type]
    if not isinstance(policy, RetryPolicy):
        raise errors.ConfigurationError(f"retry_policy takes a pepperpy.RetryPolicy, not {type(policy).__name__}")
    if given:
        names = ", ".join(f"{name}={value!r}" for name, value in given.items())
        raise errors.ConfigurationError(
            f"Client({names}) and retry_policy= both set the retry policy; say each setting once: "
            f"RetryPolicy({names}, ...) alone, or the flat option{'s' if len(given) > 1 else ''} without "
            f"retry_policy=")
    return policy


def shared_state(option: Any, namespace: str | None, settings: Settings) -> Any:
    """``Client(shared_state=...)``, else ``PEPPERPY_SHARED_STATE``; None (off) without either, or with False."""
    if option is None:
        option = settings.get(SHARED_STATE_ENV)
    if option is None or option is False:
        if namespace is not None:
            raise errors.ConfigurationError("shared_namespace needs shared_state= (or PEPPERPY_SHARED_STATE)")
        return None
    from ..shared.store import DEFAULT_NAMESPACE, SharedState

    if isinstance(option, SharedState):
        if namespace is not None and namespace != option.namespace:
            raise errors.ConfigurationError(f"shared_namespace={namespace!r} and the SharedState's namespace "
                                            f"{option.namespace!r} differ: give it once")
        return option
    return SharedState(option, namespace=DEFAULT_NAMESPACE if namespace is None else namespace)


def check_timeout(timeout: Timeout | None) -> Timeout | None:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if timeout is not None and (len(values) not in (1, 2) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values)):
        raise errors.ConfigurationError(f"timeout must be a number of seconds > 0 or a (connect, read) pair of "
                                        f"them, not {timeout!r}")
    return timeout


# Options other libraries' clients take, and what to write here instead
_FOREIGN_OPTIONS = {
    "api_key": "a Client serves every provider: pass api_keys={'openai': ...} (one key per provider), or set the "
               "provider's variable (OPENAI_API_KEY, ...)",
    "base_url": "set it per provider: providers={'openai': {'base_url': ...}}",
    "api_base": "set it per provider: providers={'openai': {'base_url': ...}}",
    "headers": "set them per provider: providers={'openai': {'headers': {...}}}",
    "default_headers": "set them per provider: providers={'openai': {'headers': {...}}}",
    "model": "the model is chosen per call: client.complete(..., model='gpt-4o-mini')",
    "provider": "the provider comes from the model name: client.complete(..., model='openai/gpt-4o-mini')",
}


def check_options(cls: Any, options: Mapping[str, Any]) -> None:
    parameters = _parameters(cls.__init__)
    if parameters is None:
        return  # a subclass that takes options of its own
    for name in options:
        if name in parameters:
            continue
        if name in _FOREIGN_OPTIONS:
            raise errors.ConfigurationError(f"Client has no option {name}=: {_FOREIGN_OPTIONS[name]}")
        import difflib  # a mistake only

        known = [name for name in parameters if name != "self"]
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
        hint = f"did you mean {close[0]}=?" if close else f"its options are {', '.join(sorted(known))}"
        raise errors.ConfigurationError(f"Client has no option {name}=; {hint}")


def _parameters(init: Any) -> tuple[str, ...] | None:
    """The names ``init`` takes, read from its code (``inspect``, which loads ``ast`` and ``dis``, only for a
    wrapped one); None when it takes any keyword (``**options``)."""
    code = getattr(init, "__code__", None)
    if code is None or hasattr(init, "__wrapped__"):
        import inspect

        parameters = inspect.signature(init).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            return None
        return tuple(parameters)
    if code.co_flags & 0x08:  # CO_VARKEYWORDS
        return None
    return tuple(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
