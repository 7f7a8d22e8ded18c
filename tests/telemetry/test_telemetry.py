"""Telemetry: fan-out to the sinks, configuration, and a request path it never breaks."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from router.telemetry import (
    EventLog,
    MemoryLedger,
    RequestRecord,
    SQLiteLedger,
    Telemetry,
    summarize,
)
from router.telemetry.metrics import Metrics
from router.telemetry.tracing import Tracing

from .helpers import attempt, request


class Recorder:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self.closed = False

    def record(self, request: RequestRecord) -> None:
        self.records.append(request)

    def close(self) -> None:
        self.closed = True


class Broken:
    def add(self, request: RequestRecord) -> None:
        raise OSError("disk full")

    def requests(self, since: float | None = None) -> Any:
        raise OSError("disk full")

    attempts = requests

    def record(self, request: RequestRecord) -> None:
        raise RuntimeError("sink down")

    def set_breaker(self, model: str, state: object) -> None:
        raise RuntimeError("sink down")

    def close(self) -> None:
        raise RuntimeError("sink down")


def test_every_sink_gets_the_record() -> None:
    ledger, metrics, tracer = MemoryLedger(), Recorder(), Recorder()
    telemetry = Telemetry(ledger=ledger, log=EventLog(), metrics=metrics, tracer=tracer)
    rec = request()
    with capture_logs() as logs:
        telemetry.record(rec)
    assert list(ledger.requests()) == [rec]
    assert metrics.records == tracer.records == [rec]
    assert [e["event"] for e in logs] == ["router.attempt", "router.request"]
    telemetry.close()
    assert metrics.closed and tracer.closed


def test_record_is_passed_through_untouched_when_nothing_leaks() -> None:
    sink = Recorder()
    rec = request(attempt(error="fine"))
    Telemetry(metrics=sink, secrets=["sk-some-long-secret-value"]).record(rec)
    assert sink.records[0] is rec


def test_no_sinks_is_fine() -> None:
    Telemetry().record(request())
    Telemetry().close()


def test_failing_sinks_never_raise_and_the_others_still_get_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = Recorder()
    telemetry = Telemetry(ledger=Broken(), metrics=Broken(), tracer=good)
    with caplog.at_level(logging.WARNING, logger="router.telemetry"):
        for _ in range(3):
            telemetry.record(request())
        telemetry.set_breaker("small", "open")
        telemetry.close()
    assert len(good.records) == 3
    assert telemetry.dropped == {"ledger": 4, "metrics": 5}
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "telemetry sink 'ledger' failed; its records are dropped",
        "telemetry sink 'metrics' failed; its records are dropped",
    ]  # once per sink, and without the exception's text


def test_failing_log_sink_never_raises() -> None:
    def boom(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        raise RuntimeError("processor down")

    telemetry = Telemetry(log=EventLog())
    with capture_logs(processors=[boom]):
        telemetry.record(request())
    assert telemetry.dropped == {"log": 1}


def test_set_breaker_reaches_the_metrics() -> None:
    metrics = Metrics()
    Telemetry(metrics=metrics).set_breaker("small", "open")
    assert b'router_breaker_open{model="small"} 1.0' in metrics.exposition()
    Telemetry().set_breaker("small", "open")  # no metrics: nothing to do


def test_wants_content() -> None:
    assert not Telemetry().wants_content
    assert not Telemetry(log=EventLog()).wants_content
    assert Telemetry(log=EventLog(include_content=True)).wants_content


def test_from_config_defaults() -> None:
    t = Telemetry.from_config({})
    assert isinstance(t.ledger, MemoryLedger)
    assert isinstance(t.log, EventLog) and t.log.format == "console"
    assert not t.log.include_content
    assert t.metrics is None
    assert isinstance(t.tracer, Tracing)  # auto: opentelemetry-api is installed
    assert repr(Telemetry.from_config(None)) == repr(t)


def test_from_config_everything(tmp_path: Path) -> None:
    hook = str.upper
    t = Telemetry.from_config(
        {
            "ledger": {"path": str(tmp_path / "usage.sqlite")},
            "log": {"format": "json", "content": True},
            "metrics": True,
            "tracing": False,
        },
        secrets=["sk-a-long-secret-key"],
        redact=hook,
    )
    assert isinstance(t.ledger, SQLiteLedger)
    assert t.log is not None and t.log.format == "json" and t.log.include_content
    assert t.log.redact is hook
    assert isinstance(t.metrics, Metrics)
    assert t.tracer is None
    assert t.wants_content
    assert "sk-a-long" not in repr(t)
    t.record(request())
    t.close()
    assert summarize(SQLiteLedger(tmp_path / "usage.sqlite", readonly=True)).requests == 1


def test_from_config_switches_off() -> None:
    t = Telemetry.from_config({"ledger": None, "log": False, "metrics": False, "tracing": False})
    assert (t.ledger, t.log, t.metrics, t.tracer) == (None, None, None, None)
    bounded = Telemetry.from_config({"ledger": {"max_records": 5}}).ledger
    assert isinstance(bounded, MemoryLedger) and repr(bounded) == "MemoryLedger(0/5 requests)"


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"ledgr": "memory"}, "unknown key(s) ledgr"),
        ({"ledger": "disk"}, "telemetry.ledger: expected 'memory'"),
        ({"ledger": {"path": ""}}, "telemetry.ledger.path"),
        ({"ledger": {"path": "a", "max_records": 3}}, "telemetry.ledger: expected"),
        ({"ledger": {"max_records": 0}}, "max_records: expected a positive integer"),
        ({"log": "json"}, "telemetry.log: expected"),
        ({"log": {"format": "xml"}}, "telemetry.log.format"),
        ({"log": {"colour": True}}, "telemetry.log: unknown key(s) colour"),
        ({"log": {"content": "yes"}}, "telemetry.log.content"),
        ({"metrics": "yes"}, "telemetry.metrics"),
        ({"tracing": 1}, "telemetry.tracing"),
    ],
)
def test_from_config_errors(config: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError) as info:
        Telemetry.from_config(config)
    assert words in str(info.value)


def test_record_is_cheap() -> None:
    """The default sinks (memory ledger, a log nobody listens to) with a secret configured:
    well under a millisecond a request, so the request path does not feel it."""
    import time

    t = Telemetry.from_config({"tracing": False}, secrets=["sk-" + "x1y2z3" * 8])
    rec = request(attempt(outcome="error", error="upstream 503"), attempt(model="big", depth=1))
    start = time.perf_counter()
    for _ in range(2000):
        t.record(rec)
    assert (time.perf_counter() - start) / 2000 < 0.001
