"""The sandbox through the real anthropic SDK, over real HTTP."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import anthropic
import pytest

from router.sandbox import Sandbox, count_tokens

PROMPT = "The quick brown fox jumps over the lazy dog. It was not amused by any of this."
MSGS: list[Any] = [{"role": "user", "content": PROMPT}]
ANSWER = "Summary: The quick brown fox jumps over the lazy dog."
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(32)).decode()
WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
}


def test_plain_message_has_the_real_shape(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    m = ant.messages.create(model="claude-x", max_tokens=100, messages=MSGS)
    assert m.id.startswith("msg_")
    assert m.type == "message" and m.role == "assistant" and m.model == "claude-x"
    assert m.stop_reason == "end_turn" and m.stop_sequence is None
    assert len(m.content) == 1
    block = m.content[0]
    assert block.type == "text" and block.text == ANSWER
    assert m.usage.output_tokens == count_tokens(ANSWER)
    assert m.usage.input_tokens > count_tokens(PROMPT)
    assert m.usage.cache_read_input_tokens == 0
    assert m.usage.cache_creation_input_tokens == 0


def test_system_prompt_forms(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    bare = ant.messages.create(model="m", max_tokens=100, messages=MSGS)
    as_text = ant.messages.create(
        model="m", max_tokens=100, messages=MSGS, system="You are a terse assistant."
    )
    as_blocks = ant.messages.create(
        model="m",
        max_tokens=100,
        messages=MSGS,
        system=[{"type": "text", "text": "You are a terse assistant."}],
    )
    assert as_text.usage.input_tokens == as_blocks.usage.input_tokens
    assert as_text.usage.input_tokens > bare.usage.input_tokens
    with pytest.raises(anthropic.BadRequestError) as info:
        ant.messages.create(
            model="m", max_tokens=100, messages=[{"role": "system", "content": "Be terse."}, *MSGS]
        )  # type: ignore[list-item]
    assert 'Unexpected role "system"' in str(info.value)


def test_streaming_events_in_order(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    events = list(ant.messages.create(model="m", max_tokens=100, messages=MSGS, stream=True))
    kinds = [e.type for e in events]
    n = count_tokens(ANSWER)
    assert kinds == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * n,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start, delta = events[0], events[-2]
    assert start.type == "message_start" and start.message.usage.input_tokens > 0
    assert delta.type == "message_delta"
    assert delta.delta.stop_reason == "end_turn" and delta.usage.output_tokens == n


def test_stream_helper_and_async(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    with ant.messages.stream(model="m", max_tokens=100, messages=MSGS) as stream:
        assert "".join(stream.text_stream) == ANSWER
        final = stream.get_final_message()
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == count_tokens(ANSWER)

    async def go() -> tuple[str, str]:
        async with anthropic.AsyncAnthropic(
            base_url=sb.anthropic_base_url, api_key="k", max_retries=0
        ) as client:
            m = await client.messages.create(model="m", max_tokens=100, messages=MSGS)
            async with client.messages.stream(model="m", max_tokens=100, messages=MSGS) as s:
                text = "".join([t async for t in s.text_stream])
            first = m.content[0]
            return (first.text if first.type == "text" else ""), text

    assert asyncio.run(go()) == (ANSWER, ANSWER)


def test_max_tokens_and_stop_sequences(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    short = ant.messages.create(model="m", max_tokens=4, messages=MSGS)
    assert short.stop_reason == "max_tokens" and short.usage.output_tokens == 4
    assert short.content[0].type == "text" and short.content[0].text == "Summary: The quick"
    stopped = ant.messages.create(
        model="m", max_tokens=100, messages=MSGS, stop_sequences=["zzz", " brown"]
    )
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == " brown"
    assert stopped.content[0].type == "text" and stopped.content[0].text == "Summary: The quick"


def test_images_are_acknowledged(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    m = ant.messages.create(
        model="m",
        max_tokens=100,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                    },
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
                    },
                    {"type": "text", "text": "Describe both."},
                ],
            }
        ],
    )
    assert m.content[0].type == "text"
    assert m.content[0].text == "(2 images received) Summary: Describe both."
    with pytest.raises(anthropic.BadRequestError):
        ant.messages.create(
            model="m",
            max_tokens=10,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": "not base64!",
                            },
                        }
                    ],
                }
            ],
        )


def test_tool_use(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    m = ant.messages.create(
        model="m",
        max_tokens=200,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "Call get_weather. Paris."}],
    )
    assert m.stop_reason == "tool_use"
    assert [b.type for b in m.content] == ["text", "tool_use"]
    tool = m.content[1]
    assert tool.type == "tool_use" and tool.id.startswith("toolu_")
    assert tool.name == "get_weather" and tool.input == {"city": "Call get_weather."}
    forced = ant.messages.create(
        model="m",
        max_tokens=200,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Hello."}],
    )
    assert [b.type for b in forced.content] == ["tool_use"]
    answered = ant.messages.create(
        model="m",
        max_tokens=200,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[
            {"role": "user", "content": "Call get_weather. Paris."},
            {"role": "assistant", "content": [b.model_dump() for b in m.content]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": tool.id,
                        "content": "Sunny and warm. Some clouds.",
                    }
                ],
            },
        ],
    )
    assert answered.stop_reason == "end_turn"
    assert answered.content[0].type == "text"
    assert answered.content[0].text == "Tool result: Sunny and warm. Some clouds."


def test_streamed_tool_use_is_assembled_by_the_sdk(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    with ant.messages.stream(
        model="m",
        max_tokens=200,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "Use get_weather."}],
    ) as s:
        final = s.get_final_message()
    assert final.stop_reason == "tool_use"
    tool = final.content[-1]
    assert tool.type == "tool_use" and tool.input == {"city": "Use get_weather."}


def test_cached_model_reports_cache_reads(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    plain = ant.messages.create(model="sandbox-claude", max_tokens=50, messages=MSGS)
    cached = ant.messages.create(model="sandbox-claude-cached", max_tokens=50, messages=MSGS)
    reads = cached.usage.cache_read_input_tokens
    assert reads is not None and reads > 0
    # Anthropic's input_tokens excludes cache reads, unlike OpenAI's prompt_tokens.
    assert cached.usage.input_tokens + reads == plain.usage.input_tokens


def test_wrong_key_is_rejected(locked: Sandbox) -> None:
    wrong = anthropic.Anthropic(base_url=locked.anthropic_base_url, api_key="nope", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as info:
        wrong.messages.create(model="m", max_tokens=10, messages=MSGS)
    assert isinstance(info.value.body, dict)
    assert info.value.body["error"]["type"] == "authentication_error"
    right = anthropic.Anthropic(
        base_url=locked.anthropic_base_url, api_key="sk-sandbox-secret", max_retries=0
    )
    assert right.messages.create(model="m", max_tokens=10, messages=MSGS).content
    for client in (wrong, right):
        client.close()


def test_models_list(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    ant.messages.create(model="claude-seen-here", max_tokens=10, messages=MSGS)
    models = list(ant.models.list())
    ids = [m.id for m in models]
    assert "sandbox-claude" in ids and "claude-seen-here" in ids
    assert all(m.type == "model" and m.display_name for m in models)
    assert ant.models.retrieve("sandbox-claude").id == "sandbox-claude"
