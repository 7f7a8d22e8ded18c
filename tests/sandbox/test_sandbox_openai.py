"""The sandbox through the real openai SDK, over real HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import openai
import pytest

from router.sandbox import Sandbox, count_tokens

PROMPT = "The quick brown fox jumps over the lazy dog. It was not amused by any of this."
MSGS: list[Any] = [{"role": "user", "content": PROMPT}]
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(32)).decode()
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["c", "f"]},
                "days": {"type": "integer"},
            },
            "required": ["city", "unit"],
        },
    },
}


def test_plain_completion_has_the_real_shape(sb: Sandbox, oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model="gpt-x", messages=MSGS)
    assert r.id.startswith("chatcmpl-")
    assert r.object == "chat.completion"
    assert r.model == "gpt-x"
    assert r.system_fingerprint
    choice = r.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "Summary: The quick brown fox jumps over the lazy dog."
    assert choice.message.refusal is None
    assert choice.message.tool_calls is None
    usage = r.usage
    assert usage is not None
    assert usage.completion_tokens == count_tokens(choice.message.content)
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 0


def test_answers_are_deterministic_and_prompt_tokens_grow(sb: Sandbox, oai: openai.OpenAI) -> None:
    a = oai.chat.completions.create(model="m", messages=MSGS)
    b = oai.chat.completions.create(model="m", messages=MSGS)
    longer = oai.chat.completions.create(
        model="m",
        messages=[
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": PROMPT + " " + PROMPT},
        ],
    )
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.usage == b.usage
    assert a.usage is not None and longer.usage is not None
    assert longer.usage.prompt_tokens > a.usage.prompt_tokens


def test_stream_has_no_usage_unless_asked(sb: Sandbox, oai: openai.OpenAI) -> None:
    chunks = list(oai.chat.completions.create(model="m", messages=MSGS, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Summary: The quick brown fox jumps over the lazy dog."
    # One content chunk per token, between the role chunk and the finish chunk.
    assert len(chunks) == 2 + count_tokens(text)


def test_stream_usage_chunk_with_include_usage(sb: Sandbox, oai: openai.OpenAI) -> None:
    chunks = list(
        oai.chat.completions.create(
            model="m", messages=MSGS, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == []
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == 12
    assert chunks[-2].choices[0].finish_reason == "stop"
    plain = oai.chat.completions.create(model="m", messages=MSGS)
    assert plain.usage is not None and usage.prompt_tokens == plain.usage.prompt_tokens


def test_async_client_plain_and_stream(sb: Sandbox) -> None:
    async def go() -> tuple[str | None, str]:
        async with openai.AsyncOpenAI(
            base_url=sb.openai_base_url, api_key="k", max_retries=0
        ) as client:
            r = await client.chat.completions.create(model="m", messages=MSGS)
            stream = await client.chat.completions.create(model="m", messages=MSGS, stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream])
            return r.choices[0].message.content, text

    plain, streamed = asyncio.run(go())
    assert plain == streamed == "Summary: The quick brown fox jumps over the lazy dog."


def test_max_tokens_truncates_with_length(sb: Sandbox, oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model="m", messages=MSGS, max_completion_tokens=4)
    assert r.choices[0].finish_reason == "length"
    assert r.choices[0].message.content == "Summary: The quick"
    assert r.usage is not None and r.usage.completion_tokens == 4
    legacy = oai.chat.completions.create(model="m", messages=MSGS, max_tokens=2)
    assert legacy.choices[0].message.content == "Summary:"


def test_stop_sequence_cuts_the_answer(sb: Sandbox, oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model="m", messages=MSGS, stop=[" fox", "zzz"])
    assert r.choices[0].message.content == "Summary: The quick brown"
    assert r.choices[0].finish_reason == "stop"


def test_images_are_acknowledged(sb: Sandbox, oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(
        model="m",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in these pictures?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/cat.jpg", "detail": "low"},
                    },
                ],
            }
        ],
    )
    assert r.choices[0].message.content == (
        "(2 images received) Good question: What is in these pictures? "
        "A real model would answer it here."
    )
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(
            model="m",
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}
                    ],
                }
            ],
        )
    assert info.value.code == "invalid_value"


def test_tool_call_when_the_tool_is_mentioned(sb: Sandbox, oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(
        model="m",
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "Use get_weather for Paris. Thanks."}],
    )
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {
        "city": "Use get_weather for Paris.",
        "unit": "c",
    }


def test_tool_choice_none_forced_and_tool_result(sb: Sandbox, oai: openai.OpenAI) -> None:
    asked = [{"role": "user", "content": "Use get_weather for Paris."}]
    none = oai.chat.completions.create(
        model="m", tools=[WEATHER_TOOL], messages=asked, tool_choice="none"
    )
    assert none.choices[0].message.tool_calls is None
    forced = oai.chat.completions.create(
        model="m",
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "Hi."}],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    calls = forced.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.name == "get_weather"
    follow_up = oai.chat.completions.create(
        model="m",
        tools=[WEATHER_TOOL],
        messages=[
            *asked,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": calls[0].id,
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": calls[0].function.arguments,
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": calls[0].id, "content": "Sunny, 21 C. Light wind."},
        ],
    )
    assert follow_up.choices[0].finish_reason == "stop"
    assert follow_up.choices[0].message.content == "Tool result: Sunny, 21 C. Light wind."


def test_streamed_tool_call_is_assembled_by_the_sdk(sb: Sandbox, oai: openai.OpenAI) -> None:
    with oai.chat.completions.stream(
        model="m",
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "Call get_weather please."}],
    ) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls
    assert call is not None and call[0].function.name == "get_weather"
    assert json.loads(call[0].function.arguments)["unit"] == "c"
    assert final.choices[0].finish_reason == "tool_calls"


def test_cached_model_reports_cached_tokens(sb: Sandbox, oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model="sandbox-gpt-cached", messages=MSGS)
    assert r.usage is not None and r.usage.prompt_tokens_details is not None
    assert 0 < r.usage.prompt_tokens_details.cached_tokens < r.usage.prompt_tokens


def test_n_choices(sb: Sandbox, oai: openai.OpenAI) -> None:
    r = oai.chat.completions.create(model="m", messages=MSGS, n=2)
    assert [c.index for c in r.choices] == [0, 1]
    assert r.usage is not None and r.usage.completion_tokens == 24


def test_wrong_and_empty_keys_are_rejected(locked: Sandbox) -> None:
    wrong = openai.OpenAI(
        base_url=locked.openai_base_url, api_key="sk-wrong-key-123", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError) as info:
        wrong.chat.completions.create(model="m", messages=MSGS)
    assert info.value.code == "invalid_api_key"
    assert info.value.type == "invalid_request_error"
    empty = openai.OpenAI(
        base_url=locked.openai_base_url,
        api_key="x",
        max_retries=0,
        default_headers={"Authorization": ""},
    )
    with pytest.raises(openai.AuthenticationError):
        empty.chat.completions.create(model="m", messages=MSGS)
    right = openai.OpenAI(
        base_url=locked.openai_base_url, api_key="sk-sandbox-secret", max_retries=0
    )
    assert right.chat.completions.create(model="m", messages=MSGS).choices
    for client in (wrong, empty, right):
        client.close()


def test_request_validation_like_the_real_api(sb: Sandbox, oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(model="m", messages=[])
    assert info.value.code == "empty_array"
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(
            model="m", messages=MSGS, stream_options={"include_usage": True}
        )
    assert info.value.param == "stream_options"
    with pytest.raises(openai.BadRequestError) as info:
        oai.chat.completions.create(model="m", messages=[{"role": "robot", "content": "x"}])
    assert info.value.code == "invalid_value"


def test_models_list(sb: Sandbox, oai: openai.OpenAI) -> None:
    oai.chat.completions.create(model="my-own-model", messages=MSGS)
    ids = [m.id for m in oai.models.list()]
    assert "sandbox-gpt" in ids and "sandbox-claude" in ids and "my-own-model" in ids
    assert oai.models.retrieve("sandbox-gpt").owned_by == "router-sandbox"
    with pytest.raises(openai.NotFoundError):
        oai.models.retrieve("no-such-model")
