"""Confinement through the real Router against the sandbox: a request a rule confines never
reaches a model outside it, whatever fails, on every driver (sync, async, streams, hedged)
and every way a chain continues (task fallbacks, {task: NAME} chains, the default task,
route_to, on_budget: cheapest, only). Each test asserts on what the sandbox received, not
only on the plan."""

from __future__ import annotations

import asyncio

import pytest

from router import AllModelsFailed, Router
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter, models_sent, run_async

# Model ids equal model names, so faults and the sandbox's log name models as the spec does.
# cloud-* are the models a confined request must never reach; cloud-x is the cheapest of all.
SPEC = (
    PROVIDERS
    + """
models:
  local-a: {provider: oai, id: local-a, pricing: {input: 1000, output: 1000}, latency: {p50: 2}}
  local-b: {provider: ant, id: local-b, pricing: {input: 5000, output: 5000}, latency: {p50: 1}}
  cloud-x: {provider: oai, id: cloud-x, pricing: {input: 0.01, output: 0.01}}
  cloud-y: {provider: ant, id: cloud-y, pricing: {input: 2, output: 2}}
  json-a: {provider: oai, id: json-a, capabilities: [streaming, json]}
  json-b: {provider: ant, id: json-b, capabilities: [streaming, json]}
  cloud-nojson: {provider: oai, id: cloud-nojson, capabilities: [streaming]}
tasks:
  chat:
    candidates: [cloud-x, local-a]
    fallback: [cloud-y, local-b, {task: backup}]
  backup: {candidates: [cloud-y], fallback: [cloud-x]}
  default: {candidates: [cloud-x], fallback: [{task: backup}]}
  hedged:
    candidates: [cloud-x, local-a]
    fallback: [cloud-y, local-b]
    hedge: {after: 0.05, max_share: 1}
  frugal:
    candidates: [local-b, cloud-y, local-a, cloud-x]
    priority: latency
    budget: {daily: 0.05}
    on_budget: cheapest
  extract:
    candidates: [json-a]
    constraints: {require: [json]}
    fallback: [{task: general}]
  general: {candidates: [cloud-nojson, json-b]}
rules:
  - name: private
    when: {tags: [private]}
    candidates: [local-a]
  - name: routed
    when: {tags: [routed]}
    route_to: backup
    candidates: [local-b]
  - name: on-prem
    when: {tags: [on-prem]}
    only: [local-a, local-b]
"""
)
LOCAL = {"local-a", "local-b"}


def _router(make_router: MakeRouter) -> Router:
    return make_router(SPEC)


def _tried(caught: pytest.ExceptionInfo[AllModelsFailed]) -> list[str | None]:
    return [getattr(e, "model", None) for e in caught.value.exceptions]


@pytest.mark.parametrize(
    ("task", "tags", "chain"),
    [
        ("chat", ["private"], ["local-a"]),  # task fallbacks and a {task: backup} chain
        ("translate", ["private"], ["local-a"]),  # the default task, through {task: backup}
        ("chat", ["routed"], ["local-b"]),  # route_to backup, whose chain is all cloud
        ("chat", ["on-prem"], ["local-a", "local-b"]),  # only: chat's local models, in order
    ],
    ids=["task-fallbacks", "default-task", "route-to", "only"],
)
def test_a_confined_request_whose_models_all_fail_never_reaches_another_model(
    make_router: MakeRouter, sb: Sandbox, task: str, tags: list[str], chain: list[str]
) -> None:
    sb.set_fault("500")
    router = _router(make_router)
    with pytest.raises(AllModelsFailed) as caught:
        router.complete(task, prompt="Private. Keep it here.", tags=tags)
    assert models_sent(sb) == chain
    assert _tried(caught) == chain


def test_the_same_holds_for_async_calls(make_router: MakeRouter, sb: Sandbox) -> None:
    sb.set_fault("503")
    router = _router(make_router)
    with pytest.raises(AllModelsFailed):
        run_async(router, lambda r: r.acomplete("chat", prompt="Private.", tags=["private"]))
    assert models_sent(sb) == ["local-a"]


def test_a_confined_stream_whose_model_fails_never_reaches_another_model(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.set_fault("500")
    router = _router(make_router)
    with pytest.raises(AllModelsFailed):
        list(router.stream("chat", prompt="Private.", tags=["private"]))
    assert models_sent(sb) == ["local-a"]


def test_a_confined_async_stream_whose_model_fails_never_reaches_another_model(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.set_fault("500")
    router = _router(make_router)

    async def drain(r: Router) -> None:
        async for _ in r.astream("translate", prompt="Private.", tags=["private"]):
            pass

    with pytest.raises(AllModelsFailed):
        run_async(router, drain)
    assert models_sent(sb) == ["local-a"]


def test_a_hedge_goes_to_the_next_model_inside_the_confinement(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = _router(make_router)
    sb.set_fault("delay=400", model="local-a")
    # Unconfined, the chain would start with cloud-x; only keeps local-a then local-b.
    r = asyncio.run(router.acomplete("hedged", prompt="Hedge me. Please.", tags=["on-prem"]))
    assert r.model == "local-b"
    assert set(models_sent(sb)) == LOCAL


def test_a_confined_hedged_request_with_one_model_has_nothing_to_hedge_to(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = _router(make_router)
    sb.set_fault("500,delay=100", model="local-a")
    with pytest.raises(AllModelsFailed):
        asyncio.run(router.acomplete("hedged", prompt="Hedge me. Please.", tags=["private"]))
    assert models_sent(sb) == ["local-a"]


def test_a_spend_cap_narrows_to_the_cheapest_model_inside_the_confinement(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = _router(make_router)
    first = router.complete("frugal", prompt="Spend. Please.", tags=["on-prem"])
    assert first.model == "local-b"  # the fastest of the two allowed
    for _ in range(10):
        last = router.complete("frugal", prompt="Spend more. Please.", tags=["on-prem"])
    # cloud-x is the cheapest model of the task, but outside the rule: local-a is chosen.
    assert last.model == "local-a"
    assert set(models_sent(sb)) == LOCAL


def test_a_task_requiring_json_never_reaches_a_model_without_it_through_a_task_fallback(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.set_fault("500", model="json-a")
    r = _router(make_router).complete("extract", prompt="Name: Ada. Born: 1815.")
    assert r.model == "json-b"
    assert models_sent(sb) == ["json-a", "json-b"]
    assert "cloud-nojson" not in models_sent(sb)
