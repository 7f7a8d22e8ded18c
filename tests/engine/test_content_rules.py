"""Content rules through the real Router, the real SDKs and the sandbox: a rule matched by
what the request says routes it, and one that confines keeps it on its models on every driver
(asserted on what the sandbox received); explain plans what the call then does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from router import AllModelsFailed, Router
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter, models_sent, run_async

SPEC = (
    PROVIDERS
    + """
models:
  local-a: {provider: oai, id: local-a, pricing: {input: 1000, output: 1000}}
  local-b: {provider: ant, id: local-b, pricing: {input: 5000, output: 5000}}
  cloud-x: {provider: oai, id: cloud-x, pricing: {input: 0.01, output: 0.01}}
  cloud-y: {provider: ant, id: cloud-y, pricing: {input: 2, output: 2}}
tasks:
  chat:
    candidates: [cloud-x, local-a]
    fallback: [cloud-y, local-b]
  code: {candidates: [cloud-y], fallback: [cloud-x]}
rules:
  - name: confidential
    when: {text: {any: [confidential, patient record], in: all}}
    only: [local-a, local-b]
  - name: code-paste
    when: {task: chat, text: {regex: '```'}}
    route_to: code
"""
)
LOCAL = ["local-a", "local-b"]
SECRET_MESSAGES = [
    {"role": "system", "content": "Everything below is CONFIDENTIAL."},
    {"role": "user", "content": "Summarize the meeting notes."},
]


def _complete(r: Router, **kw: Any) -> None:
    r.complete("chat", **kw)


def _stream(r: Router, **kw: Any) -> None:
    list(r.stream("chat", **kw))


def _acomplete(r: Router, **kw: Any) -> None:
    run_async(r, lambda router: router.acomplete("chat", **kw))


def _astream(r: Router, **kw: Any) -> None:
    async def drain(router: Router) -> None:
        async for _ in router.astream("chat", **kw):
            pass

    run_async(r, drain)


DRIVERS: dict[str, Callable[..., None]] = {
    "complete": _complete,
    "stream": _stream,
    "acomplete": _acomplete,
    "astream": _astream,
}


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_a_confining_content_rule_keeps_a_failing_request_on_its_models(
    make_router: MakeRouter, sb: Sandbox, driver: str
) -> None:
    sb.set_fault("500")
    router = make_router(SPEC)

    with pytest.raises(AllModelsFailed):
        DRIVERS[driver](router, prompt="Here is a patient record: Ada, 1815.")

    # Unconfined, the chain starts with cloud-x and goes through cloud-y.
    assert models_sent(sb) == LOCAL


def test_the_words_may_be_in_any_message_the_rule_reads(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.set_fault("500")
    router = make_router(SPEC)

    with pytest.raises(AllModelsFailed):
        router.complete("chat", SECRET_MESSAGES)

    assert models_sent(sb) == LOCAL


def test_a_request_that_says_none_of_it_is_routed_as_usual(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC)

    r = router.complete("chat", prompt="What is a patient? Keep it short.")

    assert r.model == "cloud-x"
    assert models_sent(sb) == ["cloud-x"]


def test_a_pasted_code_block_is_served_by_the_code_task(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC)

    r = asyncio.run(router.acomplete("chat", prompt="Why?\n```python\nprint(1/0)\n```"))

    assert r.model == "cloud-y"
    assert models_sent(sb) == ["cloud-y"]


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "Plain question, nothing special."}],
        [{"role": "user", "content": "See:\n```\nx = 1\n```"}],
        SECRET_MESSAGES,
        [{"role": "user", "content": "``` and a confidential note"}],
    ],
    ids=["no-rule", "code-paste", "confidential-in-system", "both-first-wins"],
)
def test_explain_plans_what_the_call_then_tries(
    make_router: MakeRouter, sb: Sandbox, messages: list[dict[str, str]]
) -> None:
    sb.set_fault("500")
    router = make_router(SPEC)
    plan = router.explain("chat", messages)

    with pytest.raises(AllModelsFailed):
        router.complete("chat", messages)

    assert models_sent(sb) == list(plan.models)
