"""Telemetry: a usage ledger, structured events, Prometheus metrics and OpenTelemetry spans.

The engine builds one :class:`RequestRecord` per request (:func:`records_from`) and hands it to
:meth:`Telemetry.record`, which scrubs secrets from it once and fans it out to the configured
sinks::

    Telemetry
    ├── ledger   Ledger: MemoryLedger (bounded) or SQLiteLedger (file)    -> router report
    ├── log      EventLog: structlog events router.attempt / router.request
    ├── metrics  Metrics: prometheus-client counters, histogram, breaker gauge (optional)
    └── tracer   Tracing: OpenTelemetry spans (optional)

A failing sink never reaches the request: its error is logged (as a warning on the
``router.telemetry`` logger, once per sink) and counted in :attr:`Telemetry.dropped`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from router.telemetry.ledger import Ledger, LedgerError, MemoryLedger, SQLiteLedger
from router.telemetry.metrics import Metrics
from router.telemetry.records import AttemptRecord, RequestRecord, records_from, render_prompt
from router.telemetry.redact import REDACTED, SecretRedactor
from router.telemetry.report import UsageReport, parse_since, summarize
from router.telemetry.report_format import format_table, to_json
from router.telemetry.tracing import Tracing, tracing_available

if TYPE_CHECKING:
    # structlog (and, where installed, the rich it pulls in) costs ~100 ms to import: it is
    # loaded only when a spec turns the event log on, at construction, never by `import router`.
    from router.telemetry.log import EventLog


def __getattr__(name: str) -> Any:
    if name == "EventLog":
        from router.telemetry.log import EventLog

        return EventLog
    raise AttributeError(f"module 'router.telemetry' has no attribute {name!r}")


__all__ = [
    "REDACTED",
    "AttemptRecord",
    "EventLog",
    "Ledger",
    "LedgerError",
    "MemoryLedger",
    "Metrics",
    "RequestRecord",
    "SQLiteLedger",
    "SecretRedactor",
    "Sink",
    "Telemetry",
    "Tracing",
    "UsageReport",
    "format_table",
    "parse_since",
    "records_from",
    "render_prompt",
    "summarize",
    "to_json",
    "tracing_available",
]

_log = logging.getLogger("router.telemetry")
CONFIG_KEYS = frozenset({"ledger", "log", "metrics", "tracing"})


class Sink(Protocol):
    """What the log, metrics and tracer have in common."""

    def record(self, request: RequestRecord) -> None: ...

    def close(self) -> None: ...


class Telemetry:
    """Fans each request's record out to the ledger, the event log, the metrics and the
    tracer (each optional). ``secrets`` (the resolved API keys) are kept only to redact them;
    :meth:`record` replaces every string of the record that holds one (or a slice or hash of
    one) with ``"[redacted]"`` before any sink sees it."""

    __slots__ = ("_dropped", "_lock", "_redactor", "_warned", "ledger", "log", "metrics", "tracer")

    def __init__(
        self,
        *,
        ledger: Ledger | None = None,
        log: EventLog | None = None,
        metrics: Sink | None = None,
        tracer: Sink | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.ledger = ledger
        self.log = log
        self.metrics = metrics
        self.tracer = tracer
        secrets = tuple(secrets)
        self._redactor = SecretRedactor(secrets)
        if log is not None:
            # Events also carry what the application binds in structlog's contextvars, which
            # only the log's own processor sees.
            log.redactor.add(secrets)
        self._dropped: dict[str, int] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        sinks = [
            f"{name}={sink!r}"
            for name, sink in (
                ("ledger", self.ledger),
                ("log", self.log),
                ("metrics", self.metrics),
                ("tracer", self.tracer),
            )
            if sink is not None
        ]
        return f"Telemetry({', '.join(sinks)})"

    @property
    def wants_content(self) -> bool:
        """True when prompt and response text should be put on records (content logging is
        opted in); otherwise the engine should not render them at all."""
        return self.log is not None and self.log.include_content

    @property
    def dropped(self) -> dict[str, int]:
        """Records each sink failed to take, by sink name."""
        return dict(self._dropped)

    def record(self, request: RequestRecord) -> None:
        """Hand one request's record to every sink. Never raises."""
        try:
            request = self._scrub(request)
        except Exception:  # pragma: no cover - scrubbing plain strings does not fail
            self._failed("redaction")
            return
        if self.ledger is not None:
            try:
                self.ledger.add(request)
            except Exception:
                self._failed("ledger")
        for name, sink in (("log", self.log), ("metrics", self.metrics), ("tracer", self.tracer)):
            if sink is not None:
                try:
                    sink.record(request)
                except Exception:
                    self._failed(name)

    def _failed(self, name: str) -> None:
        # The exception's text is not logged: it could quote the record it choked on.
        with self._lock:
            self._dropped[name] = self._dropped.get(name, 0) + 1
            first = name not in self._warned
            self._warned.add(name)
        if first:
            _log.warning("telemetry sink %r failed; its records are dropped", name)

    def _scrub(self, r: RequestRecord) -> RequestRecord:
        red = self._redactor
        if not red:
            return r
        attempts = tuple(
            a
            if not any(red.leaks(s) for s in (a.task, a.model, a.provider, a.error or ""))
            else replace(
                a,
                task=red.text(a.task),
                model=red.text(a.model),
                provider=red.text(a.provider),
                error_kind=None if a.error_kind is None else red.text(a.error_kind),
                error=None if a.error is None else red.text(a.error),
            )
            for a in r.attempts
        )
        texts = (r.task, r.requested_task, r.model, r.provider, r.prompt, r.response)
        if all(x is y for x, y in zip(attempts, r.attempts, strict=True)) and not any(
            s is not None and red.leaks(s) for s in texts
        ):
            return r

        def clean(s: str | None) -> str | None:
            return None if s is None else red.text(s)

        return replace(
            r,
            task=red.text(r.task),
            requested_task=red.text(r.requested_task),
            model=clean(r.model),
            provider=clean(r.provider),
            prompt=clean(r.prompt),
            response=clean(r.response),
            attempts=attempts,
        )

    def set_breaker(self, model: str, state: str | bool) -> None:
        """Publish a circuit breaker's state to the metrics, if any. Never raises."""
        set_breaker: Callable[[str, str | bool], None] | None = getattr(
            self.metrics, "set_breaker", None
        )
        if set_breaker is not None:
            try:
                set_breaker(model, state)
            except Exception:
                self._failed("metrics")

    def close(self) -> None:
        """Flush and close every sink (the SQLite ledger writes its pending batch)."""
        for name, sink in (
            ("ledger", self.ledger),
            ("log", self.log),
            ("metrics", self.metrics),
            ("tracer", self.tracer),
        ):
            if sink is not None:
                try:
                    sink.close()
                except Exception:
                    self._failed(name)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any] | None = None,
        *,
        secrets: Iterable[str] = (),
        redact: Callable[[str], str] | None = None,
    ) -> Telemetry:
        """Build from the spec's ``telemetry`` mapping (every key optional)::

            ledger:  memory (default) | {path: usage.sqlite} | {max_records: 1000} | null
            log:     {format: console|json, content: false} (default console) | true | null
            metrics: false (default) | true
            tracing: auto (default: on when opentelemetry-api is installed) | true | false

        ``secrets`` are the resolved API keys (used only to redact them); ``redact`` is the
        hook applied to prompt and response text when ``log.content`` is true. Raises
        ValueError for a malformed mapping, ImportError when metrics or tracing are asked for
        and their package is missing.
        """
        config = {} if config is None else config
        unknown = sorted(set(config) - CONFIG_KEYS)
        if unknown:
            raise ValueError(
                f"telemetry: unknown key(s) {', '.join(unknown)}; "
                f"expected {', '.join(sorted(CONFIG_KEYS))}"
            )
        secrets = tuple(secrets)
        return cls(
            ledger=_ledger_from(config.get("ledger", "memory")),
            log=_log_from(config.get("log", True), secrets, redact),
            metrics=_metrics_from(config.get("metrics", False)),
            tracer=_tracing_from(config.get("tracing", "auto")),
            secrets=secrets,
        )


def _ledger_from(value: Any) -> Ledger | None:
    if value is None or value is False:
        return None
    if value == "memory" or value is True:
        return MemoryLedger()
    if isinstance(value, Mapping):
        extra = sorted(set(value) - {"path", "max_records"})
        if extra or ("path" in value and "max_records" in value):
            raise ValueError(
                "telemetry.ledger: expected {path: FILE} or {max_records: N}, "
                f"got keys {', '.join(sorted(value))}"
            )
        if "path" in value:
            if not isinstance(value["path"], str) or not value["path"]:
                raise ValueError("telemetry.ledger.path: expected a file name")
            return SQLiteLedger(value["path"])
        n = value.get("max_records", 10_000)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError("telemetry.ledger.max_records: expected a positive integer")
        return MemoryLedger(n)
    raise ValueError(f"telemetry.ledger: expected 'memory', {{path: FILE}} or null, got {value!r}")


def _log_from(
    value: Any, secrets: tuple[str, ...], redact: Callable[[str], str] | None
) -> EventLog | None:
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise ValueError(f"telemetry.log: expected {{format: ..., content: ...}}, got {value!r}")
    extra = sorted(set(value) - {"format", "content"})
    if extra:
        raise ValueError(f"telemetry.log: unknown key(s) {', '.join(extra)}")
    fmt = value.get("format", "console")
    if fmt not in ("console", "json"):
        raise ValueError(f"telemetry.log.format: expected console or json, got {fmt!r}")
    content = value.get("content", False)
    if not isinstance(content, bool):
        raise ValueError("telemetry.log.content: expected true or false")
    from router.telemetry.log import EventLog

    return EventLog(format=fmt, include_content=content, redact=redact, secrets=secrets)


def _metrics_from(value: Any) -> Sink | None:
    if not isinstance(value, bool):
        raise ValueError(f"telemetry.metrics: expected true or false, got {value!r}")
    return Metrics() if value else None


def _tracing_from(value: Any) -> Sink | None:
    if value is not True and value is not False and value != "auto":
        raise ValueError(f"telemetry.tracing: expected true, false or auto, got {value!r}")
    if value is False or (value == "auto" and not tracing_available()):
        return None
    return Tracing()
