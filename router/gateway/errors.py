"""What the gateway answers when a request fails: one :class:`Failure` (HTTP status, a kind,
the message, Retry-After), rendered in the error shape of the API that was called.

Every exception a handler can meet is mapped here, once, by :func:`failure_of`; the two
renderers turn a Failure into OpenAI's ``{"error": {"message", "type", "param", "code"}}`` or
Anthropic's ``{"type": "error", "error": {"type", "message"}}``. Messages come from the
router's typed errors, whose text never holds a key (provider messages are redacted at the
adapter boundary); nothing raw (a traceback, an SDK exception) is ever shown.

| what failed | status | OpenAI type / code | Anthropic type |
|---|---:|---|---|
| no key, a wrong key | 401 | invalid_api_key | authentication_error |
| body not JSON, bad argument, no route | 400 | invalid_request_error | invalid_request_error |
| a hook refused the request (nothing sent) | 400 | request_refused | invalid_request_error |
| a guardrail refused it (``param``: where) | 400 | guardrail_refused | invalid_request_error |
| every answer rejected (content filter, a hook) | 400 | content_filter | invalid_request_error |
| ``model`` names no task | 404 | model_not_found | not_found_error |
| body over the limit | 413 | request_too_large | request_too_large |
| upstream rate limits, our limits | 429 + Retry-After | rate_limit_exceeded | rate_limit_error |
| a spend cap | 429 + Retry-After | insufficient_quota | rate_limit_error |
| every model failed (5xx, bad answers) | 502 | upstream_error | api_error |
| every circuit open, state down | 503 + Retry-After | server_error | overloaded_error |
| every attempt timed out | 504 | upstream_timeout | api_error |
| a hook failed (raised) | 500 | hook_failed | api_error |
| a hook overran the request's deadline | 504 | hook_timeout | api_error |
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from router.errors import (
    AllModelsFailed,
    BadRequestError,
    BudgetExceeded,
    ConfigError,
    ContentFiltered,
    ContextWindowExceeded,
    GuardrailRefused,
    HookFailed,
    HookTimeout,
    NoRouteError,
    ProviderError,
    ProviderTimeout,
    RateLimitError,
    RequestError,
    RequestRefused,
    StateUnavailable,
    StreamInterrupted,
)

__all__ = ["Failure", "anthropic_error", "failure_of", "openai_error"]

#: status -> Anthropic's error type for it
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "api_error",
}


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed request as the gateway answers it."""

    status: int
    message: str
    type: str = "invalid_request_error"  # OpenAI's error type
    code: str | None = None
    param: str | None = None
    retry_after: float | None = None  # seconds

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self.retry_after is None:
            return []
        return [(b"retry-after", str(max(1, math.ceil(self.retry_after))).encode())]


def openai_error(f: Failure) -> bytes:
    return json.dumps(
        {"error": {"message": f.message, "type": f.type, "param": f.param, "code": f.code}}
    ).encode()


def anthropic_error(f: Failure, request_id: str | None = None) -> bytes:
    kind = _ANTHROPIC_TYPES.get(
        f.status, "api_error" if f.status >= 500 else "invalid_request_error"
    )
    body: dict[str, object] = {"type": "error", "error": {"type": kind, "message": f.message}}
    if request_id is not None:
        body["request_id"] = request_id
    return json.dumps(body).encode()


def _server(status: int, message: str, code: str, retry_after: float | None = None) -> Failure:
    return Failure(status, message, "server_error", code, None, retry_after)


def _all_failed(exc: AllModelsFailed) -> Failure:
    errors = [e for e in exc.exceptions if isinstance(e, ProviderError)]
    message = str(exc)
    asked = [e.retry_after for e in errors if e.retry_after is not None]
    wait = exc.retry_after or (max(asked) if asked else None)
    if errors and all(isinstance(e, RateLimitError) or e.local for e in errors):
        # Every model refused for now (upstream 429s, our own limits, open circuits): the
        # caller should come back; an open circuit everywhere is an outage, not a limit.
        if all(e.circuit_open for e in errors):
            return _server(503, message, "all_circuits_open", wait or 1.0)
        code = "rate_limit_exceeded"
        return Failure(429, message, code, code, None, wait or 1.0)
    if errors and all(isinstance(e, ProviderTimeout) for e in errors):
        return _server(504, message, "upstream_timeout")
    if errors and all(isinstance(e, ContextWindowExceeded) for e in errors):
        return Failure(400, message, code="context_length_exceeded", param="messages")
    if errors and all(isinstance(e, ContentFiltered) for e in errors):
        return Failure(400, message, code="content_filter")
    if errors and all(isinstance(e, BadRequestError) for e in errors):
        return Failure(400, message, code="upstream_bad_request")
    return _server(502, message, "upstream_error", wait)


def failure_of(exc: BaseException, *, now: float | None = None) -> Failure:
    """The answer to ``exc``, raised by the Router (or by the gateway's own checks)."""
    if isinstance(exc, NoRouteError):
        return Failure(400, str(exc), code="no_route")
    if isinstance(exc, RequestRefused):  # by a hook: the caller's request, not the gateway
        return Failure(400, str(exc), code="request_refused")
    if isinstance(exc, GuardrailRefused):  # names the guardrail, the kind and where, no value
        return Failure(400, str(exc), code="guardrail_refused", param=exc.argument)
    if isinstance(exc, RequestError):
        return Failure(400, str(exc), param=exc.argument)
    if isinstance(exc, AllModelsFailed):
        return _all_failed(exc)
    if isinstance(exc, BudgetExceeded):
        wait = exc.resets_at - (time.time() if now is None else now)
        return Failure(429, str(exc), "insufficient_quota", "budget_exceeded", None, max(wait, 1))
    if isinstance(exc, StateUnavailable):
        return _server(503, str(exc), "state_unavailable", 1.0)
    if isinstance(exc, StreamInterrupted):
        return _server(502, str(exc), "stream_interrupted")
    if isinstance(exc, HookTimeout):
        return _server(504, str(exc), "hook_timeout")
    if isinstance(exc, HookFailed):  # names the hook and the line, never what it said
        return _server(500, str(exc), "hook_failed")
    if isinstance(exc, ProviderError):  # a lone attempt's error (not raised by the Router)
        return _server(502, str(exc), "upstream_error", exc.retry_after)
    if isinstance(exc, ConfigError):
        # The deployment cannot serve this (a model's key variable unset...): not the
        # caller's fault, and not transient.
        return _server(500, str(exc), "gateway_misconfigured")
    return _server(500, "internal error in the gateway (see its log)", "internal_error")
