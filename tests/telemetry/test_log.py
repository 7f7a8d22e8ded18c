"""EventLog: one structlog event per attempt and per request, content only when opted in."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from router.telemetry import EventLog
from router.telemetry.log import LOGGER_NAME

from .helpers import attempt, request


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.levels: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.levels.append(record.levelname)


@pytest.fixture
def lines() -> Iterator[_Lines]:
    """The rendered lines the 'router' stdlib logger receives (at INFO)."""
    logger = logging.getLogger(LOGGER_NAME)
    handler, level = _Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


FALLBACK = request(
    attempt(model="small", outcome="error", error_kind="rate_limit", status=429, error="slow down"),
    attempt(
        model="big",
        provider="ant",
        depth=1,
        input_tokens=12,
        output_tokens=3,
        cached_input_tokens=4,
        cost=0.5,
        latency_s=0.25,
    ),
    prompt="user: hello, I am Ada Lovelace",
    response="Hello Ada",
)

ATTEMPT_KEYS = {
    "event", "request_id", "task", "model", "provider", "outcome", "error_kind", "status", "error",
    "input_tokens", "output_tokens", "cached_input_tokens", "cost", "latency_ms", "depth",
    "cache_hit", "level", "timestamp", "log_level", "deployment", "cache_write_tokens",
    "reasoning_tokens", "cache_savings",
}  # fmt: skip
REQUEST_KEYS = {
    "event", "request_id", "task", "requested_task", "outcome", "model", "provider", "attempts",
    "fallbacks", "input_tokens", "output_tokens", "cost", "latency_ms", "cache_hit", "stream",
    "level", "timestamp", "log_level", "deployment",
}  # fmt: skip


def test_one_event_per_attempt_and_one_per_request() -> None:
    with capture_logs() as logs:
        EventLog().record(FALLBACK)
    assert [e["event"] for e in logs] == ["router.attempt", "router.attempt", "router.request"]
    first, second, req = logs
    assert set(first) == set(second) == ATTEMPT_KEYS
    assert set(req) == REQUEST_KEYS
    assert first["request_id"] == second["request_id"] == req["request_id"]
    assert {k: first[k] for k in ("model", "outcome", "error_kind", "status", "error")} == {
        "model": "small",
        "outcome": "error",
        "error_kind": "rate_limit",
        "status": 429,
        "error": "slow down",
    }
    assert first["log_level"] == "warning" and second["log_level"] == "info"
    assert {k: second[k] for k in ("depth", "input_tokens", "cached_input_tokens", "cost")} == {
        "depth": 1,
        "input_tokens": 12,
        "cached_input_tokens": 4,
        "cost": 0.5,
    }
    assert second["latency_ms"] == 250.0
    assert {k: req[k] for k in ("outcome", "model", "attempts", "fallbacks", "input_tokens")} == {
        "outcome": "ok",
        "model": "big",
        "attempts": 2,
        "fallbacks": 1,
        "input_tokens": 12,
    }


def test_failed_request_is_a_warning() -> None:
    failed = request(attempt(outcome="error"))
    with capture_logs() as logs:
        EventLog().record(failed)
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("router.attempt", "warning"),
        ("router.request", "warning"),
    ]
    assert logs[-1]["outcome"] == "failed" and logs[-1]["model"] is None


def test_content_off_by_default() -> None:
    with capture_logs() as logs:
        EventLog().record(FALLBACK)
    assert all("prompt" not in e and "response" not in e for e in logs)
    assert not any("Ada" in repr(e) for e in logs)


def test_content_on_goes_through_the_redaction_hook() -> None:
    log = EventLog(include_content=True, redact=lambda s: s.replace("Ada", "<name>"))
    with capture_logs() as logs:
        log.record(FALLBACK)
    assert logs[-1]["prompt"] == "user: hello, I am <name> Lovelace"
    assert logs[-1]["response"] == "Hello <name>"


def test_content_on_without_a_hook_is_verbatim() -> None:
    with capture_logs() as logs:
        EventLog(include_content=True).record(FALLBACK)
    assert logs[-1]["response"] == "Hello Ada"


def test_a_failing_redaction_hook_drops_the_text() -> None:
    def broken(text: str) -> str:
        raise RuntimeError(text)

    with capture_logs() as logs:
        EventLog(include_content=True, redact=broken).record(FALLBACK)
    assert logs[-1]["prompt"] == logs[-1]["response"] == "[redaction failed]"


def test_capture_logs_processors_apply() -> None:
    def tag(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event["tagged"] = True
        return event

    with capture_logs(processors=[tag]) as logs:
        EventLog().record(FALLBACK)
    assert all(e["tagged"] for e in logs)


def test_bound_contextvars_are_merged() -> None:
    structlog.contextvars.bind_contextvars(tenant="acme")
    try:
        with capture_logs() as logs:
            EventLog().record(FALLBACK)
    finally:
        structlog.contextvars.clear_contextvars()
    assert all(e["tenant"] == "acme" for e in logs)


def test_json_lines_to_the_router_logger(lines: _Lines) -> None:
    EventLog(format="json").record(FALLBACK)
    events = [json.loads(line) for line in lines.lines]
    assert [e["event"] for e in events] == ["router.attempt", "router.attempt", "router.request"]
    assert lines.levels == ["WARNING", "INFO", "INFO"]
    assert events[1]["model"] == "big" and events[1]["level"] == "info"
    assert events[2]["cost"] == 0.5 and "timestamp" in events[2]


def test_console_lines(lines: _Lines) -> None:
    EventLog(format="console").record(FALLBACK)
    assert len(lines.lines) == 3
    assert "router.request" in lines.lines[2] and "model=big" in lines.lines[2]


def test_silent_when_nobody_listens(lines: _Lines) -> None:
    logging.getLogger(LOGGER_NAME).setLevel(logging.ERROR)
    EventLog().record(FALLBACK)
    assert lines.lines == []


def test_warning_level_gets_only_failures(lines: _Lines) -> None:
    logging.getLogger(LOGGER_NAME).setLevel(logging.WARNING)
    EventLog(format="json").record(FALLBACK)
    assert [json.loads(line)["outcome"] for line in lines.lines] == ["error"]


def test_global_structlog_configuration_is_left_alone() -> None:
    before = structlog.get_config()
    EventLog(format="json")
    assert structlog.get_config() == before


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="console' or 'json"):
        EventLog(format="xml")  # type: ignore[arg-type]
