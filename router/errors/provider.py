"""One attempt at one target failed: ProviderError and its kinds."""

from __future__ import annotations

from typing import Any

from router.errors.base import ConfigError, RouterError


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
