"""Structured events: one ``router.attempt`` per attempt and one ``router.request`` per request.

Events go through structlog to the stdlib logger ``"router"``, with the router's own processor
chain; the global structlog configuration is left alone, and nothing is printed unless the
application configures logging (the ``"router"`` logger has a NullHandler, as libraries' do).
The chain merges structlog's contextvars (so ids the application binds appear on our events),
adds the level and an ISO timestamp, redacts secrets, and renders the event as one line of
JSON or console text.

Secrets are always redacted: any field holding a configured secret, an 8-character slice of
one, or its SHA-256 becomes ``"[redacted]"``. Prompt and response text are left out unless
``include_content=True``, and then pass through the ``redact`` hook first (a hook that raises
drops the text).

Testing: inside ``structlog.testing.capture_logs()``, events are handed, after redaction, to
the capture (whatever the ``"router"`` logger's level), so the router's logging can be tested
like any structlog code::

    with structlog.testing.capture_logs() as logs:
        telemetry.record(request)
    assert [e["event"] for e in logs] == ["router.attempt", "router.request"]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any, Literal

import structlog
from structlog.testing import LogCapture

from router.telemetry.records import AttemptRecord, RequestRecord
from router.telemetry.redact import SecretRedactor

__all__ = ["ATTEMPT_EVENT", "LOGGER_NAME", "REQUEST_EVENT", "EventLog"]

LOGGER_NAME = "router"
ATTEMPT_EVENT = "router.attempt"
REQUEST_EVENT = "router.request"
REDACTION_FAILED = "[redaction failed]"

_stdlib_logger = logging.getLogger(LOGGER_NAME)
if not any(isinstance(h, logging.NullHandler) for h in _stdlib_logger.handlers):
    _stdlib_logger.addHandler(logging.NullHandler())


def _capturing() -> bool:
    return any(isinstance(p, LogCapture) for p in structlog.get_config()["processors"])


class HonourCapture:
    """Hands the event to structlog's global processors while ``capture_logs()`` is active
    (its LogCapture then drops it after recording); otherwise passes it on unchanged."""

    __slots__ = ()

    def __call__(
        self, logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        processors = list(structlog.get_config()["processors"])
        if not any(isinstance(p, LogCapture) for p in processors):
            return event_dict
        result: Any = event_dict
        for processor in processors:
            result = processor(logger, method_name, result)
        return result  # type: ignore[no-any-return]


class EventLog:
    """Emits the events of each request through structlog (see the module docstring)."""

    __slots__ = ("_logger", "_redactor", "format", "include_content", "redact")

    def __init__(
        self,
        format: Literal["console", "json"] = "console",
        include_content: bool = False,
        redact: Callable[[str], str] | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        if format not in ("console", "json"):
            raise ValueError(f"log format must be 'console' or 'json', not {format!r}")
        self.format = format
        self.include_content = include_content
        self.redact = redact
        self._redactor = secrets if isinstance(secrets, SecretRedactor) else SecretRedactor(secrets)
        renderer: Any = (
            structlog.processors.JSONRenderer()
            if format == "json"
            else structlog.dev.ConsoleRenderer(colors=False)
        )
        self._logger = structlog.wrap_logger(
            _stdlib_logger,
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                self._redactor,
                HonourCapture(),
                renderer,
            ],
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=True,
        )

    @property
    def redactor(self) -> SecretRedactor:
        """The secret-redaction processor of this log's chain (``redactor.add(secrets)``)."""
        return self._redactor

    def __repr__(self) -> str:
        return f"EventLog(format={self.format!r}, include_content={self.include_content!r})"

    def record(self, request: RequestRecord) -> None:
        """One event per attempt, then one for the request."""
        info = _capturing() or _stdlib_logger.isEnabledFor(logging.INFO)
        warning = info or _stdlib_logger.isEnabledFor(logging.WARNING)
        if not warning:
            return  # nobody listens: build nothing
        request_id = os.urandom(8).hex()
        for attempt in request.attempts:
            if attempt.outcome == "error":
                self._logger.warning(ATTEMPT_EVENT, **attempt_event(attempt, request_id))
            elif info:
                self._logger.info(ATTEMPT_EVENT, **attempt_event(attempt, request_id))
        ok = request.outcome == "ok"
        if ok and not info:
            return
        event = request_event(request, request_id)
        if self.include_content:
            event["prompt"] = self._content(request.prompt)
            event["response"] = self._content(request.response)
        (self._logger.info if ok else self._logger.warning)(REQUEST_EVENT, **event)

    def _content(self, text: str | None) -> str | None:
        if text is None or self.redact is None:
            return text
        try:
            return self.redact(text)
        except Exception:
            return REDACTION_FAILED

    def close(self) -> None:
        pass


def attempt_event(a: AttemptRecord, request_id: str) -> dict[str, Any]:
    """The fields of a ``router.attempt`` event."""
    return {
        "request_id": request_id,
        "task": a.task,
        "model": a.model,
        "provider": a.provider,
        "deployment": a.deployment,
        "outcome": a.outcome,
        "error_kind": a.error_kind,
        "status": a.status,
        "error": a.error,
        "input_tokens": a.input_tokens,
        "output_tokens": a.output_tokens,
        "cached_input_tokens": a.cached_input_tokens,
        "cache_write_tokens": a.cache_write_tokens,
        "reasoning_tokens": a.reasoning_tokens,
        "cost": a.cost,
        "cache_savings": a.cache_savings,
        "latency_ms": round(a.latency_s * 1000, 3),
        "depth": a.depth,
        "cache_hit": a.cache_hit,
    }


def request_event(r: RequestRecord, request_id: str) -> dict[str, Any]:
    """The fields of a ``router.request`` event (content added by the EventLog if opted in);
    ``guardrails`` (when they found something): ``{guardrail: {kind: {outcome: count}}}``."""
    event: dict[str, Any] = {
        "request_id": request_id,
        "task": r.task,
        "requested_task": r.requested_task,
        "outcome": r.outcome,
        "model": r.model,
        "provider": r.provider,
        "deployment": r.deployment,
        "attempts": len(r.attempts),
        "fallbacks": r.fallbacks,
        "input_tokens": r.input_tokens,
        "output_tokens": r.output_tokens,
        "cost": r.cost,
        "latency_ms": round(r.latency_s * 1000, 3),
        "cache_hit": r.cache_hit,
        "stream": r.stream,
    }
    if r.guardrails:
        found: dict[str, dict[str, dict[str, int]]] = {}
        for g in r.guardrails:
            found.setdefault(g.guardrail, {}).setdefault(g.kind, {})[g.outcome] = g.count
        event["guardrails"] = found
    return event
