"""Budgets, observed latency, the usage ledger and report, and the canary test: no secret
ever shows in logs, errors, reprs, cache entries or metrics."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from router import AllModelsFailed, Router, StreamInterrupted
from router.cli import run as cli_run
from router.engine.spend import BudgetExceeded
from router.sandbox import Sandbox

from .canary import formatted, logged, strings_in
from .helpers import PROVIDERS, MakeRouter, models_sent

PRICED = (
    PROVIDERS
    + """
models:
  cheap: {provider: oai, id: cheap, pricing: {input: 1000, output: 1000}, latency: {p50: 2}}
  dear: {provider: ant, id: dear, pricing: {input: 5000, output: 5000}, latency: {p50: 1}}
tasks:
  capped: {candidates: [dear, cheap], priority: latency, budget: {daily: 0.05}}
  frugal:
    candidates: [dear, cheap]
    priority: latency
    budget: {daily: 0.05}
    on_budget: cheapest
  fast: {candidates: [cheap, dear], priority: latency}
"""
)


def test_a_reached_daily_cap_refuses_until_the_next_day(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(PRICED)
    spent = 0.0
    while True:
        try:
            spent += router.complete("capped", prompt="Spend some money. Please.").cost or 0
        except BudgetExceeded as exc:
            assert exc.scope == "task:capped" and exc.period == "daily"
            assert "daily budget of $0.05 is spent" in str(exc)
            break
    assert spent >= 0.05
    sent = len(sb.requests)
    with pytest.raises(BudgetExceeded):
        router.complete("capped", prompt="x")
    assert len(sb.requests) == sent  # refused before anything was sent
    router.fake_time.sleep(86_400)  # type: ignore[attr-defined]
    assert router.complete("capped", prompt="A new day.").cost


def test_on_budget_cheapest_serves_with_the_cheapest_model(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(PRICED)
    first = router.complete("frugal", prompt="Spend. Please.")
    assert first.model == "dear", first.attempts  # fastest first
    for _ in range(10):
        last = router.complete("frugal", prompt="Spend more. Please.")
    assert last.model == "cheap"
    assert len(router.explain("frugal", prompt="x").chain) == 2  # explain reads no budget


def test_an_overall_cap_applies_to_every_task(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(PRICED + "budgets: {monthly: 0.01}\n")
    with pytest.raises(BudgetExceeded) as caught:
        for _ in range(20):
            router.complete("fast", prompt="Spend. Please.")
    assert caught.value.scope == "all" and caught.value.period == "monthly"


def test_observed_latency_replaces_the_prior_after_enough_calls(
    make_router: MakeRouter,
) -> None:
    router = make_router(PRICED)
    assert [c.model for c in router.explain("fast", prompt="x").chain] == ["dear", "cheap"]
    for _ in range(10):
        router._rt.accounting.latency.observe("cheap", 0.2)
        router._rt.accounting.latency.observe("dear", 3.0)
    plan = router.explain("fast", prompt="x")
    assert [c.model for c in plan.chain] == ["cheap", "dear"]
    assert plan.chain[0].latency == pytest.approx(0.2)


def test_a_few_slow_calls_do_not_override_the_prior(make_router: MakeRouter) -> None:
    router = make_router(PRICED)
    for _ in range(3):
        router._rt.accounting.latency.observe("dear", 30.0)
    assert router.explain("fast", prompt="x").chain[0].model == "dear"


# --- ledger and report ------------------------------------------------------------------------


def test_every_attempt_lands_in_the_sqlite_ledger_and_the_report(
    make_router: MakeRouter, sb: Sandbox, tmp_path: Path
) -> None:
    ledger = tmp_path / "usage.sqlite"
    router = make_router(PRICED + f"telemetry: {{ledger: {{path: '{ledger}'}}}}\n")
    costs = 0.0
    sb.script("503", times=1, model="dear")
    for i in range(4):
        costs += router.complete("fast", prompt=f"Call {i}. Yes.").cost or 0
    router.close()
    out, err = StringIO(), StringIO()
    assert cli_run(["report", "--ledger", str(ledger), "--format", "json"], out, err) == 0
    report = json.loads(out.getvalue())
    text = json.dumps(report)
    assert "cheap" in text and "dear" in text
    total = sum(row["cost"] for row in report["models"])
    assert total == pytest.approx(costs)
    out = StringIO()
    assert cli_run(["report", "--ledger", str(ledger)], out, err) == 0
    assert "cheap" in out.getvalue()


# --- the canary test --------------------------------------------------------------------------

CANARY = "sk-canary-9f8e7d6c5b4a3f2e1d0c9b8a"


def _slices(secret: str) -> set[str]:
    return {secret[i : i + 8] for i in range(len(secret) - 7)}


def _leaks(text: str) -> list[str]:
    found = [s for s in _slices(CANARY) if s in text]
    digest = hashlib.sha256(CANARY.encode()).hexdigest()
    if digest in text or digest[:16] in text:
        found.append("sha256")
    return found


def _chain_text(error: BaseException) -> str:
    """Everything reachable from the error, its formatted traceback and what
    ``logging.exception`` prints (see tests/engine/canary.py)."""
    return "\n".join([*strings_in(error), formatted(error), logged(error)])


def test_the_key_never_appears_in_logs_errors_reprs_cache_or_metrics(
    sb: Sandbox, tmp_path: Path
) -> None:
    spec = (
        PROVIDERS.replace("{openai}", sb.openai_base_url).replace(
            "{anthropic}", sb.anthropic_base_url
        )
        + """
models:
  a: {provider: oai, id: a, pricing: {input: 1, output: 1}}
  b: {provider: ant, id: b, pricing: {input: 1, output: 1}}
tasks:
  t: {candidates: [a], fallback: [b], cache: {enabled: true}, params: {temperature: 0}}
  only-a: {candidates: [a], fallback_on: [authentication]}
telemetry: {log: {format: json}, metrics: true}
"""
    )
    path = tmp_path / "routes.yaml"
    path.write_text(spec)
    seen: list[str] = []
    with capture_logs() as logs:
        router = Router.from_yaml(path, environ={"SANDBOX_API_KEY": CANARY})
        seen.append(repr(router))
        r = router.complete("t", prompt="A fine answer. Yes.")  # success, then a cache hit
        seen += [repr(r), repr(router.complete("t", prompt="A fine answer. Yes."))]
        sb.script("503", times=1, model="a")
        seen.append(repr(router.complete("t", prompt="Fallback. Yes.", cache=False)))
        sb.script("429,retry-after=1", times=1, model="a")
        seen.append(repr(router.complete("t", prompt="Retry. Yes.", cache=False)))
        for fault in ("401", "500"):
            sb.set_fault(fault)
            with pytest.raises(AllModelsFailed) as caught:
                router.complete("only-a", prompt="Fail.", cache=False)
            seen.append(_chain_text(caught.value))
            sb.set_fault(None)
        sb.script("cut=2", times=1, model="a")
        with pytest.raises(StreamInterrupted) as cut:
            list(router.stream("t", prompt="One two three four. Five.", cache=False))
        seen.append(_chain_text(cut.value))
        seen.append(repr(router.health()))
        seen.append(router.telemetry.metrics.exposition().decode())
        state: Any = router.state
        entries = list(state._cache.items())  # the memory backend's TLRU: keys and bodies
        assert entries, "nothing was cached"
        seen += [repr(entry) for entry in entries]
        router.close()
    seen += [json.dumps(event, default=str) for event in logs]
    assert logs, "the event log emitted nothing"
    # The sandbox recorded the key on the wire (as it must be sent), redacted in its log.
    assert all(r.headers.get("authorization", "***") == "***" for r in sb.requests)
    leaks = {i: _leaks(text) for i, text in enumerate(seen) if _leaks(text)}
    assert leaks == {}, leaks
    assert models_sent(sb)  # requests really were made


def test_content_logging_is_off_by_default_and_redacted_when_on(
    sb: Sandbox, tmp_path: Path
) -> None:
    base = (
        PROVIDERS.replace("{openai}", sb.openai_base_url).replace(
            "{anthropic}", sb.anthropic_base_url
        )
        + "models:\n  a: {provider: oai, id: a}\ntasks:\n  t: {candidates: [a]}\n"
    )
    prompt = "My email is ada@example.com. Thanks."
    for content, expect_text in ((False, False), (True, True)):
        path = tmp_path / f"routes-{content}.yaml"
        path.write_text(base + f"telemetry: {{log: {{content: {str(content).lower()}}}}}\n")
        with capture_logs() as logs:
            router = Router.from_yaml(
                path,
                environ={"SANDBOX_API_KEY": "sk-test"},
                redact=lambda text: text.replace("ada@example.com", "<email>"),
            )
            router.complete("t", prompt=prompt)
            router.close()
        dumped = json.dumps(logs, default=str)
        assert "ada@example.com" not in dumped
        assert ("<email>" in dumped) is expect_text


def test_breaker_state_reaches_the_metrics(make_router: MakeRouter, sb: Sandbox) -> None:
    spec = PRICED.replace(
        "  fast: {candidates: [cheap, dear], priority: latency}\n",
        "  fast: {candidates: [cheap, dear], priority: latency}\n"
        "defaults:\n  breaker: {failures: 1}\ntelemetry: {metrics: true}\n",
    )
    router = make_router(spec)
    sb.set_fault("500", model="dear")  # the fastest, so tried first
    assert router.complete("fast", prompt="x").model == "cheap"
    text = router.telemetry.metrics.exposition().decode()
    assert 'router_breaker_open{model="dear"} 1.0' in text
    assert 'router_breaker_open{model="cheap"} 0.0' in text
