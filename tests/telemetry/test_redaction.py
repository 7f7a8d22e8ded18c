"""The canary: a secret handed to Telemetry never leaves it, whole, in 8-character slices, or
as its SHA-256, through any sink, repr or failure message."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from router.errors import (
    AuthenticationError,
    ProviderUnavailable,
    RateLimitError,
    StreamInterrupted,
)
from router.telemetry import (
    EventLog,
    MemoryLedger,
    RequestRecord,
    SecretRedactor,
    SQLiteLedger,
    Telemetry,
    records_from,
)
from router.telemetry.log import LOGGER_NAME
from router.telemetry.metrics import Metrics
from router.telemetry.tracing import Tracing
from router.types import Attempt, Message, Response, Usage

CANARY = "sk-canary-4f1d9b7e2c8a6035d1e9aa"
OTHER = "ant-canary-0c7e55b2d94a1f68"  # a second key: every configured secret is guarded
SHA = hashlib.sha256(CANARY.encode()).hexdigest()
SLICES = {CANARY[i : i + 8] for i in range(len(CANARY) - 7)}


def leaks(text: str) -> list[str]:
    found = [s for s in SLICES | {OTHER[:8], OTHER[-8:]} if s in text]
    return found + [h for h in (SHA, SHA.upper()) if h in text]


def _err(
    cls: type[ProviderUnavailable] | type[RateLimitError] | type[AuthenticationError],
    message: str,
    model: str = "small",
    provider: str = "oai",
) -> ProviderUnavailable:
    return cls(message, provider=provider, model=model, status=500)  # type: ignore[return-value]


def _records() -> list[RequestRecord]:
    """Success after retries and a fallback, a failure, a cut stream: the canary in error
    texts (whole, a slice, its hash), prompts, answers and even names."""
    retried = (
        Attempt("small", "oai", "error", _err(AuthenticationError, f"bad key {CANARY}"), 0.1),
        Attempt("small", "oai", "error", _err(RateLimitError, f"key ...{CANARY[-8:]}"), 0.1),
        Attempt("big", "ant", "error", _err(ProviderUnavailable, f"digest {SHA}", "big"), 0.1),
        Attempt(f"m-{CANARY}", "ant", "ok", None, 0.5),
    )
    answer = Response(
        content=f"your key is {CANARY}",
        finish_reason="stop",
        usage=Usage(10, 5),
        model=f"m-{CANARY}",
        model_id="x",
        provider="ant",
        cost=0.001,
        latency_s=0.8,
        attempts=retried,
    )
    prompt = [Message("user", f"use {OTHER} please")]
    ok = records_from(retried, task="t", response=answer, content=True, messages=prompt, now=1.0)
    failed = records_from(
        (Attempt("big", "ant", "error", _err(ProviderUnavailable, OTHER.upper() + OTHER), 1),),
        task=f"task-{CANARY[:12]}",
        requested_task=CANARY,
        content=True,
        messages=prompt,
        now=2.0,
    )
    cut_attempts = (Attempt("big", "ant", "error", _err(ProviderUnavailable, "reset"), 0.3),)
    cut = StreamInterrupted(
        f"cut {CANARY}",
        partial_text=f"the key: {CANARY[3:20]}",
        usage=Usage(3, 2),
        model="big",
        provider="ant",
        attempts=cut_attempts,
    )
    interrupted = records_from(
        cut_attempts, task="t", interrupted=cut, stream=True, content=True, now=3.0
    )
    return [ok, failed, interrupted]


class _Spans:
    """Spans exported in memory when the OpenTelemetry SDK is installed (the API alone makes
    no-op spans: nothing to look at, nothing to leak)."""

    def __init__(self) -> None:
        try:
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )
        except ImportError:
            self.exporter = None
            self.tracing = Tracing()
            return
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracing = Tracing(tracer_provider=provider)

    def text(self) -> str:
        if self.exporter is None:
            return ""
        spans = self.exporter.get_finished_spans()
        assert spans
        return json.dumps([json.loads(s.to_json()) for s in spans])


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def lines() -> Iterator[_Lines]:
    logger = logging.getLogger(LOGGER_NAME)
    handler, level = _Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_the_canary_leaves_no_trace(tmp_path: Path, lines: _Lines) -> None:
    assert leaks(f"x{CANARY}x") and leaks(CANARY[5:13]) and leaks(SHA)  # the detector works
    spans = _Spans()
    memory = MemoryLedger()
    telemetry = Telemetry(
        ledger=memory,
        log=EventLog(format="json", include_content=True, redact=lambda s: s),
        metrics=Metrics(),
        tracer=spans.tracing,
        secrets=[CANARY, OTHER],
    )
    sqlite = Telemetry(ledger=SQLiteLedger(tmp_path / "u.sqlite"), secrets=[CANARY, OTHER])
    records = _records()
    assert any(leaks(repr(r)) for r in records)  # the records do carry it
    structlog.contextvars.bind_contextvars(user_token=CANARY)
    try:
        with capture_logs() as captured:
            for r in records:
                telemetry.record(r)
                sqlite.record(r)
        for r in records:
            telemetry.record(r)  # and once more to the stdlib logger, rendered as JSON
    finally:
        structlog.contextvars.clear_contextvars()
    sqlite.close()

    assert len(captured) == 3 * 2 + 3  # six attempts, three requests
    assert len(lines.lines) == len(captured)
    outputs = {
        "captured events": repr(captured),
        "json lines": "\n".join(lines.lines),
        "metrics": telemetry.metrics.exposition().decode(),  # type: ignore[union-attr]
        "memory ledger": repr(list(memory.requests())),
        "sqlite rows": repr(list(SQLiteLedger(tmp_path / "u.sqlite", readonly=True).requests())),
        "sqlite file": b"".join(p.read_bytes() for p in tmp_path.iterdir()).decode("latin-1"),
        "spans": spans.text(),
        "reprs": repr((telemetry, sqlite, telemetry.log, SecretRedactor([CANARY]))),
    }
    for where, text in outputs.items():
        assert leaks(text) == [], where
    # Scrubbed, not dropped: the events still say what happened.
    assert [e["error"] for e in captured if e.get("error")][:3] == ["[redacted]"] * 3
    assert any(e.get("user_token") == "[redacted]" for e in captured)
    assert any(e.get("response") == "[redacted]" for e in captured)
    assert "user: " not in outputs["memory ledger"]  # no content in the ledger at all


def test_a_failing_sink_does_not_leak_through_its_error(caplog: pytest.LogCaptureFixture) -> None:
    class Boom:
        def record(self, request: RequestRecord) -> None:
            raise RuntimeError(f"could not ship {request.prompt} {CANARY}")

        def close(self) -> None:
            raise RuntimeError(CANARY)

    telemetry = Telemetry(metrics=Boom(), tracer=Boom(), secrets=[CANARY])
    with caplog.at_level(logging.DEBUG):
        for r in _records():
            telemetry.record(r)
        telemetry.close()
    assert telemetry.dropped == {"metrics": 4, "tracer": 4}
    text = "\n".join(
        f"{rec.getMessage()} {rec.exc_info!r} {rec.exc_text}" for rec in caplog.records
    )
    assert "metrics" in text
    assert leaks(text) == []


def test_redactor_forms() -> None:
    red = SecretRedactor([CANARY, "short", ""])
    assert red.scrub({"a": [f"x{CANARY}", ("ok", SHA.upper())], CANARY: 1}) == {
        "a": ["[redacted]", ("ok", "[redacted]")],
        "[redacted]": 1,
    }
    assert red.scrub("a short word") == "[redacted]"  # short secrets match whole
    assert red.scrub("shor") == "shor"
    assert red.scrub(RuntimeError("x", ValueError(CANARY))) == "[redacted]"
    clean = {"a": ["x"]}
    assert red.scrub(clean) is clean  # nothing rebuilt when nothing leaks
    assert not SecretRedactor([]) and SecretRedactor([]).scrub(CANARY) == CANARY
    assert "short" not in repr(red) and leaks(repr(red)) == []
