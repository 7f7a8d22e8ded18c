"""What a provider's failed answer says, read the same way for every provider: how long to
wait (``retry-after-ms``, ``Retry-After`` as seconds or an HTTP date), the provider's id for
the request, and its error message, code and type (either vendor's body shape, or a short
account of a non-JSON body)."""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Mapping
from datetime import UTC
from typing import Any

__all__ = [
    "describe_text",
    "error_fields",
    "parse_retry_after",
    "request_id_of",
    "retry_after_from_headers",
]


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP-date (relative to
    ``now``, a Unix time). None when it is neither; a date in the past gives 0."""
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" parses naive; HTTP dates are always GMT
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def retry_after_from_headers(headers: Mapping[str, str] | None, now: float) -> float | None:
    """``retry-after-ms`` (OpenAI's, more precise) else ``retry-after``; names compared without
    regard to case, even for a plain dict."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        value = parse_retry_after(ms, now)
        if value is not None:
            return value / 1000.0
    ra = lowered.get("retry-after")
    return parse_retry_after(ra, now) if ra is not None else None


def request_id_of(headers: Mapping[str, str] | None, body: object) -> str | None:
    """The provider's id for the request: OpenAI's ``x-request-id``, Anthropic's
    ``request-id`` header, Bedrock's ``x-amzn-RequestId``, Azure's ``apim-request-id``, or a
    ``request_id`` in the error body (Anthropic's, in streams)."""
    if headers:
        for name in ("x-request-id", "request-id", "x-amzn-requestid", "apim-request-id"):
            value = headers.get(name)
            if value:
                return str(value)[:200]
    if isinstance(body, Mapping):
        value = body.get("request_id")
        if isinstance(value, str) and value:
            return value[:200]
    return None


def error_fields(body: object) -> tuple[str | None, str | None, str | None]:
    """(message, code, type) from an error body in either vendor's shape, or from raw text."""
    if isinstance(body, Mapping):
        err: Any = body.get("error", body)
        if isinstance(err, str):
            return err, None, None
        if isinstance(err, Mapping):
            details = err.get("details")
            code = err.get("code")
            if code is None and isinstance(details, Mapping):
                code = details.get("error_code")
            msg = err.get("message")
            etype = err.get("type")
            return (
                msg if isinstance(msg, str) else None,
                str(code) if code is not None else None,
                etype if isinstance(etype, str) else None,
            )
        return None, None, None
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str) and body.strip():
        return describe_text(body), None, None
    return None, None, None


def describe_text(text: str) -> str:
    """A short account of a non-JSON body: the title of an HTML page, or its first 200 chars."""
    text = text.strip()
    if text[:1] == "<":
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        page = f" titled {title.group(1).strip()!r}" if title else ""
        return f"got an HTML page{page} instead of JSON"
    return repr(text[:200]) + ("..." if len(text) > 200 else "")
