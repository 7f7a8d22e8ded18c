"""Translation of provider failures into the router's error tree (:mod:`router.errors`).

Pure functions of status, headers and body, so both vendor SDKs (and the stream parsers, which
see errors as SSE events) share one set of rules. Every message is passed through
:func:`redact` so that a key echoed back by a provider or proxy never reaches a log.

The errors made here carry what a user needs to act on a failure (HTTP status, the provider's
error type and code, its request id, its message with secrets redacted) and nothing else: no
SDK exception, response or request object (those hold the request's headers, key included).
The adapters raise them :func:`detached`, with no ``__cause__`` or ``__context__``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from router import errors as E
from router.providers._facts import (
    describe_text,
    error_fields,
    request_id_of,
    retry_after_from_headers,
)
from router.redaction import Secrets, describe
from router.redaction import redact as _redact

__all__ = [
    "SDKErrors",
    "Secret",
    "classify",
    "detached",
    "foreign",
    "redact",
    "sdk_errors",
    "status_error",
    "translate",
]

#: The known secrets an error's text is cleaned of: one key, or a prepared set.
Secret = str | Secrets | None
_X = TypeVar("_X", bound=BaseException)

_CONTEXT_CODES = frozenset(
    {"context_length_exceeded", "model_context_window_exceeded", "context_window_exceeded"}
)
_CONTEXT_RE = re.compile(
    r"context[ _-]?(length|window)|maximum context|prompt is too long|input is too long"
    r"|too many (input |prompt )?tokens|exceeds? the (model'?s? )?(maximum|max|token limit)",
    re.IGNORECASE,
)
_FILTER_CODES = frozenset({"content_filter", "content_policy_violation", "content_filtered"})
_FILTER_RE = re.compile(
    r"content[ _-]?(management )?polic|content[ _-]?filter|safety (system|filter)|flagged",
    re.IGNORECASE,
)
# Error ``type`` strings (Anthropic's vocabulary, which OpenAI-compatible servers often copy)
# for errors that arrive without an HTTP status, inside an event stream.
_TYPES: dict[str, type[E.ProviderError]] = {
    "authentication_error": E.AuthenticationError,
    "permission_error": E.AuthenticationError,
    "rate_limit_error": E.RateLimitError,
    "rate_limit_exceeded": E.RateLimitError,
    "overloaded_error": E.ProviderUnavailable,
    "api_error": E.ProviderUnavailable,
    "server_error": E.ProviderUnavailable,
    "timeout_error": E.ProviderTimeout,
    "invalid_request_error": E.BadRequestError,
    "not_found_error": E.BadRequestError,
    "request_too_large": E.BadRequestError,
}
_LABELS: dict[type[E.ProviderError], str] = {
    E.AuthenticationError: "authentication failed",
    E.RateLimitError: "rate limited",
    E.ProviderTimeout: "timed out",
    E.ContextWindowExceeded: "context window exceeded",
    E.ContentFiltered: "content filtered",
    E.BadRequestError: "bad request",
    E.ModelError: "unusable response",
    E.ProviderUnavailable: "provider unavailable",
    E.ProviderConfigError: "provider misconfigured",
}


def redact(text: str, secret: Secret) -> str:
    """``text`` with ``secret`` and anything shaped like a credential replaced by ``***``
    (see :mod:`router.redaction`: values are redacted, never the words around them)."""
    return _redact(text, secret)


def detached(error: _X) -> _X:
    """``error`` without an exception chain (``__cause__``, ``__context__``): what the SDK or
    HTTP stack raised holds the request (its headers carry the key) and the raw response. Raise
    the result outside any ``except`` block, or Python links the handled exception again."""
    error.__cause__ = None
    error.__context__ = None
    error.__suppress_context__ = False
    return error


def classify(
    status: int | None, code: str | None, etype: str | None, message: str | None
) -> type[E.ProviderError]:
    s = status or 0
    if 300 <= s < 400:  # a redirect, never followed (see redirect_detail)
        return E.ProviderConfigError
    if s in (401, 403):
        return E.AuthenticationError
    if s == 429:
        return E.RateLimitError
    if s == 408:
        return E.ProviderTimeout
    if s >= 500:
        return E.ProviderUnavailable
    if code in _CONTEXT_CODES or (message and _CONTEXT_RE.search(message)):
        return E.ContextWindowExceeded
    if code in _FILTER_CODES or (message and _FILTER_RE.search(message)):
        return E.ContentFiltered
    if 400 <= s < 500:
        return E.BadRequestError
    by_type = _TYPES.get(etype or "") or _TYPES.get(code or "")
    return by_type or E.ModelError


def make_error(
    cls: type[E.ProviderError],
    detail: str,
    *,
    provider: str,
    model: str,
    secret: Secret,
    status: int | None = None,
    retry_after: float | None = None,
    request_id: str | None = None,
    error_type: str | None = None,
    error_code: str | None = None,
) -> E.ProviderError:
    message = redact(f"{_LABELS.get(cls, 'error')}: {detail}", secret)
    return cls(
        message,
        provider=provider,
        model=model,
        status=status,
        retry_after=retry_after,
        request_id=_fact(request_id, secret),
        error_type=_fact(error_type, secret),
        error_code=_fact(error_code, secret),
    )


def _fact(value: str | None, secret: Secret) -> str | None:
    return redact(value, secret)[:200] if value else None


def status_error(
    status: int | None,
    headers: Mapping[str, str] | None,
    body: object,
    *,
    provider: str,
    model: str,
    secret: Secret,
) -> E.ProviderError:
    """The error for a non-2xx answer (or an error object found inside a 2xx stream)."""
    message, code, etype = error_fields(body)
    cls = classify(status, code, etype, message)
    detail = message or (f"HTTP {status} with an empty body" if status else "no details given")
    if status is not None and 300 <= status < 400:
        detail = redirect_detail(status, (headers or {}).get("location"))
    if code and code not in detail:
        detail = f"{detail} [{code}]"
    retry_after = retry_after_from_headers(headers, time.time())
    return make_error(
        cls,
        detail,
        provider=provider,
        model=model,
        secret=secret,
        status=status,
        retry_after=retry_after,
        request_id=request_id_of(headers, body),
        error_type=etype,
        error_code=code,
    )


def redirect_detail(status: int, location: str | None) -> str:
    """Why a redirect is an error: following it would resend the key, the spec's headers and
    the prompt to an address the spec never named. Names where it pointed by origin only (a
    path or query may hold a token)."""
    where = "another address"
    try:
        parts = urlsplit((location or "").strip())
    except ValueError:  # not a URL one could follow anyway
        parts = None
    if parts is not None and parts.scheme and parts.netloc:  # without any user:password@
        where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    elif parts is not None and parts.path:
        where = "another path on the same host"
    return (
        f"the provider answered HTTP {status}, a redirect to {where}; redirects are not "
        "followed (the key, the headers and the prompt would go there): set base_url to the "
        "address that answers"
    )


def bad_body(
    content: bytes, content_type: str, *, provider: str, model: str, secret: Secret
) -> E.ProviderError:
    """ModelError for a 2xx body that is not the JSON we expected."""
    text = content.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, Mapping) and "error" in data:  # some proxies send errors with a 200
        return status_error(None, None, data, provider=provider, model=model, secret=secret)
    what = describe_text(text) if text.strip() else "an empty body"
    detail = f"response is not a valid completion ({content_type or 'no content-type'}): {what}"
    return make_error(E.ModelError, detail, provider=provider, model=model, secret=secret)


#: What parsing a well-formed body of an unexpected shape raises.
MALFORMED = (ValueError, KeyError, IndexError, TypeError, AttributeError)


def bad_event(data: str, exc: BaseException, *, provider: str, model: str) -> E.ModelError:
    what = "is not JSON" if isinstance(exc, ValueError) else f"has an unexpected shape ({exc!r})"
    return E.ModelError(
        redact(f"unusable response: stream event {what}: {data[:200]!r}", None),
        provider=provider,
        model=model,
    )


@dataclass(frozen=True, slots=True)
class SDKErrors:
    """The exception classes of one SDK (plus httpx2's), looked up once when it is imported."""

    timeout: tuple[type[BaseException], ...]
    connection: tuple[type[BaseException], ...]
    status: type[BaseException]
    base: type[BaseException]
    #: What the HTTP stack raises for a base URL it cannot use, and for a header it will not
    #: send: configuration problems that only show at call time (see :func:`foreign`).
    bad_url: tuple[type[BaseException], ...] = ()
    bad_header: tuple[type[BaseException], ...] = ()


def translate(
    exc: BaseException, sdk: SDKErrors, *, provider: str, model: str, secret: Secret
) -> E.ProviderError:
    """The router error for an exception raised by an SDK call or while reading its stream."""
    if isinstance(exc, E.ProviderError):
        return exc
    kw: dict[str, Any] = {"provider": provider, "model": model, "secret": secret}
    if isinstance(exc, sdk.status):
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        body = getattr(exc, "body", None)
        if body is None and response is not None:
            body = _safe_text(response)
        return status_error(getattr(exc, "status_code", None), headers, body, **kw)
    if isinstance(exc, sdk.timeout):
        return make_error(E.ProviderTimeout, "no answer within the request timeout", **kw)
    if isinstance(exc, sdk.connection):
        cause = exc.__cause__ or exc.__context__ or exc
        return make_error(E.ProviderUnavailable, f"connection failed: {describe(cause)}", **kw)
    if isinstance(exc, sdk.base):
        # The SDK refused before sending (e.g. missing credentials), or could not validate.
        cls = E.AuthenticationError if "credential" in str(exc).lower() else E.ModelError
        return make_error(cls, describe(exc), **kw)
    raise TypeError(f"not a provider failure: {exc!r}") from exc


#: Everything but our own errors (and what must never be caught: exits, interrupts,
#: cancellation, MemoryError): what may escape an SDK or HTTP-stack call, to be mapped.
FOREIGN: tuple[type[BaseException], ...] = (
    ArithmeticError,
    AssertionError,
    AttributeError,
    BufferError,
    EOFError,
    ExceptionGroup,
    ImportError,
    LookupError,
    OSError,
    RuntimeError,
    TypeError,
    ValueError,
)


def sdk_errors(
    sdk: Any, httpx2: Any, base: type[BaseException]
) -> tuple[SDKErrors, tuple[type[BaseException], ...]]:
    """The exception classes of ``sdk`` (whose errors derive from ``base``), and everything an
    SDK or HTTP-stack call may raise but our own errors: what an adapter catches, so that
    nothing raw leaves it (see :func:`foreign`)."""
    errors = SDKErrors(
        timeout=(sdk.APITimeoutError, httpx2.TimeoutException),
        connection=(sdk.APIConnectionError, httpx2.HTTPError),
        status=sdk.APIStatusError,
        base=base,
        bad_url=(httpx2.InvalidURL, httpx2.UnsupportedProtocol),
        bad_header=(httpx2.LocalProtocolError,),
    )
    catch = (base, httpx2.HTTPError, httpx2.InvalidURL, httpx2.CookieConflict, *FOREIGN)
    return errors, catch


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc``, what it was raised from or during, and the members of exception groups, in that
    order (each once, at most 16)."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 16:
        e = todo.pop(0)
        if any(e is s for s in seen):
            continue
        seen.append(e)
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        todo.extend(c for c in (e.__cause__, e.__context__) if c is not None)
    return seen


def foreign(
    exc: BaseException, sdk: SDKErrors, *, provider: str, model: str, secret: Secret
) -> E.ProviderError | None:
    """The router error for a failure the SDKs do not classify, or None for one
    :func:`translate` knows. Configuration problems that show only when a request is built (a
    base URL the HTTP stack cannot use; an API key or header value with a line break, a
    control or a non-ASCII character) are :class:`~router.errors.ProviderConfigError`, never
    retried; text that cannot be encoded is a BadRequestError; anything else unexpected (an
    exception group from the connection layer, an OSError...) is ProviderUnavailable. Header
    values are never repeated: they hold keys."""
    if isinstance(exc, (E.ProviderError, sdk.status, *sdk.timeout)):
        return None  # ours already, or the provider answered (or was reached): not config
    kw: dict[str, Any] = {"provider": provider, "model": model, "secret": secret}
    for e in _causes(exc):
        if (sdk.bad_url and isinstance(e, sdk.bad_url)) or (
            isinstance(e, OverflowError) and "port" in str(e)  # asyncio's connect, port > 65535
        ):
            detail = f"its base URL cannot be used ({describe(e)}); fix base_url in the spec"
            return make_error(E.ProviderConfigError, detail, **kw)
        if (sdk.bad_header and isinstance(e, sdk.bad_header) and "header" in str(e).lower()) or (
            isinstance(e, UnicodeEncodeError) and e.encoding not in ("utf-8", "utf8")
        ):
            detail = (
                "an HTTP header cannot be sent: the API key or a header value holds a line "
                "break, a control or a non-ASCII character; check the environment variables "
                "that hold them"
            )
            return make_error(E.ProviderConfigError, detail, **kw)
        if isinstance(e, UnicodeEncodeError):
            detail = "the request holds text that cannot be encoded as UTF-8 (a lone surrogate)"
            return make_error(E.BadRequestError, detail, **kw)
    known = (sdk.base, *sdk.connection)
    if isinstance(exc, known):
        return None
    leaf = exc
    while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
        leaf = leaf.exceptions[0]
    if leaf is not exc and isinstance(leaf, (*known, sdk.status, *sdk.timeout)):
        return translate(leaf, sdk, **kw)
    if isinstance(leaf, OSError):
        return make_error(E.ProviderUnavailable, f"connection failed: {describe(leaf)}", **kw)
    detail = f"unexpected failure in the HTTP client: {describe(leaf)}"
    return make_error(E.ProviderUnavailable, detail, **kw)


def _safe_text(response: Any) -> str | None:
    try:
        text = response.text
    except Exception:  # the body may be unreadable (closed stream); the status still counts
        return None
    return text if isinstance(text, str) else None
