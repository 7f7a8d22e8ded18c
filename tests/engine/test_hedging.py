"""Hedged requests (async): the first complete answer wins, the loser is cancelled and
recorded, hedges stay within their share of traffic."""

from __future__ import annotations

import asyncio

from router import AllModelsFailed, ProviderTimeout, Router
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter

HEDGED = (
    PROVIDERS
    + """
models:
  slow: {provider: oai, id: slow, pricing: {input: 1, output: 1}, latency: {p50: 1, p95: 2}}
  quick: {provider: ant, id: quick, pricing: {input: 1, output: 1}}
tasks:
  t: {candidates: [slow], fallback: [quick], hedge: {after: 0.05, max_share: 1}}
  p95: {candidates: [slow], fallback: [quick], hedge: {after: p95, max_share: 1}}
  capped: {candidates: [slow], fallback: [quick], hedge: {after: 0.05, max_share: 0.25}}
  bounded:
    candidates: [slow]
    fallback: [quick]
    hedge: {after: 0.05, max_share: 1}
    timeouts: {total: 0.5}
"""
)


def _outcomes(response: object) -> list[tuple[str, str]]:
    return [(a.model, a.outcome) for a in response.attempts]  # type: ignore[attr-defined]


def test_the_first_complete_answer_wins_and_the_loser_is_cancelled(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(HEDGED)
    sb.set_fault("delay=400", model="slow")
    r = asyncio.run(router.acomplete("t", prompt="Hedge me. Please."))
    assert r.model == "quick"
    assert _outcomes(r) == [("slow", "cancelled"), ("quick", "ok")]
    assert router.fake_time.slept == [0.05]  # type: ignore[attr-defined]


def test_when_the_first_fails_the_hedge_answers(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(HEDGED)
    sb.set_fault("500,delay=100", model="slow")
    r = asyncio.run(router.acomplete("t", prompt="Fail then hedge. Ok."))
    assert r.model == "quick"
    assert ("slow", "error") in _outcomes(r) or ("slow", "cancelled") in _outcomes(r)


def test_hedges_stay_within_their_share_of_requests(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(HEDGED)
    sb.set_fault("delay=150", model="slow")

    async def many() -> list[object]:
        results = []
        for i in range(8):
            results.append(await router.acomplete("capped", prompt=f"Call {i}. Ok."))
        return results

    results = asyncio.run(many())
    hedged = [r for r in results if len(_outcomes(r)) > 1]
    # One hedge per window whatever the traffic (the 1st), then 25% of the requests seen:
    # the 8th; the floor is not added on top of the share.
    assert [i for i, r in enumerate(results) if len(_outcomes(r)) > 1] == [0, 7]
    assert len(hedged) == 2


def test_a_quiet_service_still_hedges_once_per_window(make_router: MakeRouter, sb: Sandbox) -> None:
    # max_share 0.25 would need 4 requests in the 10 s window before the first hedge: a
    # service this quiet (one request every 11 s) would never hedge without the floor.
    router = make_router(HEDGED)
    sb.set_fault("delay=150", model="slow")
    clock = router.fake_time  # type: ignore[attr-defined]

    async def quiet() -> list[object]:
        results = []
        for i in range(3):
            results.append(await router.acomplete("capped", prompt=f"Call {i}. Ok."))
            clock.sleep(11)
        return results

    results = asyncio.run(quiet())
    assert [_outcomes(r) for r in results] == [[("slow", "cancelled"), ("quick", "ok")]] * 3


def test_the_floor_is_one_hedge_per_window_not_per_request(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(HEDGED)
    sb.set_fault("delay=150", model="slow")
    clock = router.fake_time  # type: ignore[attr-defined]

    async def two_windows() -> list[int]:
        hedged = []
        for window in range(2):
            for i in range(3):  # three quiet requests 1 s apart, all in one 10 s window
                r = await router.acomplete("capped", prompt=f"Call {window}-{i}. Ok.")
                hedged.append(len(_outcomes(r)) - 1)
                clock.sleep(1)
            clock.sleep(10)
        return hedged

    assert asyncio.run(two_windows()) == [1, 0, 0, 1, 0, 0]


def test_the_p95_hedge_delay_comes_from_the_latency_prior(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(HEDGED)
    sb.set_fault("delay=300", model="slow")
    asyncio.run(router.acomplete("p95", prompt="Prior. Ok."))
    assert router.fake_time.slept == [2.0]  # type: ignore[attr-defined]


def test_sync_calls_are_never_hedged(make_router: MakeRouter, sb: Sandbox) -> None:
    router: Router = make_router(HEDGED)
    sb.set_fault("delay=100", model="slow")
    r = router.complete("t", prompt="Sync. Ok.")
    assert r.model == "slow" and _outcomes(r) == [("slow", "ok")]


def test_a_hedged_call_ends_within_its_deadline_when_neither_model_answers(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    # Real time: each attempt's wait is capped by what is left of timeouts.total (0.5 s).
    router = make_router(HEDGED)
    sb.set_fault("delay=5000")

    async def call() -> BaseException:
        try:
            await router.acomplete("bounded", prompt="Never answered. Ok.")
        except AllModelsFailed as exc:
            return exc
        raise AssertionError("a hedged call outlived its deadline")

    failed = asyncio.run(call())
    assert isinstance(failed, AllModelsFailed)
    # Both timed out (the hedge, given less time, first), neither outlived the deadline.
    assert {(type(e), getattr(e, "model", None)) for e in failed.exceptions} == {
        (ProviderTimeout, "slow"),
        (ProviderTimeout, "quick"),
    }
