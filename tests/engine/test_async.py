"""acomplete and astream: the async driver, through the SDKs' async clients."""

from __future__ import annotations

import pytest

from router import (
    AllModelsFailed,
    AsyncStream,
    ProviderUnavailable,
    RequestError,
    Response,
    Router,
    StreamInterrupted,
)
from router.sandbox import Sandbox

from .helpers import (
    BASIC,
    DEFAULT_SYSTEM,
    MAX_TOKENS_FIELD,
    MODEL,
    MODEL_ID,
    PNG_B64,
    PROVIDER,
    PROVIDERS,
    TASK_SYSTEM,
    WEATHER_TOOL,
    MakeRouter,
    attempt_log,
    expected_cost,
    last_user_content,
    models_sent,
    run_async,
    system_sent,
)

CHAIN = (
    PROVIDERS
    + """
models:
  gpt: {provider: oai, id: sandbox-gpt, pricing: {input: 2, output: 8}}
  claude: {provider: ant, id: sandbox-claude, pricing: {input: 3, output: 15}}
tasks:
  openai-first: {candidates: [gpt], fallback: [claude]}
  anthropic-first: {candidates: [claude], fallback: [gpt]}
"""
)
FIRST = {"openai": "openai-first", "anthropic": "anthropic-first"}
OTHER = {"openai": "anthropic", "anthropic": "openai"}


async def collect(stream: AsyncStream) -> list[str]:
    return [chunk.delta async for chunk in stream]


def test_acomplete_answers_through_each_provider(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    r = run_async(
        make_router(BASIC), lambda rt: rt.acomplete(f"ask-{kind}", prompt="Async works. Yes.")
    )
    assert r.content == "Summary: Async works. Yes."
    assert (r.model, r.model_id, r.provider) == (MODEL[kind], MODEL_ID[kind], PROVIDER[kind])
    assert sb.requests[-1].headers.get("x-stainless-async", "").startswith("async")


def test_acomplete_inserts_the_task_system_prompt_once(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    run_async(make_router(BASIC), lambda rt: rt.acomplete(f"ask-{kind}", prompt="Hello."))
    assert system_sent(sb.requests[-1].body, kind) == [TASK_SYSTEM]


def test_acomplete_uses_the_default_system_prompt_and_keeps_the_callers(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    async def work(rt: Router) -> None:
        await rt.acomplete(f"plain-{kind}", prompt="Hello.")
        await rt.acomplete(
            f"plain-{kind}",
            [{"role": "system", "content": "Mine."}, {"role": "user", "content": "Hello."}],
        )

    run_async(make_router(BASIC), work)
    assert [system_sent(q.body, kind) for q in sb.requests] == [[DEFAULT_SYSTEM], ["Mine."]]


def test_acomplete_params_override_and_max_tokens_clamp(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    run_async(
        make_router(BASIC),
        lambda rt: rt.acomplete(f"ask-{kind}", prompt="Hi.", temperature=1.3, max_tokens=9999),
    )
    body = sb.requests[-1].body
    assert (body["temperature"], body[MAX_TOKENS_FIELD[kind]], body["top_p"]) == (1.3, 300, 0.8)


def test_acomplete_normalizes_usage_and_prices_it(make_router: MakeRouter, kind: str) -> None:
    r = run_async(make_router(BASIC), lambda rt: rt.acomplete(f"ask-{kind}", prompt="A b c."))
    assert r.finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.cost == pytest.approx(expected_cost(kind, r.usage))


def test_acomplete_cost_is_none_for_an_unpriced_model(make_router: MakeRouter, kind: str) -> None:
    r = run_async(make_router(BASIC), lambda rt: rt.acomplete(f"unpriced-{kind}", prompt="Hi."))
    assert r.cost is None


def test_acomplete_sends_images(make_router: MakeRouter, sb: Sandbox, kind: str) -> None:
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "Describe it."},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
        ],
    }
    r = run_async(make_router(BASIC), lambda rt: rt.acomplete(f"ask-{kind}", [message]))
    assert r.content == "(1 image received) Summary: Describe it."
    part = last_user_content(sb.requests[-1].body)[1]
    assert part["type"] == ("image_url" if kind == "openai" else "image")


def test_acomplete_parses_tool_calls(make_router: MakeRouter, sb: Sandbox, kind: str) -> None:
    r = run_async(
        make_router(BASIC),
        lambda rt: rt.acomplete(f"ask-{kind}", prompt="Use get_weather.", tools=[WEATHER_TOOL]),
    )
    assert r.finish_reason == "tool_calls"
    assert [c.name for c in r.tool_calls] == ["get_weather"]
    assert len(sb.requests[-1].body["tools"]) == 1


@pytest.mark.parametrize("param", ["base_url", "api_key", "model", "frobnicate"])
def test_acomplete_refuses_overrides_and_unknown_params_before_sending(
    make_router: MakeRouter, sb: Sandbox, param: str
) -> None:
    with pytest.raises(RequestError):
        run_async(
            make_router(BASIC), lambda rt: rt.acomplete("ask-openai", prompt="Hi.", **{param: "x"})
        )
    assert sb.requests == []


def test_acomplete_falls_back_to_the_next_model(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    sb.script("503", model=MODEL_ID[kind])
    r = run_async(make_router(CHAIN), lambda rt: rt.acomplete(FIRST[kind], prompt="Hello."))
    other = OTHER[kind]
    assert r.model == MODEL[other]
    assert attempt_log(r.attempts) == [
        (MODEL[kind], "ProviderUnavailable"),
        (MODEL[other], None),
    ]
    assert models_sent(sb) == [MODEL_ID[kind], MODEL_ID[other]]


def test_acomplete_raises_all_models_failed_with_every_error(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.set_fault("500")
    with pytest.raises(AllModelsFailed) as info:
        run_async(make_router(CHAIN), lambda rt: rt.acomplete("openai-first", prompt="Hello."))
    assert [(type(e), e.model) for e in info.value.exceptions] == [
        (ProviderUnavailable, "gpt"),
        (ProviderUnavailable, "claude"),
    ]


def test_astream_chunks_concatenate_to_the_response(make_router: MakeRouter, kind: str) -> None:
    async def work(rt: Router) -> tuple[list[str], Response | None]:
        stream = rt.astream(f"ask-{kind}", prompt="Stream this text. Please.")
        deltas = await collect(stream)
        return deltas, stream.response

    deltas, response = run_async(make_router(BASIC), work)
    assert response is not None
    assert len([d for d in deltas if d]) > 1
    assert "".join(deltas) == response.content == "Summary: Stream this text. Please."
    assert response.finish_reason == "stop" and response.model == MODEL[kind]
    assert response.usage.output_tokens > 0
    assert response.cost == pytest.approx(expected_cost(kind, response.usage))


def test_astream_fails_over_before_the_first_chunk(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    sb.script("503", model=MODEL_ID[kind])

    async def work(rt: Router) -> tuple[list[str], Response | None]:
        stream = rt.astream(FIRST[kind], prompt="Fail over. Now.")
        chunks = [c async for c in stream]
        assert {c.model for c in chunks} == {MODEL[OTHER[kind]]}
        return [c.delta for c in chunks], stream.response

    deltas, response = run_async(make_router(CHAIN), work)
    assert "".join(deltas) == "Summary: Fail over. Now."
    assert response is not None
    assert attempt_log(response.attempts) == [
        (MODEL[kind], "ProviderUnavailable"),
        (MODEL[OTHER[kind]], None),
    ]


@pytest.mark.parametrize("fault", ["cut=2", "cut=2,clean", "stream-error=2"])
def test_astream_cut_after_the_first_chunk_raises_stream_interrupted(
    make_router: MakeRouter, sb: Sandbox, kind: str, fault: str
) -> None:
    sb.script(fault, model=MODEL_ID[kind])
    received: list[str] = []

    async def work(rt: Router) -> None:
        async for chunk in rt.astream(FIRST[kind], prompt="Never finished. Sorry."):
            received.append(chunk.delta)

    with pytest.raises(StreamInterrupted) as info:
        run_async(make_router(CHAIN), work)
    assert received == ["Summary", ":"]
    assert info.value.partial_text == "Summary:"
    assert attempt_log(info.value.attempts) == [(MODEL[kind], "ProviderUnavailable")]
    assert models_sent(sb) == [MODEL_ID[kind]]  # no failover once output was delivered
