"""Spreading a model's requests over its deployments: the strategies (pure callables), the
pool's order, and the chain walk moving within a model before moving to the next one."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import pytest

from router.errors import AuthenticationError, BadRequestError, ProviderError, RateLimitError
from router.nodes.load import Live
from router.providers.registry import profile_of
from router.routing.balance import STRATEGIES, Pool, headroom, latency, least_busy, weighted
from router.routing.call import Target
from router.routing.walk import ChainRun
from router.specmodel import ModelSpec, Spec
from router.types import Response

from .helpers import Clock, ScriptedNode, answer, call, drive, load

MODEL = ModelSpec(name="m", provider="oai", id="m-1")


def deployment(
    name: str, weight: float = 1.0, node: object = None, model: ModelSpec = MODEL
) -> Target:
    return Target(
        model,
        "oai",
        node,  # type: ignore[arg-type]
        profile_of("openai"),
        deployment=name,
        key=f"{model.name}/{name}",
        weight=weight,
        live=Live(),
    )


def spread(pool: Pool, n: int, now: float = 0.0) -> Counter[str]:
    return Counter(pool.order(now)[0].deployment or "" for _ in range(n))


# --- the strategies ---------------------------------------------------------------------------


def test_ten_thousand_weighted_calls_land_within_two_percent_of_the_weights() -> None:
    weights = {"a": 5.0, "b": 3.0, "c": 1.5, "d": 0.5}
    pool = Pool(
        "m", [deployment(n, w) for n, w in weights.items()], weighted, random.Random(7).random
    )

    counts = spread(pool, 10_000)

    total = sum(weights.values())
    for name, weight in weights.items():
        assert counts[name] / 10_000 == pytest.approx(weight / total, abs=0.02), counts


def test_the_same_seed_gives_the_same_spread() -> None:
    def picks(seed: int) -> list[str | None]:
        pool = Pool("m", [deployment(n) for n in "abc"], weighted, random.Random(seed).random)
        return [pool.order(0.0)[0].deployment for _ in range(50)]

    assert picks(3) == picks(3)
    assert picks(3) != picks(4)


def test_weight_zero_is_a_standby_taken_only_when_the_others_are_held() -> None:
    main, standby = deployment("main"), deployment("standby", 0.0)
    pool = Pool("m", [main, standby], weighted, random.Random(1).random)

    assert spread(pool, 200) == {"main": 200}
    main.live.hold(10.0)
    assert [t.deployment for t in pool.order(5.0)] == ["standby", "main"]
    assert pool.order(10.0)[0] is main  # the hold ended


def test_least_busy_takes_the_fewest_in_flight_and_breaks_ties_by_weight() -> None:
    a, b, c = deployment("a"), deployment("b"), deployment("c")
    a.live.in_flight, b.live.in_flight, c.live.in_flight = 3, 1, 2
    assert least_busy([a, b, c], 0.0, random.Random(0).random) is b
    b.live.in_flight = 2
    picks = Counter(
        least_busy([a, b, c], 0.0, random.Random(s).random).deployment for s in range(40)
    )
    assert set(picks) == {"b", "c"}


def test_least_busy_spreads_requests_that_stay_in_flight_evenly() -> None:
    ts = [deployment(n) for n in "abcd"]
    pool = Pool("m", ts, least_busy, random.Random(5).random)
    for _ in range(64):
        pool.order(0.0)[0].live.enter()  # each request is still in flight when the next picks
    assert [t.live.in_flight for t in ts] == [16, 16, 16, 16]


def test_latency_prefers_the_faster_of_two_and_measures_the_unobserved_first() -> None:
    fast, slow = deployment("fast"), deployment("slow")
    slow.live.observe(2.0)
    assert latency([fast, slow], 0.0, random.Random(0).random) is fast  # never observed: tried
    fast.live.observe(0.5)
    assert latency([fast, slow], 0.0, random.Random(0).random) is fast
    third = deployment("third")
    third.live.observe(1.0)
    picks = Counter(
        latency([fast, slow, third], 0.0, random.Random(s).random).deployment for s in range(300)
    )
    # Two different ones drawn: the slowest never wins; the fastest wins two pairs in three.
    assert picks["slow"] == 0
    assert picks["fast"] > picks["third"] > 0


def test_headroom_takes_the_deployment_with_the_most_capacity_left() -> None:
    a, b = deployment("a"), deployment("b")
    # a booked 30 s of a 60 s burst window, b 45 s: a has half its capacity left, b a quarter.
    a.live.booked("rpm:a", 130.0, 60.0)
    b.live.booked("rpm:b", 145.0, 60.0)
    assert headroom([a, b], 100.0, random.Random(0).random) is a
    assert a.live.headroom(100.0) == pytest.approx(0.5)
    assert a.live.headroom(200.0) == 1.0  # the booking has passed: idle again


def test_every_strategy_of_the_schema_is_registered() -> None:
    from router.spec.schema import schema

    assert sorted(STRATEGIES) == sorted(schema()["$defs"]["balance"]["enum"])


def test_a_held_deployment_goes_last_and_a_pool_with_all_held_keeps_spec_order() -> None:
    a, b, c = deployment("a"), deployment("b"), deployment("c")
    pool = Pool("m", [a, b, c], weighted, random.Random(2).random)
    a.live.hold(50.0)
    for _ in range(30):
        order = pool.order(10.0)
        assert order[-1] is a and order[0] in (b, c)
    b.live.hold(50.0)
    c.live.hold(50.0)
    assert pool.order(10.0) == [a, b, c]


# --- the walk: within a model first -----------------------------------------------------------

POOLED = """\
  default:
    candidates: [small, medium]
    retry: {attempts: 1}
"""


def pooled(
    spec: Spec, clock: Clock, names: Sequence[str], seed: int = 0
) -> dict[str, Target | Pool]:
    """``small`` served by deployments ``names`` (each over its own scripted node); ``medium``
    by one."""
    small = spec.models["small"]
    ts = [deployment(n, node=ScriptedNode(clock), model=small) for n in names]
    medium = Target(spec.models["medium"], "oai", ScriptedNode(clock), profile_of("openai"))
    return {"small": Pool("small", ts, weighted, random.Random(seed).random), "medium": medium}


def nodes(targets: dict[str, Target | Pool]) -> dict[str, ScriptedNode]:
    pool = targets["small"]
    assert isinstance(pool, Pool)
    found = {t.deployment or "": t.node for t in pool.targets}
    medium = targets["medium"]
    assert isinstance(medium, Target)
    found["medium"] = medium.node
    return found  # type: ignore[return-value]


def limited(name: str) -> ProviderError:
    return RateLimitError("429", provider="oai", model="small", status=429, retry_after=30.0)


def test_a_failure_of_one_deployment_moves_to_the_models_other_deployments_first() -> None:
    clock = Clock()
    spec = load(POOLED)
    ts = pooled(spec, clock, ["k1", "k2", "k3"])
    n = nodes(ts)
    # Whichever deployment goes first fails with a 429; the next of the same model answers.
    sent: list[str] = []

    def first_fails() -> ProviderError | Response:
        sent.append("x")
        return limited("small") if len(sent) == 1 else answer()

    for name in ("k1", "k2", "k3"):
        n[name].outcomes.append(first_fails)
    run = ChainRun(spec, call(spec), ts, clock)
    _trace, result = drive(run)
    assert not isinstance(result, Exception)
    assert [a.model for a in result.attempts] == ["small", "small"]
    first, second = (a.deployment for a in result.attempts)
    assert first != second and result.deployment == second
    assert result.attempts[0].error is not None and result.attempts[0].error.kind == "rate_limit"
    assert n["medium"].requests == []


def test_a_deployment_failure_outside_fallback_on_still_tries_the_other_deployments() -> None:
    clock = Clock()
    spec = load(POOLED + "    fallback_on: [unavailable]\n")
    ts = pooled(spec, clock, ["k1", "k2"])
    n = nodes(ts)
    for name in ("k1", "k2"):
        n[name].outcomes.append(
            AuthenticationError("401 bad key", provider="oai", model="small", status=401)
        )
    run = ChainRun(spec, call(spec), ts, clock)
    _, result = drive(run)
    assert isinstance(result, Exception)
    # Both keys tried (a key's failure is the deployment's); never the next model.
    assert len(n["k1"].requests) == len(n["k2"].requests) == 1
    assert n["medium"].requests == []


def test_a_failure_of_the_request_itself_does_not_try_the_other_deployments() -> None:
    clock = Clock()
    spec = load(POOLED + "    fallback_on: [unavailable]\n")
    ts = pooled(spec, clock, ["k1", "k2"])
    n = nodes(ts)
    for name in ("k1", "k2"):
        n[name].outcomes.append(BadRequestError("400", provider="oai", model="small", status=400))
    _, result = drive(ChainRun(spec, call(spec), ts, clock))
    assert isinstance(result, Exception)
    assert len(n["k1"].requests) + len(n["k2"].requests) == 1


def test_attempts_name_the_deployment_never_its_key() -> None:
    clock = Clock()
    spec = load(POOLED)
    ts = pooled(spec, clock, ["eu", "us"], seed=1)
    for node in nodes(ts).values():
        node.outcomes.append(answer())
    _, result = drive(ChainRun(spec, call(spec), ts, clock))
    assert not isinstance(result, Exception)
    assert result.attempts[0].deployment in ("eu", "us")
    assert result.deployment == result.attempts[0].deployment


def test_a_model_without_deployments_walks_as_before() -> None:
    clock = Clock()
    spec = load(POOLED)
    medium = Target(spec.models["medium"], "oai", ScriptedNode(clock), profile_of("openai"))
    small = Target(spec.models["small"], "oai", ScriptedNode(clock), profile_of("openai"))
    small.node.outcomes.append(limited("small"))  # type: ignore[attr-defined]
    medium.node.outcomes.append(answer())  # type: ignore[attr-defined]
    trace, result = drive(ChainRun(spec, call(spec), {"small": small, "medium": medium}, clock))
    assert trace == ["go small 60s", "go medium 60s"]
    assert not isinstance(result, Exception) and result.model == "medium"
