"""Hedged requests (async): the first complete answer wins, the loser is cancelled and
recorded, hedges stay within their share of traffic."""

from __future__ import annotations

import asyncio

from router import Router
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
    # No floor for hedges: 25% of the requests seen, so the 4th and the 8th may hedge.
    assert len(hedged) == 2


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
