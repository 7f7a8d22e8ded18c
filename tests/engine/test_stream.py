"""Router.stream: chunks, the assembled response, failover before the first chunk, and
StreamInterrupted after it (never a clean stop)."""

from __future__ import annotations

import asyncio

import pytest

from router import AllModelsFailed, ProviderUnavailable, StreamInterrupted
from router.sandbox import Sandbox

from .helpers import (
    BASIC,
    MODEL,
    MODEL_ID,
    PROVIDERS,
    WEATHER_TOOL,
    MakeRouter,
    attempt_log,
    expected_cost,
    models_sent,
)
from .test_stream_deadlines import _hung_up

CHAIN = (
    PROVIDERS
    + """
models:
  gpt: {provider: oai, id: sandbox-gpt, pricing: {input: 2, output: 8}}
  claude: {provider: ant, id: sandbox-claude, pricing: {input: 3, output: 15}}
  batch-only: {provider: oai, id: batch-only, capabilities: [json]}
tasks:
  openai-first: {candidates: [gpt], fallback: [claude]}
  anthropic-first: {candidates: [claude], fallback: [gpt]}
  needs-streaming: {candidates: [batch-only], fallback: [claude]}
"""
)
FIRST = {
    "openai": ("openai-first", "gpt", "claude"),
    "anthropic": ("anthropic-first", "claude", "gpt"),
}
ID = {"gpt": "sandbox-gpt", "claude": "sandbox-claude"}
PROMPT = "Stream me. Thanks."
ANSWER = "Summary: Stream me. Thanks."


def test_chunk_deltas_concatenate_to_the_full_answer(make_router: MakeRouter, kind: str) -> None:
    stream = make_router(BASIC).stream(f"ask-{kind}", prompt="Stream me. Thanks.")
    chunks = list(stream)
    assert len([c for c in chunks if c.delta]) > 1
    assert {c.model for c in chunks} == {MODEL[kind]}
    assert "".join(c.delta for c in chunks) == ANSWER
    assert stream.response is not None and stream.response.content == ANSWER


def test_last_chunk_and_response_carry_usage_cost_and_finish_reason(
    make_router: MakeRouter, kind: str
) -> None:
    stream = make_router(BASIC).stream(f"ask-{kind}", prompt="Stream me. Thanks.")
    *_, last = list(stream)
    response = stream.response
    assert response is not None
    assert last.finish_reason == response.finish_reason == "stop"
    assert last.usage == response.usage
    assert response.usage.output_tokens == 7
    assert response.usage.total_tokens == response.usage.input_tokens + 7
    assert response.cost == pytest.approx(expected_cost(kind, response.usage))
    assert (response.model, response.model_id) == (MODEL[kind], MODEL_ID[kind])
    assert attempt_log(response.attempts) == [(MODEL[kind], None)]


def test_stream_request_asks_for_a_stream(make_router: MakeRouter, sb: Sandbox, kind: str) -> None:
    list(make_router(BASIC).stream(f"ask-{kind}", prompt="Hi."))
    request = sb.requests[-1]
    assert request.stream and request.body["stream"] is True
    if kind == "openai":
        assert request.body["stream_options"] == {"include_usage": True}


def test_streamed_tool_calls_are_assembled(make_router: MakeRouter, kind: str) -> None:
    stream = make_router(BASIC).stream(
        f"ask-{kind}", prompt="Call get_weather for Oslo.", tools=[WEATHER_TOOL]
    )
    list(stream)
    assert stream.response is not None
    assert stream.response.finish_reason == "tool_calls"
    [call] = stream.response.tool_calls
    assert call.name == "get_weather" and set(call.parsed_arguments()) == {"city"}


def test_a_model_without_streaming_is_skipped_for_streams(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(CHAIN)
    plan = router.explain("needs-streaming", prompt="Hi.", stream=True)
    assert {c.model: c.skipped for c in plan.skipped} == {"batch-only": "lacks streaming"}
    stream = router.stream("needs-streaming", prompt="Hi.")
    list(stream)
    assert stream.response is not None and stream.response.model == "claude"
    assert models_sent(sb) == ["sandbox-claude"]


@pytest.mark.parametrize("fault", ["503", "429", "cut=0", "stream-error=0", "badjson"])
def test_failure_before_the_first_chunk_fails_over_transparently(
    make_router: MakeRouter, sb: Sandbox, kind: str, fault: str
) -> None:
    task, first, second = FIRST[kind]
    sb.script(fault, model=ID[first])
    stream = make_router(CHAIN).stream(task, prompt="Stream me. Thanks.")
    chunks = list(stream)
    assert {c.model for c in chunks} == {second}  # nothing of the failed model leaks out
    assert "".join(c.delta for c in chunks) == ANSWER
    assert stream.response is not None and stream.response.model == second
    assert [a.model for a in stream.response.attempts] == [first, second]
    assert stream.response.attempts[0].outcome == "error"
    assert models_sent(sb) == [ID[first], ID[second]]


@pytest.mark.parametrize("fault", ["cut=2", "cut=2,clean", "stream-error=2"])
def test_failure_after_the_first_chunk_raises_stream_interrupted_with_the_partial_text(
    make_router: MakeRouter, sb: Sandbox, kind: str, fault: str
) -> None:
    task, first, _ = FIRST[kind]
    sb.script(fault, model=ID[first])
    stream = make_router(CHAIN).stream(task, prompt="Stream me. Thanks.")
    received: list[str] = []
    with pytest.raises(StreamInterrupted) as info:
        for chunk in stream:
            received.append(chunk.delta)
    assert received == ["Summary", ":"]
    interrupted = info.value
    assert interrupted.partial_text == "".join(received)
    assert (interrupted.model, interrupted.provider) == (
        first,
        {"gpt": "oai", "claude": "ant"}[first],
    )
    assert attempt_log(interrupted.attempts) == [(first, "ProviderUnavailable")]
    assert isinstance(interrupted.__cause__, ProviderUnavailable)
    assert stream.response is None  # never a clean stop
    assert models_sent(sb) == [ID[first]]  # no failover once the caller has output


@pytest.mark.parametrize("fault", ["cut=4", "cut=4,clean", "stream-error=4"])
def test_stream_interrupted_partial_text_is_exactly_what_was_yielded(
    make_router: MakeRouter, sb: Sandbox, kind: str, fault: str
) -> None:
    sb.script(fault, model=MODEL_ID[kind])
    received: list[str] = []
    with pytest.raises(StreamInterrupted) as info:
        for chunk in make_router(BASIC).stream(f"ask-{kind}", prompt="One two three four five."):
            received.append(chunk.delta)
    assert info.value.partial_text == "".join(received) == "Summary: One two"


def test_a_refusal_after_output_was_delivered_ends_with_finish_reason_content_filter(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    task, first, _ = FIRST[kind]
    sb.script("filter=finish", model=ID[first])
    stream = make_router(CHAIN).stream(task, prompt="Something touchy here. Really.")
    text = "".join(c.delta for c in stream)
    assert stream.response is not None
    assert stream.response.finish_reason == "content_filter"
    assert stream.response.content == text and text
    assert models_sent(sb) == [ID[first]]


def test_all_models_failing_before_any_chunk_raises_all_models_failed(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.set_fault("503")
    received: list[str] = []
    with pytest.raises(AllModelsFailed) as info:
        for chunk in make_router(CHAIN).stream("openai-first", prompt="Hi."):
            received.append(chunk.delta)
    assert received == []
    assert [(type(e), e.model) for e in info.value.exceptions] == [
        (ProviderUnavailable, "gpt"),
        (ProviderUnavailable, "claude"),
    ]


def test_closing_a_stream_early_leaves_no_response_and_the_router_usable(
    make_router: MakeRouter, kind: str
) -> None:
    router = make_router(BASIC)
    stream = router.stream(f"ask-{kind}", prompt="One two three four five.")
    assert next(stream).delta == "Summary"
    stream.close()
    assert stream.response is None
    assert router.complete(f"ask-{kind}", prompt="Still here.").content == "Summary: Still here."


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_sequential_streams_reuse_one_connection(
    make_router: MakeRouter, sb: Sandbox, kind: str, mode: str
) -> None:
    router = make_router(BASIC)
    task = f"ask-{kind}"

    async def astreams() -> None:
        async with router:
            for _ in range(4):
                assert "".join([c.delta async for c in router.astream(task, prompt="Hi.")])

    if mode == "sync":
        for _ in range(4):
            assert "".join(c.delta for c in router.stream(task, prompt="Hi."))
    else:
        asyncio.run(astreams())
    assert sb.stats["streams"] == 4
    assert sb.stats["connections"] == 1  # each stream's body read to its end: pooled again


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_stream_whose_body_stays_open_after_its_end_completes_and_closes_the_connection(
    make_router: MakeRouter, sb: Sandbox, kind: str, mode: str
) -> None:
    """After the terminal event the rest of the body is read for at most DRAIN_SECONDS (a real
    half second here): a server that holds the body open then gets the connection closed,
    and the answer is whole."""
    router = make_router(BASIC)
    task = f"ask-{kind}"
    sb.set_fault("linger")

    async def astream() -> str:
        async with router:
            return "".join([c.delta async for c in router.astream(task, prompt=PROMPT)])

    if mode == "sync":
        text = "".join(c.delta for c in router.stream(task, prompt=PROMPT))
    else:
        text = asyncio.run(astream())
    assert text == ANSWER
    assert _hung_up(sb)
