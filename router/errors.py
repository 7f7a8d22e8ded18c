"""Every error the router raises, in one tree.

```
RouterError                     base of everything raised on purpose
├── ConfigError                 the spec cannot be loaded; carries every Diagnostic
├── RequestError                (also a ValueError) the call itself is invalid: unknown task,
│   │                           unknown or refused parameter, malformed messages; nothing sent
│   └── NoRouteError            no model in the chain can take this request (too large for
│                               every window, needs a capability none has...); nothing sent
├── ProviderError               one attempt at one target failed (provider, model, status)
│   ├── AuthenticationError     401/403: a bad or missing key; never retried on the same target
│   ├── RateLimitError          429: carries ``retry_after`` (seconds) when the provider sent it
│   ├── ProviderTimeout            the provider did not answer in time
│   ├── ContextWindowExceeded   the prompt plus max output does not fit the model
│   ├── ContentFiltered         the provider refused the content
│   ├── BadRequestError         400/404/422: the request itself is wrong; never retried
│   ├── ModelError              the provider answered, but with something unusable
│   ├── ProviderUnavailable     5xx, 529, connection refused or reset
│   └── ProviderConfigError     (also a ConfigError) the provider's configuration fails at call
│                               time (unusable base URL, a key or header value that is not
│                               valid HTTP); nothing sent, never retried, the chain moves on
├── StreamInterrupted           a stream failed after its first chunk reached the caller;
│                               carries the partial text and the usage seen so far
├── BudgetExceeded              a spend cap is reached and the task says ``on_budget: refuse``
│                               (scope, period, spent, cap, resets_at); nothing sent
├── StateUnavailable            the shared state backend is unreachable and the spec says
│                               ``state.on_unavailable: fail_closed``; nothing sent
└── AllModelsFailed             (also an ExceptionGroup) every target of the chain failed;
                                ``.exceptions`` holds one ProviderError per attempt, in order
```

Provider adapters translate SDK exceptions into this tree at the boundary, so nothing above
them ever sees an ``openai`` or ``anthropic`` exception class. The SDK's exception is not kept:
not as ``__cause__``, not as ``__context__`` (it holds the request, whose headers carry the
key). A ProviderError carries the facts instead: ``status``, the provider's ``error_type``,
``error_code`` and ``request_id``, and its message with secrets redacted. Messages never
contain API keys or the values of environment variables.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.diagnostics import Diagnostic

__all__ = [
    "AllModelsFailed",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceeded",
    "ConfigError",
    "ContentFiltered",
    "ContextWindowExceeded",
    "ModelError",
    "NoRouteError",
    "ProviderConfigError",
    "ProviderError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "RateLimitError",
    "RequestError",
    "RouterError",
    "StateUnavailable",
    "StreamInterrupted",
]


class RouterError(Exception):
    """Base class of every error the router raises on purpose."""


class ConfigError(RouterError):
    """The routing spec is invalid. ``diagnostics`` lists every problem found, not just the
    first; ``str()`` renders them one per line as ``file:line:col: severity: $.path: message``."""

    def __init__(self, diagnostics: Sequence[Diagnostic] | str) -> None:
        if isinstance(diagnostics, str):
            from router.diagnostics import Diagnostic

            diagnostics = [Diagnostic(message=diagnostics)]
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"] or list(self.diagnostics)
        head = f"{len(errors)} error{'s' if len(errors) != 1 else ''} in the routing spec"
        super().__init__(head + ":\n" + "\n".join("  " + d.render() for d in errors))


class RequestError(RouterError, ValueError):
    """The call is invalid before anything is sent: an unknown task (and no ``default``), an
    unknown parameter, a refused per-call override (``base_url``, ``api_key``), an argument of
    the wrong type or out of range, or messages in a shape that cannot be read. ``argument``
    names the offending argument when there is one (``temperature``,
    ``messages[2].content[1].image_url``)."""

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class NoRouteError(RequestError):
    """No model in the task's chain can take this request, so nothing was sent: it is too
    large for every context window, needs a capability (vision, tools, json) no candidate has,
    or every model is excluded. ``task`` is the task that was planned; ``skipped`` holds
    ``(model, reason)`` for every model considered, as ``router explain`` shows them."""

    def __init__(
        self, message: str, *, task: str | None = None, skipped: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__(message)
        self.task = task
        self.skipped = tuple(skipped)


class ProviderError(RouterError):
    """One attempt at one target failed.

    ``provider`` is the spec's provider name, ``model`` the spec's model name, ``status`` the
    HTTP status when there was one. ``retriable`` tells whether the same target may be tried
    again; whether the chain moves on is decided by the task's ``fallback_on`` setting.

    What the provider said about the failure, when it said it: ``error_type`` (e.g.
    ``authentication_error``), ``error_code`` (e.g. ``invalid_api_key``) and ``request_id``
    (the id to quote to the provider's support). ``str()`` shows them after the message.
    """

    kind: str = "provider_error"
    retriable: bool = True

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        local: bool = False,
        circuit_open: bool = False,
        request_id: str | None = None,
        error_type: str | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.status = status
        self.retry_after = retry_after
        #: True when the router refused the call itself (a client-side rate limit, an open
        #: circuit, a Retry-After hold): nothing was sent to the provider.
        self.local = local
        self.circuit_open = circuit_open
        self.request_id = request_id
        self.error_type = error_type
        self.error_code = error_code

    def __str__(self) -> str:
        where = "/".join(p for p in (self.provider, self.model) if p)
        facts = [f"HTTP {self.status}"] if self.status else []
        if self.error_type:
            facts.append(f"type {self.error_type}")
        if self.request_id:
            facts.append(f"request id {self.request_id}")
        tail = f" ({', '.join(facts)})" if facts else ""
        return f"{where}: {self.message}{tail}" if where else f"{self.message}{tail}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_provider_error,
            (
                type(self),
                self.message,
                self.provider,
                self.model,
                self.status,
                self.retry_after,
                self.local,
                self.circuit_open,
                self.request_id,
                self.error_type,
                self.error_code,
            ),
        )


def _rebuild_provider_error(
    cls: type[ProviderError],
    message: str,
    provider: str | None,
    model: str | None,
    status: int | None,
    retry_after: float | None,
    local: bool = False,
    circuit_open: bool = False,
    request_id: str | None = None,
    error_type: str | None = None,
    error_code: str | None = None,
) -> ProviderError:
    return cls(
        message,
        provider=provider,
        model=model,
        status=status,
        retry_after=retry_after,
        local=local,
        circuit_open=circuit_open,
        request_id=request_id,
        error_type=error_type,
        error_code=error_code,
    )


class AuthenticationError(ProviderError):
    """401/403: the key is missing, wrong or lacks permission. Never retried on the same
    target (another provider has another key, so the chain may still move on)."""

    kind = "authentication"
    retriable = False


class RateLimitError(ProviderError):
    """429 (or a provider's own 'slow down'). ``retry_after`` is in seconds when known."""

    kind = "rate_limit"


class ProviderTimeout(ProviderError):
    """The provider did not answer in time: within the attempt's read timeout, or before the
    request's deadline. (Called ``TimeoutError`` before 0.2, a name that shadowed the
    builtin; that name still works, with a DeprecationWarning.)"""

    kind = "timeout"


class ContextWindowExceeded(ProviderError):
    """The prompt plus the requested output does not fit the model's context window; the
    chain moves to a candidate with a larger window."""

    kind = "context_window"
    retriable = False


class ContentFiltered(ProviderError):
    """The provider refused the request or its answer on content grounds."""

    kind = "content_filter"
    retriable = False


class BadRequestError(ProviderError):
    """400/404/422: the request is wrong for this provider. Never retried on the same target."""

    kind = "bad_request"
    retriable = False


class ModelError(ProviderError):
    """The provider answered, but not with a usable completion (malformed JSON, HTML from a
    proxy, an unknown response shape)."""

    kind = "model_error"


class ProviderUnavailable(ProviderError):
    """5xx, 529 (overloaded), connection refused, reset or closed."""

    kind = "unavailable"


class ProviderConfigError(ProviderError, ConfigError):
    """The provider's configuration fails at call time, before anything is sent: a base URL
    the HTTP stack cannot use, an API key or header value (usually from an environment
    variable) that is not valid in an HTTP header. It is not the provider being down: it is
    never retried and does not count against the circuit breaker, and the chain always moves
    on to the next model (whatever ``fallback_on`` says), so one misconfigured model does not
    lose a request another model could serve. Also a :class:`ConfigError`."""

    kind = "config"
    retriable = False

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.args = (message,)  # as every ProviderError (ConfigError's would be the rendering)


class StreamInterrupted(RouterError):
    """A stream failed after its first chunk had reached the caller, so it cannot be failed
    over transparently. ``partial_text`` is what the caller has received; ``usage`` is the
    usage seen so far (or None); ``__cause__`` is the provider error that cut it; ``attempts``
    lists every attempt of the request, the interrupted one last."""

    def __init__(
        self,
        message: str,
        *,
        partial_text: str = "",
        usage: Any = None,
        model: str | None = None,
        provider: str | None = None,
        attempts: Sequence[Any] = (),
    ) -> None:
        super().__init__(message)
        self.partial_text = partial_text
        self.usage = usage
        self.model = model
        self.provider = provider
        self.attempts = tuple(attempts)


class AllModelsFailed(RouterError, ExceptionGroup[Exception]):
    """Every target in the chain failed. ``.exceptions`` holds each attempt's ProviderError in
    the order tried (local refusals, which sent nothing, included); ``task`` is the task
    name; ``retry_after`` says when to try again when the chain ended waiting."""

    task: str | None
    retry_after: float | None

    def __new__(
        cls, message: str, exceptions: Sequence[Exception], *, task: str | None = None
    ) -> AllModelsFailed:
        self = super().__new__(cls, message, list(exceptions))
        self.task = task
        self.retry_after = None
        return self

    def __init__(
        self, message: str, exceptions: Sequence[Exception], *, task: str | None = None
    ) -> None:
        super().__init__(message, list(exceptions))
        self.task = task
        # Seconds after which a retry could succeed, when the chain ended waiting for a
        # model (open circuits, limits, Retry-After) rather than on errors.
        self.retry_after = None

    def derive(self, excs: Sequence[Exception]) -> AllModelsFailed:  # type: ignore[override]
        return AllModelsFailed(self.message, excs, task=self.task)

    def __str__(self) -> str:
        lines = [f"{self.message} ({_count_attempts(self.exceptions)}):"]
        lines += [f"  {i}. {type(e).__name__}: {e}" for i, e in enumerate(self.exceptions, 1)]
        return "\n".join(lines)


def _count_attempts(errors: Sequence[Exception]) -> str:
    """ "1 attempt", "3 attempts", "2 attempts, 1 not sent", "nothing was sent (2 models
    could not be tried)": local refusals (an open circuit, a limit, a hold) sent nothing."""
    unsent = sum(1 for e in errors if getattr(e, "local", False))
    sent = len(errors) - unsent
    if not sent:
        tried = "model" if unsent == 1 else "models"
        return f"nothing was sent: {unsent} {tried} could not be tried"
    text = f"{sent} attempt{'s' * (sent != 1)}"
    return f"{text}, {unsent} not sent" if unsent else text


class BudgetExceeded(RouterError):
    """A spend cap is reached and the task says ``on_budget: refuse``. ``scope`` is "all" or
    the task's name, ``period`` "daily" or "monthly"; ``resets_at`` is a UTC timestamp."""

    def __init__(
        self, message: str, *, scope: str, period: str, spent: float, cap: float, resets_at: float
    ) -> None:
        super().__init__(message)
        self.scope = scope
        self.period = period
        self.spent = spent
        self.cap = cap
        self.resets_at = resets_at


class StateUnavailable(RouterError):
    """The shared state backend is unreachable and the spec asks to refuse calls rather than
    run without it (``state.on_unavailable: fail_closed``). ``backend`` names it (kind and
    host:port, never credentials)."""

    def __init__(self, backend: str, *, detail: str | None = None) -> None:
        self.backend = backend
        self.detail = detail
        message = (
            f"the state backend ({backend}) is unreachable and the spec's "
            "state.on_unavailable is fail_closed, so the call is refused rather than run "
            "without shared rate limits, holds and caches"
        )
        if detail:
            message += f" (last error: {detail})"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_state_unavailable, (self.backend, self.detail))


def _rebuild_state_unavailable(backend: str, detail: str | None) -> StateUnavailable:
    return StateUnavailable(backend, detail=detail)


#: Old names that still work, each with a DeprecationWarning: old name → new name.
DEPRECATED_NAMES = {"TimeoutError": "ProviderTimeout"}


def deprecated(module: str, name: str) -> Any:
    """The error an old ``name`` stood for, after warning that it is deprecated; an
    AttributeError (as for any unknown attribute of ``module``) when it is not an old name."""
    new = DEPRECATED_NAMES.get(name)
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(
        f"{module}.{name} is deprecated (it shadows the builtin {name}); use {module}.{new}",
        DeprecationWarning,
        stacklevel=3,
    )
    return globals()[new]


def __getattr__(name: str) -> Any:
    return deprecated(__name__, name)
