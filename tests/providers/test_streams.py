"""The per-wire stream state machines, fed event by event (what no sandbox fault produces)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from router.errors import ModelError, ProviderUnavailable
from router.providers._anthropic_wire import AnthropicStream
from router.providers._openai_wire import OpenAIStream
from router.types import Message, Request, ToolCall

REQUEST = Request("m", "mid", "p", (Message("user", "hi"),))


@pytest.mark.parametrize("make", [OpenAIStream, AnthropicStream])
@pytest.mark.parametrize(
    "data", ["{not json", "[1, 2]", '{"type": "content_block_delta"}', '{"choices": [7]}']
)
def test_malformed_events_are_model_errors(make: type, data: str) -> None:
    state = make(REQUEST, None)
    try:
        state.feed("content_block_delta", data)
    except ModelError as err:
        assert "stream event" in str(err) and err.provider == "p"
    else:  # some shapes are merely irrelevant to one wire; then the stream must not finish
        with pytest.raises(ProviderUnavailable):
            state.final()


def test_openai_tool_call_deltas_are_assembled() -> None:
    state = OpenAIStream(REQUEST, None)
    deltas = [
        {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": ""}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"a": '}}]},
        {"tool_calls": [{"index": 1, "id": "c2", "function": {"name": "g", "arguments": "{}"}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]},
    ]
    for d in deltas:
        assert state.feed(None, json.dumps({"choices": [{"index": 0, "delta": d}]})) is None
    state.feed(
        None, json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    )
    state.feed(None, "[DONE]")
    final = state.final()
    assert final.tool_calls == (ToolCall("c1", "f", '{"a": 1}'), ToolCall("c2", "g", "{}"))
    # No usage event in this stream: unknown (None), never reported as zero.
    assert final.finish_reason == "tool_calls" and final.usage is None


def test_openai_stream_without_done_but_finished_is_accepted() -> None:
    state = OpenAIStream(REQUEST, None)
    state.feed(None, json.dumps({"choices": [{"index": 0, "delta": {"content": "x"}}]}))
    with pytest.raises(ProviderUnavailable, match="terminal event"):
        state.final()
    state.feed(
        None, json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
    )
    assert state.final().finish_reason == "length"


def test_anthropic_tool_input_from_start_or_deltas() -> None:
    state = AnthropicStream(REQUEST, None)
    events: list[dict[str, Any]] = [
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "t0", "name": "f", "input": {"a": 1}},
        },
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "t1", "name": "g", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"b": '},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": "2}"},
        },
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 9, "input_tokens": 5, "cache_read_input_tokens": 3},
        },
        {"type": "message_stop"},
    ]
    for e in events:
        state.feed(e["type"], json.dumps(e))
    final = state.final()
    assert final.tool_calls == (ToolCall("t0", "f", '{"a": 1}'), ToolCall("t1", "g", '{"b": 2}'))
    assert final.finish_reason == "tool_calls"
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.cached_input_tokens) == (8, 3)
