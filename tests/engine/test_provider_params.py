"""Provider parameters through the real SDKs against the sandbox: what each provider received.
A field reaches the models that declare it (nested where its name is dotted), never one that
does not, on every driver; a call no model of whose chain takes a field sends nothing."""

from __future__ import annotations

import asyncio

import pytest

from router.errors import RequestError
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter, models_sent

# claude (Anthropic wire) declares top_k and metadata.user_id; the OpenAI provider declares
# service_tier for every model it serves. Model ids equal model names (sandbox faults).
SPEC = (
    PROVIDERS.replace(
        "  ant:\n", "    extra_params: [service_tier, parallel_tool_calls]\n  ant:\n", 1
    )
    + """
models:
  gpt: {provider: oai, id: gpt}
  claude:
    provider: ant
    id: claude
    extra_params: [top_k, metadata.user_id]
    params: {top_k: 7}
tasks:
  claude-first: {candidates: [claude], fallback: [gpt]}
  gpt-first: {candidates: [gpt], fallback: [claude], cache: {enabled: true}}
  gpt: {candidates: [gpt], params: {service_tier: flex}}
"""
)


def bodies(sb: Sandbox) -> dict[str, dict[str, object]]:
    """Each model's last request body, as the sandbox received it."""
    return {r.model or "": r.body for r in sb.requests}


def test_a_field_reaches_the_model_that_declares_it_and_not_the_other(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.script("503", model="claude")
    r = make_router(SPEC).complete(
        "claude-first", prompt="Hi.", service_tier="flex", **{"metadata.user_id": "u-42"}
    )
    assert r.model == "gpt" and models_sent(sb) == ["claude", "gpt"]
    sent = bodies(sb)
    assert sent["gpt"]["service_tier"] == "flex"
    assert "metadata" not in sent["gpt"] and "top_k" not in sent["gpt"]
    assert sent["claude"]["metadata"] == {"user_id": "u-42"} and sent["claude"]["top_k"] == 7
    assert "service_tier" not in sent["claude"]


def test_the_spec_sets_them_and_a_call_overrides_them(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(SPEC)
    router.complete("gpt", prompt="One.")
    router.complete("gpt", prompt="Two.", service_tier="priority", parallel_tool_calls=False)
    first, second = (r.body for r in sb.requests)
    assert first["service_tier"] == "flex" and "parallel_tool_calls" not in first
    assert (second["service_tier"], second["parallel_tool_calls"]) == ("priority", False)


def test_streams_and_async_calls_send_them_too(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(SPEC)
    text = "".join(c.delta for c in router.stream("claude-first", prompt="Hi.", top_k=3))
    assert text

    async def run() -> None:
        await router.acomplete("gpt", prompt="Hi.", service_tier="default")
        async for _ in router.astream("claude-first", prompt="Hi.", top_k=4):
            pass

    asyncio.run(run())
    assert [(r.model, r.body.get("top_k"), r.body.get("service_tier")) for r in sb.requests] == [
        ("claude", 3, None),
        ("gpt", None, "default"),
        ("claude", 4, None),
    ]


def test_a_field_no_model_of_the_chain_takes_sends_nothing(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC)
    with pytest.raises(RequestError, match="no model this call may reach accepts it") as c:
        router.complete("gpt", prompt="Hi.", top_k=3)
    assert c.value.argument == "top_k"
    with pytest.raises(RequestError, match="-1 is not an integer >= 0 \\(as model 'claude'"):
        router.complete("claude-first", prompt="Hi.", top_k=-1)
    assert sb.requests == []


def test_answers_are_cached_per_value(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(SPEC)
    for tier in ("flex", "priority", "flex"):
        router.complete("gpt-first", prompt="Same prompt.", temperature=0, service_tier=tier)
    assert [r.body["service_tier"] for r in sb.requests] == ["flex", "priority"]
