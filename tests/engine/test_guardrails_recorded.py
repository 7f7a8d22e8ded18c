"""What the guardrails found is recorded without the values: per request, counts per guardrail,
kind and outcome in the ledger (memory and SQLite, an older file upgraded), the
``router.request`` event, the metrics, the spans and ``router report``. Requests refused are
recorded as such (no attempts); content logging logs what was sent and the answer as the model
gave it, placeholders and not values."""

from __future__ import annotations

import json
import sqlite3
from io import StringIO
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from router import GuardrailRefused
from router.cli import run as cli_run
from router.sandbox import Sandbox
from router.telemetry import SQLiteLedger
from router.telemetry.ledger import SCHEMA_VERSION
from router.telemetry.records import GuardrailCount

from .helpers import PROVIDERS, MakeRouter

KEY = "sk-proj-Zq7rT2mXv9LkP4wN8bJc"
EMAILS = ("ana@example.com", "bo@example.org")
PROMPT = f"Summarize: write to {EMAILS[0]}, {EMAILS[1]} and again {EMAILS[0]}."

SPEC = (
    PROVIDERS
    + """
models:
  gpt: {provider: oai, id: gpt}
guardrails:
  watch: {type: secrets, action: report}
defaults:
  guardrails: [secrets, pii]
tasks:
  chat: {candidates: [gpt]}
  watched: {candidates: [gpt], guardrails: [watch]}
"""
)
MASKED = GuardrailCount("pii", "email", "masked", 3)
REFUSED = GuardrailCount("secrets", "openai_key", "refused", 1)


def _traffic(router: object) -> None:
    router.complete("chat", prompt=PROMPT)  # type: ignore[attr-defined]
    with pytest.raises(GuardrailRefused):
        router.complete("chat", prompt=f"Why does {KEY} fail?")  # type: ignore[attr-defined]
    router.complete("watched", prompt=f"Keep {KEY} here.")  # type: ignore[attr-defined]
    router.complete("chat", prompt="Hello there.")  # type: ignore[attr-defined]


def test_the_ledger_counts_what_each_request_s_guardrails_found(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC)
    _traffic(router)
    records = list(router.telemetry.ledger.requests())
    assert [(r.outcome, r.guardrails) for r in records] == [
        ("ok", (MASKED,)),
        ("refused", (REFUSED,)),
        ("ok", (GuardrailCount("watch", "openai_key", "reported", 1),)),
        ("ok", ()),
    ]
    refused = records[1]
    assert refused.attempts == () and refused.model is None and refused.task == "chat"
    assert len(sb.requests) == 3  # the refused one sent nothing


def test_the_sqlite_ledger_keeps_them_and_router_report_totals_them(
    make_router: MakeRouter, sb: Sandbox, tmp_path: Path
) -> None:
    ledger = tmp_path / "usage.sqlite"
    router = make_router(SPEC + f"telemetry: {{ledger: {{path: '{ledger}'}}}}\n")
    _traffic(router)
    router.close()

    assert b"@example" not in ledger.read_bytes() and KEY.encode() not in ledger.read_bytes()
    reader = SQLiteLedger(ledger, readonly=True)
    assert [r.guardrails for r in reader.requests()][:2] == [(MASKED,), (REFUSED,)]
    reader.close()
    out, err = StringIO(), StringIO()
    assert cli_run(["report", "--ledger", str(ledger)], out, err) == 0, err.getvalue()
    text = out.getvalue()
    assert "requests: 4  ok 3  failed 0  interrupted 0  refused 1" in text
    assert "guardrails refused: 1 (secrets.openai_key 1)" in text
    assert "guardrails masked: 3 (pii.email 3)" in text
    assert "guardrails reported: 1 (watch.openai_key 1)" in text
    out = StringIO()
    assert cli_run(["report", "--ledger", str(ledger), "--format", "json"], out, err) == 0
    data = json.loads(out.getvalue())
    assert data["requests"]["refused"] == 1
    assert {
        "guardrail": "pii",
        "kind": "email",
        "outcome": "masked",
        "count": 3,
        "requests": 1,
    } in (data["guardrails"])


def test_a_version_3_ledger_is_upgraded_and_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite"
    SQLiteLedger(path).close()
    conn = sqlite3.connect(path)  # back to version 3: no findings table
    conn.executescript("DROP TABLE guardrail_findings; PRAGMA user_version = 3;")
    conn.execute(
        "INSERT INTO requests (task, requested_task, outcome, latency_s, fallbacks, cache_hit, "
        "stream, ts) VALUES ('t', 't', 'ok', 0.1, 0, 0, 0, 1.0)"
    )
    conn.commit()
    conn.close()

    assert [r.guardrails for r in SQLiteLedger(path, readonly=True).requests()] == [()]
    writable = SQLiteLedger(path)
    assert [r.guardrails for r in writable.requests()] == [()]
    writable.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert conn.execute("SELECT count(*) FROM guardrail_findings").fetchone()[0] == 0


def test_the_request_event_and_the_metrics_count_them_without_values(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC + "telemetry: {log: {format: json}, metrics: true}\n")
    with capture_logs() as logs:
        _traffic(router)
    events = [e for e in logs if e["event"] == "router.request"]
    assert [e.get("guardrails") for e in events] == [
        {"pii": {"email": {"masked": 3}}},
        {"secrets": {"openai_key": {"refused": 1}}},
        {"watch": {"openai_key": {"reported": 1}}},
        None,
    ]
    assert events[1]["outcome"] == "refused" and events[1]["attempts"] == 0
    assert not any(v in json.dumps(logs, default=str) for v in (*EMAILS, KEY))
    text = router.telemetry.metrics.exposition().decode()
    for line in (
        'router_guardrail_findings_total{guardrail="pii",kind="email",outcome="masked",'
        'task="chat"} 3.0',
        'router_guardrail_findings_total{guardrail="secrets",kind="openai_key",'
        'outcome="refused",task="chat"} 1.0',
        'router_requests_total{model="",outcome="refused",task="chat"} 1.0',
    ):
        assert line in text
    assert not any(v in text for v in (*EMAILS, KEY))


def test_content_logging_logs_what_was_sent_and_the_answer_as_the_model_gave_it(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC + "telemetry: {log: {format: json, content: true}}\n")
    with capture_logs() as logs:
        answer = router.complete("chat", prompt=PROMPT)
        with pytest.raises(GuardrailRefused):
            router.complete("chat", prompt=f"Why does {KEY} fail?")
    assert EMAILS[0] in answer.content  # the caller has the values back
    ok, refused = [e for e in logs if e["event"] == "router.request"]
    assert "<EMAIL_1>" in ok["prompt"] and "<EMAIL_2>" in ok["prompt"]
    assert "<EMAIL_1>" in ok["response"] and "<EMAIL_2>" in ok["response"]
    assert refused["prompt"] is None and refused["response"] is None
    assert not any(v in json.dumps(logs, default=str) for v in (*EMAILS, KEY))


def test_the_request_span_carries_the_counts(make_router: MakeRouter, sb: Sandbox) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from router.telemetry import Tracing

    router = make_router(SPEC)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    router.telemetry.tracer = Tracing(tracer_provider=provider)
    router.complete("chat", prompt=PROMPT)
    root = next(s for s in exporter.get_finished_spans() if s.name == "router.request")
    assert tuple((root.attributes or {})["router.guardrails"]) == ("pii.email.masked=3",)
