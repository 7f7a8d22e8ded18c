"""Usage as each wire reports it, read into one meaning: prompt-cache reads and writes inside
``input_tokens``, reasoning inside ``output_tokens`` (never added twice), and reasoning text
from OpenAI-compatible servers kept apart from the answer."""

from __future__ import annotations

import json

from router.providers import _anthropic_wire, _openai_wire
from router.types import Message, Request

REQUEST = Request("m", "m-id", "p", (Message("user", "hi"),))


def test_anthropic_input_tokens_leave_out_the_cache_which_is_added_back() -> None:
    usage = _anthropic_wire.parse_usage(
        {
            "input_tokens": 50,
            "cache_creation_input_tokens": 1000,
            "cache_read_input_tokens": 2000,
            "output_tokens": 70,
        }
    )
    assert (usage.input_tokens, usage.cache_write_tokens, usage.cache_read_tokens) == (
        3050,
        1000,
        2000,
    )
    assert usage.uncached_input_tokens == 50 and usage.total_tokens == 3120


def test_anthropic_stream_usage_is_not_erased_by_nulls_in_message_delta() -> None:
    stream = _anthropic_wire.AnthropicStream(REQUEST, None)
    start = {"usage": {"input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 1}}
    stream.feed("message_start", f'{{"type": "message_start", "message": {_json(start)}}}')
    stream.feed(
        "message_delta",
        '{"type": "message_delta", "delta": {"stop_reason": "end_turn"}, '
        '"usage": {"output_tokens": 9, "cache_read_input_tokens": null}}',
    )
    stream.feed("message_stop", '{"type": "message_stop"}')
    usage = stream.final().usage
    assert usage is not None
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (105, 100, 9)


def test_openai_reasoning_tokens_are_part_of_completion_tokens() -> None:
    usage = _openai_wire.parse_usage(
        {
            "prompt_tokens": 2000,
            "completion_tokens": 600,
            "total_tokens": 2600,
            "prompt_tokens_details": {"cached_tokens": 1536},
            "completion_tokens_details": {"reasoning_tokens": 512},
        }
    )
    assert (usage.input_tokens, usage.cached_input_tokens, usage.uncached_input_tokens) == (
        2000,
        1536,
        464,
    )
    assert (usage.output_tokens, usage.reasoning_tokens, usage.total_tokens) == (600, 512, 2600)


def test_compatible_servers_reasoning_content_is_not_the_answer() -> None:
    data = {
        "id": "x",
        "choices": [
            {
                "finish_reason": "stop",
                "message": {"content": "42", "reasoning_content": "Six times seven."},
            }
        ],
    }
    r = _openai_wire.parse_response(data, REQUEST, 0.1)
    assert (r.content, r.reasoning) == ("42", "Six times seven.")
    stream = _openai_wire.OpenAIStream(REQUEST, None)
    chunk = stream.feed(None, '{"choices": [{"index": 0, "delta": {"reasoning_content": "Hm"}}]}')
    assert chunk is not None and (chunk.delta, chunk.reasoning) == ("", "Hm")


def _json(value: object) -> str:
    return json.dumps(value)
