"""Every adapter, through its real SDK, over real HTTP, against the sandbox: the happy paths."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from provider_helpers import MODELS, WIRE, MakeAdapter, req

from router.providers import Adapter
from router.sandbox import Sandbox
from router.types import (
    Chunk,
    ImagePart,
    Message,
    Request,
    Response,
    TextPart,
    ToolDefinition,
    Usage,
)

CLOUDS = ("azure_openai", "anthropic_bedrock", "anthropic_vertex")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
ANSWER = "Summary: The quick brown fox jumps over the lazy dog."
WEATHER = ToolDefinition(
    "get_weather",
    "Current weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def run_stream(adapter: Adapter, request: Request) -> list[Chunk]:
    return list(adapter.stream(request))


async def collect(it: AsyncIterator[Chunk]) -> list[Chunk]:
    return [c async for c in it]


def both(adapter: Adapter, request: Request) -> tuple[Response, Response]:
    """The sync and the async answer to the same request (one event loop per call)."""

    async def go() -> Response:
        try:
            return await adapter.acomplete(request)
        finally:
            await adapter.aclose()

    return adapter.complete(request), asyncio.run(go())


def both_streams(adapter: Adapter, request: Request) -> tuple[list[Chunk], list[Chunk]]:
    async def go() -> list[Chunk]:
        try:
            return await collect(adapter.astream(request))
        finally:
            await adapter.aclose()

    return run_stream(adapter, request), asyncio.run(go())


def test_complete_sync_and_async(kind: str, make_adapter: MakeAdapter) -> None:
    adapter = make_adapter(kind)
    for r in both(adapter, req(kind, "The quick brown fox jumps over the lazy dog. More text.")):
        assert r.content == ANSWER
        assert r.finish_reason == "stop"
        assert (r.model, r.model_id, r.provider) == ("spec-model", MODELS[kind], f"{kind}-p")
        assert r.cost is None and r.attempts == () and not r.cached
        assert r.latency_s > 0
        assert r.raw_id
        assert r.usage.output_tokens > 0 and r.usage.input_tokens > 0
        assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens


def test_stream_sync_and_async(kind: str, make_adapter: MakeAdapter) -> None:
    adapter = make_adapter(kind)
    plain = adapter.complete(req(kind, "The quick brown fox jumps over the lazy dog."))
    for chunks in both_streams(adapter, req(kind, "The quick brown fox jumps over the lazy dog.")):
        assert len(chunks) > 3
        assert "".join(c.delta for c in chunks) == ANSWER
        *body, last = chunks
        assert all(c.finish_reason is None and c.usage is None for c in body)
        assert last.delta == "" and last.finish_reason == "stop"
        assert last.usage == plain.usage
        assert (last.model, last.provider) == ("spec-model", f"{kind}-p")


def test_wire_request_shape(kind: str, make_adapter: MakeAdapter, sb: Sandbox) -> None:
    request = req(
        kind,
        Message("system", "Be brief."),
        "Hello there.",
        max_tokens=50,
        temperature=0.5,
        top_p=0.9,
        stop=("END",),
        seed=7,
        extra={"metadata": {"user_id": "u1"}} if WIRE[kind] == "anthropic" else {"user": "u1"},
    )
    make_adapter(kind).complete(request)
    body = sb.requests[-1].body
    assert body["model"] == MODELS[kind]
    assert body["temperature"] == 0.5 and body["top_p"] == 0.9
    if WIRE[kind] == "anthropic":
        assert body["system"] == "Be brief."
        assert body["messages"] == [{"role": "user", "content": "Hello there."}]
        assert body["max_tokens"] == 50 and body["stop_sequences"] == ["END"]
        assert "seed" not in body and body["metadata"] == {"user_id": "u1"}
    else:
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}
        field = "max_tokens" if kind == "openai_compatible" else "max_completion_tokens"
        assert body[field] == 50 and body["stop"] == ["END"] and body["seed"] == 7
        assert body["user"] == "u1"
    assert "stream" not in body


def test_anthropic_defaults_max_tokens_and_stream_options(
    make_adapter: MakeAdapter, sb: Sandbox
) -> None:
    list(make_adapter("anthropic").stream(req("anthropic", "Hi.")))
    assert sb.requests[-1].body["max_tokens"] == 4096
    assert sb.requests[-1].body["stream"] is True
    list(make_adapter("openai").stream(req("openai", "Hi.")))
    assert sb.requests[-1].body["stream_options"] == {"include_usage": True}


def test_headers_and_auth_reach_the_wire(kind: str, make_adapter: MakeAdapter, sb: Sandbox) -> None:
    make_adapter(kind, headers={"X-Team": "search"}).complete(req(kind, "Hi."))
    headers = sb.requests[-1].headers
    assert headers["x-team"] == "search"
    # Present (the sandbox redacts the value): Azure's key goes in `api-key`.
    assert headers["api-key" if kind == "azure_openai" else "authorization"] == "***"
    assert "x-stainless-retry-count" in headers


def test_usage_with_cached_tokens(kind: str, make_adapter: MakeAdapter) -> None:
    model = MODELS[kind] + "-cached"
    adapter = make_adapter(kind)
    r = adapter.complete(req(kind, "Tell me about caching.", model=model))
    assert 0 < r.usage.cached_input_tokens < r.usage.input_tokens
    last = run_stream(adapter, req(kind, "Tell me about caching.", model=model))[-1]
    assert last.usage == r.usage


@pytest.mark.parametrize(
    ("fault", "max_tokens", "stop", "reason"),
    [
        (None, 3, (), "length"),
        (None, None, ("fox",), "stop"),
        ("filter=finish", None, (), "content_filter"),
    ],
)
def test_finish_reasons(
    kind: str,
    make_adapter: MakeAdapter,
    fault: str | None,
    max_tokens: int | None,
    stop: tuple[str, ...],
    reason: str,
) -> None:
    adapter = make_adapter(kind, fault=fault)
    request = req(
        kind, "The quick brown fox jumps over the lazy dog.", max_tokens=max_tokens, stop=stop
    )
    assert adapter.complete(request).finish_reason == reason
    assert run_stream(adapter, request)[-1].finish_reason == reason


def test_images_reach_the_wire(kind: str, make_adapter: MakeAdapter, sb: Sandbox) -> None:
    image = ImagePart.from_bytes(PNG, "image/png", detail="low")
    url_image = ImagePart(url="https://example.com/cat.png")
    content = (TextPart("What is this?"), image, url_image)
    r = make_adapter(kind).complete(req(kind, Message("user", content)))
    assert r.content.startswith("(2 images received)")
    parts = sb.requests[-1].body["messages"][0]["content"]
    if WIRE[kind] == "anthropic":
        assert parts[1] == {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": image.data},
        }
        assert parts[2]["source"] == {"type": "url", "url": "https://example.com/cat.png"}
    else:
        assert parts[1] == {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{image.data}", "detail": "low"},
        }
        assert parts[2] == {"type": "image_url", "image_url": {"url": url_image.url}}


def test_tool_definitions_and_calls(kind: str, make_adapter: MakeAdapter, sb: Sandbox) -> None:
    adapter = make_adapter(kind)
    request = req(kind, "Use get_weather for Paris.", tools=(WEATHER,), tool_choice="auto")
    r = adapter.complete(request)
    body = sb.requests[-1].body
    if WIRE[kind] == "anthropic":
        assert body["tools"] == [
            {
                "name": "get_weather",
                "description": WEATHER.description,
                "input_schema": dict(WEATHER.parameters),
            }
        ]
        assert body["tool_choice"] == {"type": "auto"}
    else:
        assert body["tools"][0]["function"]["parameters"] == dict(WEATHER.parameters)
        assert body["tool_choice"] == "auto"
    assert r.finish_reason == "tool_calls"
    (call,) = r.tool_calls
    assert call.name == "get_weather" and call.id
    assert set(call.parsed_arguments()) == {"city"}

    chunks = run_stream(adapter, request)
    assert chunks[-1].finish_reason == "tool_calls"
    (streamed,) = chunks[-1].tool_calls
    assert streamed.id and streamed.name == "get_weather"
    assert streamed.parsed_arguments() == call.parsed_arguments()
    assert all(not c.tool_calls for c in chunks[:-1])


def test_forced_tool_choice_and_tool_results(
    kind: str, make_adapter: MakeAdapter, sb: Sandbox
) -> None:
    adapter = make_adapter(kind)
    forced = adapter.complete(
        req(
            kind,
            "Hello.",
            tools=(WEATHER,),
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
    )
    expected = (
        {"type": "tool", "name": "get_weather"}
        if WIRE[kind] == "anthropic"
        else {"type": "function", "function": {"name": "get_weather"}}
    )
    assert sb.requests[-1].body["tool_choice"] == expected
    (call,) = forced.tool_calls
    follow_up = req(
        kind,
        "Hello.",
        Message("assistant", "", tool_calls=(call,)),
        Message("tool", "Sunny and 21 degrees. Light wind.", tool_call_id=call.id),
        tools=(WEATHER,),
    )
    r = adapter.complete(follow_up)
    assert r.content.startswith("Tool result: Sunny and 21 degrees.")
    assert r.finish_reason == "stop"
    messages = sb.requests[-1].body["messages"]
    if WIRE[kind] == "anthropic":
        assert messages[1]["content"] == [
            {
                "type": "tool_use",
                "id": call.id,
                "name": "get_weather",
                "input": call.parsed_arguments(),
            }
        ]
        assert messages[2] == {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "content": "Sunny and 21 degrees. Light wind.",
                }
            ],
        }
    else:
        assert messages[1]["content"] is None
        assert messages[1]["tool_calls"][0]["function"]["name"] == "get_weather"
        assert messages[2]["tool_call_id"] == call.id


def test_list_models_sync_and_async(kind: str, make_adapter: MakeAdapter) -> None:
    if kind in CLOUDS[1:]:
        pytest.skip("no model list in the clouds' inference APIs (test_cloud_providers)")
    adapter = make_adapter(kind)

    async def go() -> list[str]:
        try:
            return await adapter.alist_models()
        finally:
            await adapter.aclose()

    models = adapter.list_models()
    assert "sandbox-gpt" in models and "sandbox-claude" in models
    assert asyncio.run(go()) == models


def test_async_calls_from_successive_event_loops(kind: str, make_adapter: MakeAdapter) -> None:
    adapter = make_adapter(kind)
    for _ in range(2):  # a fresh loop each time, as asyncio.run() per call gives
        assert asyncio.run(adapter.acomplete(req(kind, "Hi."))).content
    asyncio.run(adapter.aclose())


def test_adapters_reuse_their_clients(make_adapter: MakeAdapter, sb: Sandbox) -> None:
    adapter = make_adapter("openai")
    for _ in range(3):
        adapter.complete(req("openai", "Hi."))
    assert sb.stats["connections"] == 1


def test_usage_defaults() -> None:
    assert Usage(3, 4).total_tokens == 7
    assert Usage(3, 4, total_tokens=9).total_tokens == 9
    assert Usage(1, 1) + Usage(2, 3, 1) == Usage(3, 4, 1, 7)


def test_response_format(kind: str, make_adapter: MakeAdapter, sb: Sandbox) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    rf = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    make_adapter(kind).complete(req(kind, "Hi.", response_format=rf))
    body = sb.requests[-1].body
    if WIRE[kind] == "anthropic":
        assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    else:
        assert body["response_format"] == rf
