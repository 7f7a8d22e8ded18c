"""summarize, format_table, to_json and parse_since on constructed records: exact numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from router.telemetry import MemoryLedger, format_table, parse_since, summarize, to_json
from router.telemetry.report import percentile

from .helpers import T0, attempt, request


def _ledger() -> MemoryLedger:
    """Four requests over two tasks, three models, two providers."""
    ledger = MemoryLedger()
    # summarize: small fails twice (one sent error, one local refusal), big answers.
    ledger.add(
        request(
            attempt(model="small", outcome="error", latency_s=0.5),
            attempt(model="small", outcome="skipped", error_kind="rate_limit", latency_s=0.0),
            attempt(
                model="big",
                provider="ant",
                depth=1,
                input_tokens=1000,
                output_tokens=200,
                cost=0.25,
                latency_s=2.0,
            ),
        )
    )
    # summarize: small answers at once.
    ledger.add(
        request(attempt(input_tokens=100, output_tokens=10, cost=0.125, latency_s=1.0), ts=T0 + 10)
    )
    # translate: local model with no price, then a cache hit.
    ledger.add(
        request(
            attempt(
                task="translate",
                model="local",
                provider="ollama",
                input_tokens=50,
                output_tokens=50,
                cost=None,
                latency_s=4.0,
                ts=T0 + 20,
            )
        )
    )
    ledger.add(
        request(
            attempt(
                task="translate",
                model="big",
                provider="ant",
                cost=0.0,
                latency_s=0.01,
                cache_hit=True,
                ts=T0 + 30,
            )
        )
    )
    # translate: every model failed.
    ledger.add(
        request(
            attempt(task="translate", model="big", provider="ant", outcome="error", ts=T0 + 40),
            attempt(task="translate", model="small", outcome="error", depth=1, ts=T0 + 41),
        )
    )
    return ledger


def test_totals() -> None:
    r = summarize(_ledger())
    assert (r.requests, r.ok, r.failed, r.interrupted) == (5, 4, 1, 0)
    assert (r.attempts, r.sent, r.errors, r.skipped) == (8, 7, 3, 1)
    assert r.cost == 0.375
    assert (r.unpriced_requests, r.unpriced_attempts) == (1, 1)
    assert (r.cache_hits, r.cache_hit_rate) == (1, 0.2)
    assert (r.fallback_requests, r.fallback_rate) == (2, 0.4)
    assert (r.first_ts, r.last_ts) == (T0, T0 + 40)


def test_cost_per_provider() -> None:
    rows = {row.name: row for row in summarize(_ledger()).providers}
    assert list(rows) == ["ant", "oai", "ollama"]
    assert (rows["ant"].cost, rows["ant"].sent, rows["ant"].errors) == (0.25, 3, 1)
    assert (rows["oai"].cost, rows["oai"].sent, rows["oai"].errors) == (0.125, 3, 2)
    assert (rows["ollama"].cost, rows["ollama"].unpriced) == (0.0, 1)
    assert (rows["ant"].input_tokens, rows["ant"].output_tokens) == (1000, 200)


def test_cost_per_model_and_error_rate_without_skipped() -> None:
    rows = {row.name: row for row in summarize(_ledger()).models}
    small = rows["small"]
    assert (small.sent, small.ok, small.errors, small.skipped) == (3, 1, 2, 1)
    assert small.error_rate == pytest.approx(2 / 3)
    assert small.cost == 0.125
    big = rows["big"]
    assert (big.sent, big.errors, big.cost) == (3, 1, 0.25)
    assert big.error_rate == pytest.approx(1 / 3)
    local = rows["local"]
    assert (local.provider, local.cost, local.unpriced, local.error_rate) == ("ollama", 0, 1, 0)


def test_cost_per_task() -> None:
    rows = {row.name: row for row in summarize(_ledger()).tasks}
    s, t = rows["summarize"], rows["translate"]
    assert (s.requests, s.failed, s.fallbacks, s.cache_hits, s.cost, s.unpriced) == (
        2,
        0,
        1,
        0,
        0.375,
        0,
    )
    assert (t.requests, t.failed, t.fallbacks, t.cache_hits, t.cost, t.unpriced) == (
        3,
        1,
        1,
        1,
        0.0,
        1,
    )


def test_latency_percentiles_over_ok_attempts() -> None:
    ledger = MemoryLedger()
    for i in range(1, 21):  # 1..20 s, and slow errors that must not count
        ledger.add(request(attempt(latency_s=float(i))))
        ledger.add(request(attempt(outcome="error", latency_s=1000.0)))
    (row,) = summarize(ledger).models
    assert row.p50_s == 10.5
    assert row.p95_s == pytest.approx(19.05)


def test_percentile_edges() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([1.0, 2.0], 1.0) == 2.0


def test_since_selects_requests_with_all_their_attempts() -> None:
    r = summarize(_ledger(), since=T0 + 20)
    assert r.requests == 3
    assert r.since == T0 + 20
    assert r.attempts == 4
    assert {row.name for row in r.tasks} == {"translate"}
    assert r.cost == 0.0 and r.unpriced_attempts == 1


def test_summarize_takes_plain_records_too() -> None:
    records = list(_ledger().requests())
    assert summarize(records) == summarize(_ledger())
    assert summarize(records, since=T0 + 20).requests == 3


def test_empty_report() -> None:
    r = summarize(MemoryLedger())
    assert r.requests == 0 and r.cache_hit_rate is None and r.fallback_rate is None
    assert format_table(r) == "No requests recorded.\n"
    assert to_json(r)["requests"]["total"] == 0


def test_table_shape() -> None:
    text = format_table(summarize(_ledger()))
    lines = text.splitlines()
    assert lines[0] == "Usage 2027-01-15T08:00:00+00:00 .. 2027-01-15T08:00:40+00:00"
    assert lines[1] == "requests: 5  ok 4  failed 1  interrupted 0"
    assert lines[2] == "attempts: 8  sent 7  errors 3  skipped 1"
    assert lines[3] == "cost: $0.3750 +1 unpriced (1 request unpriced)"
    assert lines[4] == "cache hit rate: 20.0%  fallback rate: 40.0%"
    headers = [
        line.split()[0]
        for line in lines
        if line and line.split()[0] in ("provider", "model", "task")
    ]
    assert headers == ["provider", "model", "task"]
    small = next(line for line in lines if line.startswith("small "))
    assert small.split() == [
        "small", "oai", "3", "2", "66.7%", "1", "1000", "ms", "1000", "ms",
        "100", "10", "$0.1250", "0",
    ]  # fmt: skip
    local = next(line for line in lines if line.startswith("local "))
    assert local.split()[-2:] == ["$0.0000", "1"]  # unpriced: counted, not costed


def test_json_shape() -> None:
    data = to_json(summarize(_ledger(), since=T0))
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {
        "since", "first", "last", "requests", "attempts", "cost_usd", "providers", "models",
        "tasks", "prompt_cache", "reasoning_tokens", "deployments", "guardrails",
    }  # fmt: skip
    assert data["deployments"] == []  # no model here has several deployments
    assert data["guardrails"] == []  # no request here passed a guardrail
    assert data["since"] == "2027-01-15T08:00:00+00:00"
    assert data["cost_usd"] == 0.375
    assert data["requests"] == {
        "total": 5, "ok": 4, "failed": 1, "interrupted": 0, "refused": 0, "unpriced": 1,
        "cache_hits": 1,
        "cache_hit_rate": 0.2, "with_fallback": 2, "fallback_rate": 0.4,
    }  # fmt: skip
    assert data["attempts"] == {"total": 8, "sent": 7, "errors": 3, "skipped": 1, "unpriced": 1}
    small = next(m for m in data["models"] if m["name"] == "small")
    assert small["p50_s"] == 1.0 and small["unpriced"] == 0
    assert [p["name"] for p in data["providers"]] == ["ant", "oai", "ollama"]
    assert {t["name"] for t in data["tasks"]} == {"summarize", "translate"}


@pytest.mark.parametrize(
    ("text", "back"),
    [("90s", 90), ("30m", 1800), ("1h", 3600), ("2d", 172800), ("1w", 604800), ("1h30m", 5400)],
)
def test_parse_since_durations(text: str, back: float) -> None:
    assert parse_since(text, now=T0) == T0 - back


def test_parse_since_iso() -> None:
    assert parse_since("2027-01-15T08:00:00Z") == T0
    assert parse_since("2027-01-15T09:00:00+01:00") == T0
    assert parse_since("2027-01-15") == datetime(2027, 1, 15).timestamp()  # local midnight
    assert datetime.fromtimestamp(parse_since("2027-01-15T08:00Z"), UTC).hour == 8


@pytest.mark.parametrize("text", ["", "yesterday", "5", "h1", "1y", "2027-13-01"])
def test_parse_since_rejects_other_forms(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration like 30m"):
        parse_since(text)


def test_small_costs_are_shown_with_enough_digits() -> None:
    from router.telemetry.report_format import usd

    assert usd(0.375) == "$0.3750"
    assert usd(0.0012) == "$0.0012"
    assert usd(0.0000145) == "$0.000015"  # 145 tokens of a cheap model: not $0.0000
    assert usd(0.00009) == "$0.000090"
    assert usd(0.0) == "$0.0000"


def _pooled() -> MemoryLedger:
    """Model "pool" served by two keys: east fails once then answers, west answers twice."""
    ledger = MemoryLedger()
    ledger.add(
        request(
            attempt(model="pool", deployment="east", outcome="error", latency_s=0.3),
            attempt(model="pool", deployment="west", cost=0.5, latency_s=2.0),
        )
    )
    ledger.add(request(attempt(model="pool", deployment="west", cost=0.25, ts=T0 + 5)))
    ledger.add(request(attempt(model="pool", deployment="east", latency_s=0.5, ts=T0 + 9)))
    ledger.add(request(attempt(model="small", ts=T0 + 12)))  # one deployment: no row
    return ledger


def test_deployments_get_their_own_rows() -> None:
    report = summarize(_pooled())
    rows = {(d.model, d.name): d for d in report.deployments}
    assert set(rows) == {("pool", "east"), ("pool", "west")}
    east, west = rows["pool", "east"], rows["pool", "west"]
    assert (east.sent, east.ok, east.errors, east.error_rate) == (2, 1, 1, 0.5)
    assert (west.sent, west.errors, west.cost, west.p50_s) == (2, 0, 0.75, 1.5)
    data = to_json(report)
    assert [(d["model"], d["name"]) for d in data["deployments"]] == [
        ("pool", "east"),
        ("pool", "west"),
    ]


def test_table_shows_deployments_only_when_a_model_has_several() -> None:
    lines = format_table(summarize(_pooled())).splitlines()
    header = next(line for line in lines if line.startswith("model ") and "deployment" in line)
    assert header.split()[:3] == ["model", "deployment", "provider"]
    east = next(line for line in lines if line.split()[:2] == ["pool", "east"])
    assert east.split()[2:6] == ["oai", "2", "1", "50.0%"]
    plain = format_table(summarize(_ledger()))
    assert "deployment" not in plain
