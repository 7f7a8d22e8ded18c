"""``router simulate``: a seeded workload through the real router against the sandbox."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest

from router.sandbox import Sandbox
from router.simulate import (
    FaultSpecError,
    SimulationReport,
    format_report,
    parse_faults,
    parse_mix,
    run_simulation,
    to_json,
)
from router.simulate.clock import SimClock
from router.simulate.faults import FaultBook
from router.simulate.report import Outcome
from router.simulate.runner import DUMMY_KEY, sandboxed
from router.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
ROUTES = ROOT / "configs" / "routes.yaml"
DEMO = ROOT / "configs" / "demo.yaml"
TASKS = ("summarize", "chat", "code", "extract", "long-context", "default")


def _comparable(report: SimulationReport) -> dict[str, Any]:
    data = report.as_dict()
    data.pop("wall_s")
    return data


@pytest.fixture(scope="module")
def first_failures() -> SimulationReport:
    return run_simulation(ROUTES, requests=200, faults="first=500,p=0.3", seed=1)


# -- the acceptance check ---------------------------------------------------------------------


def test_thirty_percent_failures_on_every_first_candidate_lose_no_request(
    first_failures: SimulationReport,
) -> None:
    r = first_failures
    assert r.requests == r.total.requests == 200
    assert r.lost == 0 and r.exit_code == 0
    assert r.total.ok == 200
    assert tuple(r.tasks) == TASKS  # every task got requests, in the spec's order
    assert all(stats.requests > 0 and stats.lost == 0 for stats in r.tasks.values())
    assert r.total.fallbacks > 0
    assert r.total.streamed > 0
    # Faults went to first candidates only, and about 30% of their attempts failed.
    injected = {name: m.injected for name, m in r.models.items() if m.injected}
    assert set(injected) <= {"gpt-4o-mini", "claude-haiku", "claude-sonnet"}
    failed = sum(sum(m.errors.values()) for m in r.models.values())
    assert failed == sum(injected.values())
    first_attempts = sum(r.models[name].sent for name in injected)
    assert 0.15 < failed / first_attempts < 0.45
    assert r.total.cost > 0
    p50, p95, p99 = (r.total.latency(p) for p in (50, 95, 99))
    assert p50 is not None and p95 is not None and p99 is not None
    assert 0 < p50 <= p95 <= p99
    assert r.simulated_s > 60  # Poisson arrivals at 1 req/s: minutes, in a second or two


def test_text_report_has_the_per_task_table(first_failures: SimulationReport) -> None:
    text = format_report(first_failures)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("task "))
    for column in ("reqs", "ok", "lost", "fallbacks", "retries", "cost", "p50", "p95", "p99"):
        assert column in header
    for task in TASKS:
        assert any(line.startswith(task + " ") for line in lines), task
    assert any(line.startswith("TOTAL ") for line in lines)
    assert "answered by:" in text and "gpt-4o-mini" in text
    assert "faults:   first=500,p=0.3" in text
    assert "no request lost" in text and text.rstrip().endswith("exit code 0")
    data = json.loads(to_json(first_failures))
    assert data["exit_code"] == 0 and data["total"]["lost"] == 0
    assert set(data["tasks"]) == set(TASKS)
    assert data["total"]["latency_s"]["p99"] > 0


def test_every_model_failing_loses_every_request_and_exits_1() -> None:
    out = io.StringIO()
    r = run_simulation(ROUTES, requests=40, faults="all=500", out=out, rate=None)
    assert r.lost == r.requests == 40
    assert r.total.ok == 0 and r.exit_code == 1
    text = out.getvalue()
    assert "LOST 40 of 40 requests" in text and "AllModelsFailed" in text
    assert text.rstrip().endswith("exit code 1")


def test_same_seed_same_report_other_seed_other_report() -> None:
    run: dict[str, Any] = {
        "requests": 80,
        "faults": "first=500,p=0.3; model:gpt-4o=429,retry-after=1,p=0.2",
        "concurrency": 8,
    }
    a = run_simulation(ROUTES, seed=5, **run)
    b = run_simulation(ROUTES, seed=5, **run)
    c = run_simulation(ROUTES, seed=6, **run)
    assert _comparable(a) == _comparable(b)
    assert _comparable(c) != _comparable(a)


# -- faults -----------------------------------------------------------------------------------


def test_unknown_model_is_a_clear_error_listing_the_models() -> None:
    with pytest.raises(FaultSpecError) as info:
        run_simulation(ROUTES, requests=5, faults="model:gpt-5=500")
    message = str(info.value)
    assert "no model 'gpt-5'" in message
    for name in ("gpt-4o-mini", "gpt-4o", "claude-haiku", "claude-sonnet", "llama-local"):
        assert name in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("first", "expected TARGET=FAULT"),
        ("bogus=500", "unknown target 'bogus'"),
        ("first=500,p=2", "within [0, 1]"),
        ("first=wat", "unknown fault item 'wat'"),
        ("first=delay=soon", "not a number"),
        ("model:x=rpm=3,500", "stands alone"),
        ("first=retry-after-date=3", "use retry-after=S"),
        ("first:nope=500", "no task 'nope'"),
        ("provider:zz=500", "no provider 'zz'"),
    ],
)
def test_bad_fault_specs(text: str, expected: str) -> None:
    spec = load_spec(ROUTES, environ={})
    with pytest.raises(FaultSpecError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        parse_faults(text, spec)


def test_fault_grammar() -> None:
    spec = load_spec(ROUTES, environ={})
    rules = parse_faults(
        "first=500,p=0.3; model:claude-3-5-haiku-latest=delay=200,chunk-delay=5\n"
        "provider:openai=rpm=2;all=reset,p=0",
        spec,
    )
    first, haiku, openai, everything = rules
    assert (first.target, first.p, first.sandbox, first.fails) == ("first", 0.3, "500", True)
    assert haiku.models == frozenset({"claude-haiku"})  # a provider model id resolves
    assert (haiku.delay_s, haiku.chunk_delay_s, haiku.sandbox) == (0.2, 0.005, "")
    assert (openai.target, openai.name, openai.rpm) == ("provider", "openai", 2)
    assert everything.sandbox == "reset" and everything.p == 0.0
    assert parse_faults(None) == parse_faults("") == parse_faults(" ; ") == ()

    book = FaultBook(rules, spec, seed=0)
    hit = book.decide(
        request=1, task="chat", first="gpt-4o-mini", model="claude-haiku", attempt=1, now=0.0
    )
    assert hit.delay_s == 0.2 and hit.sandbox == "" and not hit.fails
    # provider:openai=rpm=2 is shared by the provider's models, over a rolling minute.
    calls = [
        book.decide(request=i, task="code", first="x", model=m, attempt=1, now=t).sandbox
        for i, (m, t) in enumerate([("gpt-4o", 0.0), ("gpt-4o-mini", 1.0), ("gpt-4o", 2.5)])
    ]
    assert calls == ["", "", "429,retry-after=58"]
    later = book.decide(request=9, task="code", first="x", model="gpt-4o", attempt=1, now=61.0)
    assert later.sandbox == ""
    # p= rolls depend on (seed, request, model, attempt) only: about 30% of first attempts.
    first_only = FaultBook(rules[:1], spec, seed=0)
    hits = [
        first_only.decide(
            request=i, task="chat", first="gpt-4o-mini", model="gpt-4o-mini", attempt=1, now=0.0
        ).sandbox
        == "500"
        for i in range(1000)
    ]
    assert 250 < sum(hits) < 350
    again = FaultBook(rules[:1], spec, seed=0)
    assert hits[:50] == [
        again.decide(
            request=i, task="chat", first="gpt-4o-mini", model="gpt-4o-mini", attempt=1, now=9.0
        ).sandbox
        == "500"
        for i in range(50)
    ]
    other = first_only.decide(
        request=1, task="chat", first="gpt-4o-mini", model="gpt-4o", attempt=1, now=0.0
    )
    assert other.sandbox == "" and not other.injected  # not this request's first candidate


def test_cut_streams_are_lost_and_reported() -> None:
    r = run_simulation(
        ROUTES, requests=60, faults="first=cut=2", stream_share=1.0, mix="chat=1,summarize=1"
    )
    assert tuple(r.tasks) == ("summarize", "chat")
    assert r.total.streamed == 60
    # Cut after output began: no failover is possible, so every cut stream is a lost request
    # (until gpt-4o-mini's breaker opens and the chains start at the next model).
    mini = r.models["gpt-4o-mini"]
    assert r.lost == mini.sent == mini.injected > 0 and r.exit_code == 1
    assert mini.skipped > 0
    assert set(r.tasks["chat"].lost_reasons) == {
        "StreamInterrupted: the stream from gpt-4o-mini was cut after output began"
    }


def test_slow_first_candidates_time_out_and_fall_back() -> None:
    r = run_simulation(ROUTES, requests=40, faults="first:chat=delay=90000", mix="chat=1")
    assert r.lost == 0
    chat = r.tasks["chat"]
    assert chat.fallbacks == chat.ok == 40
    mini = r.models["gpt-4o-mini"]
    assert mini.sent > 0 and mini.timeouts == mini.sent  # chat's attempts time out after 60 s
    assert mini.errors == {"timeout": mini.sent}
    p50 = chat.latency(50)
    assert p50 is not None and p50 > 60  # the wait for the timeout is in the latency


def test_provider_rate_limits_are_answered_with_429_and_honoured() -> None:
    r = run_simulation(
        DEMO, requests=60, faults="provider:sandbox-anthropic=rpm=10", mix="chat=1", rate=2.0
    )
    assert r.lost == 0
    haiku = r.models["haiku"]  # chat's first candidate in demo.yaml
    assert haiku.errors["rate_limit"] > 0
    assert haiku.skipped > 0  # the Retry-After hold keeps the router away meanwhile
    assert haiku.ok <= 10 * (1 + r.simulated_s // 60)
    assert r.tasks["chat"].fallbacks > 0


def test_mix_and_arguments_are_checked() -> None:
    assert parse_mix("chat=3, code=1,summarize") == {"chat": 3.0, "code": 1.0, "summarize": 1.0}
    for bad in ("chat=x", "=2", "chat=0"):
        with pytest.raises(ValueError):
            parse_mix(bad)
    with pytest.raises(ValueError, match="unknown task"):
        run_simulation(ROUTES, requests=5, mix="translate=1")
    for kwargs in ({"requests": 0}, {"concurrency": 0}, {"stream_share": 2.0}, {"rate": 0.0}):
        with pytest.raises(ValueError):
            run_simulation(ROUTES, **kwargs)  # type: ignore[arg-type]


def test_progress_bar_only_on_a_tty_or_when_forced() -> None:
    quiet = io.StringIO()
    r = run_simulation(DEMO, requests=10, progress=quiet, model_latency=False)
    assert quiet.getvalue() == ""
    assert r.total.latency(99) == 0.0  # no model latency, no faults, no limits: no waits
    assert "(no model latency: waits only)" in format_report(r)
    forced = io.StringIO()
    run_simulation(DEMO, requests=10, progress=forced, force_progress=True)
    text = forced.getvalue()
    assert text.startswith("\r[") and "10/10 requests" in text and text.endswith("\n")


# -- pieces -----------------------------------------------------------------------------------


def test_every_key_is_a_dummy_and_every_provider_is_on_the_sandbox() -> None:
    spec = load_spec(ROUTES, environ={})
    with Sandbox() as sb:
        pointed, environ = sandboxed(spec, sb)
        for provider in pointed.providers.values():
            assert provider.base_url in (sb.openai_base_url, sb.anthropic_base_url)
            assert provider.api_key_env is not None
            assert environ[provider.api_key_env] == DUMMY_KEY
    assert environ["OPENAI_API_KEY"] == environ["ANTHROPIC_API_KEY"] == DUMMY_KEY
    assert set(environ.values()) == {DUMMY_KEY}


def test_clock_jumps_only_when_every_worker_waits() -> None:
    async def main() -> list[tuple[str, float]]:
        clock = SimClock(epoch=1000.0)
        seen: list[tuple[str, float]] = []

        async def worker(name: str, waits: list[float]) -> None:
            try:
                for wait in waits:
                    await clock.asleep(wait)
                    seen.append((name, clock()))
                    if name == "io":  # real work: time must not move meanwhile
                        clock.inflight += 1
                        before = clock()
                        await asyncio.sleep(0.01)
                        assert clock() == before
                        clock.inflight -= 1
                        clock.poke()
            finally:
                clock.running -= 1
                clock.poke()

        clock.running = 2
        await asyncio.gather(worker("a", [5, 5, 30]), worker("io", [7, 1]))
        assert clock.wall() == 1040.0
        return seen

    assert asyncio.run(main()) == [("a", 5), ("io", 7), ("io", 8), ("a", 10), ("a", 40)]


def test_a_models_other_deployment_is_a_failover_not_a_retry() -> None:
    attempts = (("m", "error", "unavailable"), ("m", "ok", ""))
    failover = Outcome(0, "t", False, "m", "m", attempts, 1.0, deployments=("east", "west"))
    retry = Outcome(0, "t", False, "m", "m", attempts, 1.0, deployments=("east", "east"))
    single = Outcome(0, "t", False, "m", "m", attempts, 1.0)  # a model with one deployment
    assert (failover.retries, retry.retries, single.retries) == (0, 1, 1)
