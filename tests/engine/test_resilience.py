"""Retries, Retry-After, budgets, circuit breakers, rate limits and the response cache,
through the engine and the real SDKs over the sandbox. Time is fake: waits advance it."""

from __future__ import annotations

import asyncio

import pytest

from router import AllModelsFailed, RateLimitError, Router
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter, models_sent

CHAIN = (
    PROVIDERS
    + """
models:
  a: {provider: oai, id: a, pricing: {input: 1, output: 1}}
  b: {provider: ant, id: b, pricing: {input: 1, output: 1}}
tasks:
  one: {candidates: [a]}
  two: {candidates: [a], fallback: [b]}
  same: {candidates: [a], fallback: [b], retry: {prefer: same_model}}
"""
)


def slept(router: Router) -> list[float]:
    return router.fake_time.slept  # type: ignore[attr-defined,no-any-return]


# --- retries ----------------------------------------------------------------------------------


def test_a_lone_model_is_retried_after_a_jittered_backoff(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(CHAIN, retries=True)
    sb.script("503", times=1, model="a")
    r = router.complete("one", prompt="Hello there.")
    assert models_sent(sb) == ["a", "a"]
    assert [a.outcome for a in r.attempts] == ["error", "ok"]
    assert len(slept(router)) == 1 and 0 <= slept(router)[0] <= 0.5  # initial_backoff 0.5


def test_by_default_the_next_model_is_tried_before_any_wait(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(CHAIN, retries=True)
    sb.script("503", times=1, model="a")
    r = router.complete("two", prompt="Hello there.")
    assert models_sent(sb) == ["a", "b"]
    assert r.model == "b"
    assert slept(router) == []


def test_prefer_same_model_waits_for_the_retry_first(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(CHAIN, retries=True)
    sb.script("503", times=1, model="a")
    r = router.complete("same", prompt="Hello there.")
    assert models_sent(sb) == ["a", "a"]
    assert r.model == "a" and len(slept(router)) == 1


def test_retry_after_seconds_is_honoured_exactly(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(CHAIN, retries=True)
    sb.script("429,retry-after=7", times=1, model="a")
    r = router.complete("one", prompt="Hello there.")
    assert r.model == "a" and models_sent(sb) == ["a", "a"]
    assert slept(router) == [pytest.approx(7.0, abs=0.01)]


def test_retry_after_http_date_is_honoured(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(CHAIN, retries=True)
    sb.script("429,retry-after-date=9", times=1, model="a")
    r = router.complete("one", prompt="Hello there.")
    assert r.model == "a"
    # The date has one-second resolution and is read against the real clock.
    assert len(slept(router)) == 1 and 7.0 <= slept(router)[0] <= 10.0


def test_a_retry_after_above_the_cap_is_never_slept_through(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(CHAIN, retries=True)
    sb.script("429,retry-after=45", times=1, model="a")  # max_retry_after defaults to 30
    with pytest.raises(AllModelsFailed) as caught:
        router.complete("one", prompt="Hello there.")
    assert models_sent(sb) == ["a"]
    assert slept(router) == []
    assert isinstance(caught.value.exceptions[0], RateLimitError)


def test_retry_after_holds_the_model_for_later_requests(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(CHAIN)
    sb.script("429,retry-after=20", times=1, model="a")
    assert router.complete("two", prompt="One.").model == "b"
    # The next request does not send to 'a' before its Retry-After has passed.
    r = router.complete("two", prompt="Two.")
    assert r.model == "b"
    assert [(a.model, a.outcome) for a in r.attempts] == [("a", "skipped"), ("b", "ok")]
    assert models_sent(sb) == ["a", "b", "b"]
    router.fake_time.sleep(21)  # type: ignore[attr-defined]
    assert router.complete("two", prompt="Three.").model == "a"


@pytest.mark.parametrize("fault", ["401", "400", "context"])
def test_non_retriable_errors_are_never_retried_on_the_same_model(
    make_router: MakeRouter, sb: Sandbox, fault: str
) -> None:
    router = make_router(CHAIN, retries=True)
    sb.set_fault(fault, model="a")
    with pytest.raises(AllModelsFailed):
        router.complete("one", prompt="Hello there.")
    assert models_sent(sb) == ["a"]


def test_the_retry_budget_caps_retries_to_a_share_of_requests(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    spec = CHAIN.replace("one: {candidates: [a]}", "one: {candidates: [a], retry: {budget: 0.1}}")
    # Keep the circuit closed, so every request reaches the failing model.
    spec += "defaults:\n  breaker: {failures: 1000, min_calls: 1000}\n"
    router = make_router(spec, retries=True)
    sb.set_fault("503", model="a")
    for _ in range(20):
        with pytest.raises(AllModelsFailed):
            router.complete("one", prompt="x")
    # 20 requests; retries at most 10% of them plus a floor of 3 (in the budget's window).
    retries = len(sb.requests) - 20
    assert 0 < retries <= 0.1 * 20 + 3


def test_retries_stop_at_the_request_deadline(make_router: MakeRouter, sb: Sandbox) -> None:
    spec = CHAIN.replace(
        "one: {candidates: [a]}",
        "one: {candidates: [a], retry: {attempts: 10}, timeouts: {total: 5}}",
    )
    router = make_router(spec, retries=True)
    sb.set_fault("429,retry-after=2", model="a")
    with pytest.raises(AllModelsFailed) as caught:
        router.complete("one", prompt="x")
    assert len(sb.requests) == 3  # at 0, 2 and 4 seconds; the next would be past 5
    assert sum(slept(router)) < 5
    assert "deadline" in str(caught.value)


# --- circuit breakers -------------------------------------------------------------------------

BREAKER = CHAIN + (
    "defaults:\n  breaker: {failures: 3, cooldown: 10, max_cooldown: 40}\n  retry: {attempts: 1}\n"
)


def test_consecutive_failures_open_the_circuit_and_the_model_is_skipped(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(BREAKER)
    sb.set_fault("500", model="a")
    for _ in range(3):
        assert router.complete("two", prompt="x").model == "b"
    assert router.health()["models"]["a"]["breaker"]["state"] == "open"
    before = len(sb.requests)
    r = router.complete("two", prompt="x")
    assert r.model == "b"
    assert [(a.model, a.outcome) for a in r.attempts] == [("a", "skipped"), ("b", "ok")]
    assert models_sent(sb)[before:] == ["b"]  # nothing was sent to the open model


def test_after_the_cooldown_one_probe_closes_the_circuit(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(BREAKER)
    sb.set_fault("500", model="a")
    for _ in range(3):
        router.complete("two", prompt="x")
    sb.set_fault(None, model="a")
    router.fake_time.sleep(10)  # type: ignore[attr-defined]
    assert router.complete("two", prompt="x").model == "a"  # the probe
    assert router.health()["models"]["a"]["breaker"]["state"] == "closed"


def test_a_failed_probe_reopens_with_a_doubled_cooldown(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(BREAKER)
    sb.set_fault("500", model="a")
    for _ in range(3):
        router.complete("two", prompt="x")
    router.fake_time.sleep(10)  # type: ignore[attr-defined]
    router.complete("two", prompt="x")  # the probe fails
    breaker = router.health()["models"]["a"]["breaker"]
    assert breaker["state"] == "open" and breaker["cooldown"] == 20
    assert breaker["open_for"] == pytest.approx(20, abs=0.1)


def test_when_every_circuit_is_open_the_request_fails_at_once_saying_when(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(BREAKER)
    sb.set_fault("500")
    for _ in range(3):
        with pytest.raises(AllModelsFailed):
            router.complete("two", prompt="x")
    sent = len(sb.requests)
    with pytest.raises(AllModelsFailed) as caught:
        router.complete("two", prompt="x")
    assert len(sb.requests) == sent
    assert caught.value.retry_after == pytest.approx(10, abs=0.1)
    assert "circuit is open; retry in" in str(caught.value)
    assert slept(router) == []


def test_on_all_open_wait_waits_for_the_first_probe(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(
        BREAKER.replace("  retry: {attempts: 1}\n", "  on_all_open: wait\n  retry: {attempts: 1}\n")
    )
    sb.set_fault("500")
    for _ in range(3):
        with pytest.raises(AllModelsFailed):
            router.complete("two", prompt="x")
    sb.set_fault(None)
    r = router.complete("two", prompt="x")
    assert r.model in ("a", "b")
    assert slept(router) and slept(router)[0] == pytest.approx(10, abs=0.1)


def test_rate_limits_and_bad_requests_do_not_open_the_circuit(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(BREAKER)
    sb.set_fault("400", model="a")
    for _ in range(5):
        with pytest.raises(AllModelsFailed):
            router.complete("two", prompt="x")
    assert router.health()["models"]["a"]["breaker"]["state"] == "closed"


# --- rate limits ------------------------------------------------------------------------------

LIMITED = (
    PROVIDERS
    + """
models:
  a: {provider: oai, id: a, limits: {requests_per_minute: 1}}
  b: {provider: ant, id: b}
tasks:
  one: {candidates: [a], timeouts: {total: 30}}
  two: {candidates: [a], fallback: [b]}
  waits: {candidates: [a], fallback: [b], on_limit: wait}
"""
)


def test_limit_of_one_admits_exactly_one_of_five_concurrent_calls(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(LIMITED)

    async def five() -> list[object]:
        calls = [router.acomplete("one", prompt=f"Call {i}.") for i in range(5)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(five())
    ok = [r for r in results if not isinstance(r, BaseException)]
    failed = [r for r in results if isinstance(r, AllModelsFailed)]
    assert len(ok) == 1 and len(failed) == 4
    assert models_sent(sb) == ["a"]
    for error in failed:
        assert "frees up in" in str(error) and error.retry_after is not None


def test_a_limited_model_is_skipped_for_the_next_one(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(LIMITED)
    assert router.complete("two", prompt="x").model == "a"
    r = router.complete("two", prompt="x")
    assert r.model == "b"
    assert r.attempts[0].outcome == "skipped"
    assert "client-side limit reached" in str(r.attempts[0].error)


def test_on_limit_wait_waits_for_the_slot_instead(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(LIMITED)
    router.complete("waits", prompt="x")
    r = router.complete("waits", prompt="x")
    assert r.model == "a"
    assert slept(router) == [pytest.approx(60, abs=0.01)]


def test_token_limits_charge_estimates_and_reconcile_with_usage(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    spec = LIMITED.replace("limits: {requests_per_minute: 1}", "limits: {tokens_per_minute: 2000}")
    router = make_router(spec)
    # Each call is estimated at prompt + 1,024 expected output tokens, then reconciled down
    # to the real (small) usage, so many small calls fit in 2,000 tokens a minute.
    for i in range(5):
        assert router.complete("two", prompt=f"Short call {i}.").model == "a"


# --- cache ------------------------------------------------------------------------------------

CACHED = (
    PROVIDERS
    + """
models:
  a: {provider: oai, id: a, pricing: {input: 1, output: 1}}
  b: {provider: ant, id: b, pricing: {input: 1, output: 1}}
tasks:
  t: {candidates: [a], fallback: [b], cache: {enabled: true, ttl: 100}, params: {temperature: 0}}
  warm: {candidates: [a], cache: {enabled: true}, params: {temperature: 0.7}}
  warm-opt-in:
    candidates: [a]
    cache: {enabled: true, nonzero_temperature: true}
    params: {temperature: 0.7}
"""
)


def test_a_repeated_call_is_served_from_the_cache(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(CACHED)
    first = router.complete("t", prompt="Cache me. Please.")
    second = router.complete("t", prompt="Cache me. Please.")
    assert models_sent(sb) == ["a"]
    assert second.cached and not first.cached
    assert second.content == first.content and second.cost == 0.0
    assert second.attempts[0].cached


def test_the_cache_expires_after_its_ttl(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(CACHED)
    router.complete("t", prompt="x")
    router.fake_time.sleep(101)  # type: ignore[attr-defined]
    assert not router.complete("t", prompt="x").cached
    assert models_sent(sb) == ["a", "a"]


def test_every_parameter_that_changes_the_answer_is_in_the_key(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(CACHED)
    router.complete("t", prompt="x")
    router.complete("t", prompt="y")
    router.complete("t", prompt="x", max_tokens=10)
    router.complete("t", prompt="x", seed=3)
    router.complete("t", prompt="x", stop=["zz"])
    assert len(sb.requests) == 5


def test_tenants_never_share_entries_and_a_call_can_bypass(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(CACHED)
    router.complete("t", prompt="x", tenant="alice")
    assert not router.complete("t", prompt="x", tenant="bob").cached
    assert router.complete("t", prompt="x", tenant="alice").cached
    assert not router.complete("t", prompt="x", tenant="alice", cache=False).cached
    assert len(sb.requests) == 3


def test_sampled_calls_are_cached_only_when_the_task_opts_in(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(CACHED)
    router.complete("warm", prompt="x")
    assert not router.complete("warm", prompt="x").cached
    router.complete("warm-opt-in", prompt="x")
    assert router.complete("warm-opt-in", prompt="x").cached


def test_errors_and_cut_streams_are_never_cached(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(CACHED.replace("fallback: [b], ", ""))
    sb.script("cut=2", times=1, model="a")
    with pytest.raises(Exception, match="cut"):
        list(router.stream("t", prompt="One two three four. Five."))
    r = router.complete("t", prompt="One two three four. Five.")
    assert not r.cached


def test_a_cached_answer_replays_as_a_stream(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(CACHED)
    full = router.complete("t", prompt="Stream me from the cache. Yes.")
    stream = router.stream("t", prompt="Stream me from the cache. Yes.")
    chunks = list(stream)
    assert len(chunks) > 2
    assert "".join(c.delta for c in chunks) == full.content
    assert stream.response is not None and stream.response.cached
    assert len(sb.requests) == 1


def test_a_fallbacks_answer_is_stored_under_the_model_that_produced_it(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(CACHED)
    sb.script("503", times=1, model="a")
    assert router.complete("t", prompt="x").model == "b"
    # 'a' is healthy again: its own answer is fetched (the cache holds b's, under b).
    r = router.complete("t", prompt="x")
    assert r.model == "a" and not r.cached
    sb.set_fault("503", model="a")
    r = router.complete("t", prompt="x")
    assert r.model == "a" and r.cached  # a's answer is cached now; the failing 'a' is not called


def test_health_reports_breakers_holds_limits_and_state(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(LIMITED)
    health = router.health()
    assert health["state"]["backend"] == "memory"
    assert health["models"]["a"]["limits"] == ["model 'a': 1 requests/min"]
    assert health["models"]["b"]["breaker"]["state"] == "closed"
