"""How prompt-cache markers and reasoning are written and where they go: ``cache_control``
from OpenAI-shaped messages and tools reaches Anthropic untouched and is dropped for OpenAI;
the router's response cache tells marked from unmarked requests; ``thinking`` and
``reasoning_effort`` are checked per call and reach only models that take them; thinking comes
back apart from the text, and its blocks go back to Anthropic unchanged on the next turn."""

from __future__ import annotations

from typing import Any

import pytest

from router import Message, Request, RequestError, TextPart, ToolDefinition
from router.errors import AllModelsFailed
from router.nodes.cache import cache_key
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter

SPEC = (
    PROVIDERS
    + """
models:
  claude: {provider: ant, id: sandbox-claude, pricing: {input: 3, output: 15},
           capabilities: [streaming, tools]}
  gpt: {provider: oai, id: sandbox-gpt, pricing: {input: 2, output: 8},
        capabilities: [streaming, tools]}
tasks:
  claude: {candidates: [claude]}
  gpt: {candidates: [gpt]}
  both: {candidates: [claude], fallback: [gpt]}
"""
)
MARK = {"type": "ephemeral"}
TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look a word up.",
        "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
    },
    "cache_control": MARK,
}
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are terse.", "cache_control": MARK},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "Long context.", "cache_control": {**MARK, "ttl": "1h"}},
            {"type": "text", "text": "Question?"},
        ],
    },
]


def test_markers_reach_anthropic_untouched(make_router: MakeRouter, sb: Sandbox) -> None:
    make_router(SPEC).complete("claude", messages=MESSAGES, tools=[TOOL])
    body = sb.requests[-1].body
    assert body["system"] == [{"type": "text", "text": "You are terse.", "cache_control": MARK}]
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "Long context.", "cache_control": {**MARK, "ttl": "1h"}},
        {"type": "text", "text": "Question?"},
    ]
    assert body["tools"][0]["cache_control"] == MARK


def test_openai_wire_drops_markers(make_router: MakeRouter, sb: Sandbox) -> None:
    make_router(SPEC).complete("gpt", messages=MESSAGES, tools=[TOOL])
    body = sb.requests[-1].body
    assert "cache_control" not in repr(body)
    system = {"role": "system", "content": [{"type": "text", "text": "You are terse."}]}
    assert body["messages"][0] == system


def test_an_unmarked_system_prompt_stays_one_string(make_router: MakeRouter, sb: Sandbox) -> None:
    make_router(SPEC).complete("claude", messages=[{"role": "user", "content": "Hi."}])
    assert isinstance(sb.requests[-1].body["system"], str)


@pytest.mark.parametrize(
    ("messages", "tools", "where"),
    [
        ([{"role": "user", "content": "x", "cache_control": {"type": "forever"}}], None,
         "messages[0].cache_control"),
        ([{"role": "user", "content": [{"type": "text", "text": "x", "cache_control": 1}]}],
         None, "messages[0].content[0].cache_control"),
        ([{"role": "user", "content": "x"}], [{**TOOL, "cache_control": {**MARK, "ttl": "2h"}}],
         "tools[0].cache_control"),
        ([{"role": "user", "content": "x", "thinking_blocks": [{"type": "thinking"}]}], None,
         "messages[0].thinking_blocks"),
    ],
)  # fmt: skip
def test_bad_markers_are_one_clear_error_before_sending(
    make_router: MakeRouter, sb: Sandbox, messages: Any, tools: Any, where: str
) -> None:
    with pytest.raises(RequestError) as caught:
        make_router(SPEC).complete("claude", messages=messages, tools=tools)
    assert caught.value.argument == where
    assert where in str(caught.value)
    assert sb.requests == []


def test_the_response_cache_key_includes_the_markers() -> None:
    def request(part: TextPart, tool: ToolDefinition) -> Request:
        return Request("m", "id", "p", (Message("user", (part,)),), tools=(tool,))

    tool = ToolDefinition("lookup")
    plain = cache_key(request(TextPart("x"), tool), "ns")
    marked = cache_key(request(TextPart("x", MARK), tool), "ns")
    hour = cache_key(request(TextPart("x", {**MARK, "ttl": "1h"}), tool), "ns")
    marked_tool = ToolDefinition("lookup", cache_control=MARK)
    tool_marked = cache_key(request(TextPart("x"), marked_tool), "ns")
    assert len({plain, marked, hour, tool_marked}) == 4
    assert cache_key(request(TextPart("x", dict(MARK)), tool), "ns") == marked


# --- reasoning ----------------------------------------------------------------------------------

THINK = {"type": "enabled", "budget_tokens": 2048}


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_thinking_comes_back_apart_and_round_trips(
    make_router: MakeRouter, sb: Sandbox, stream: bool
) -> None:
    router = make_router(SPEC)
    first_turn = [{"role": "user", "content": "Use lookup on the word 'cache'."}]
    kw: dict[str, Any] = {"thinking": THINK, "tools": [TOOL]}
    if stream:
        s = router.stream("claude", messages=first_turn, **kw)
        chunks = list(s)
        assert s.response is not None
        r = s.response
        assert "".join(c.reasoning for c in chunks) == r.reasoning
        assert all(not (c.delta and c.reasoning) for c in chunks)
    else:
        r = router.complete("claude", messages=first_turn, **kw)
    body = sb.requests[-1].body
    assert body["thinking"] == THINK and body["max_tokens"] > THINK["budget_tokens"]
    assert r.reasoning and r.reasoning.startswith("The user wants:")
    assert r.reasoning not in r.content
    (block,) = r.thinking_blocks
    assert block["type"] == "thinking" and block["thinking"] == r.reasoning and block["signature"]
    assert r.tool_calls and r.finish_reason == "tool_calls"
    # The output tokens include the thinking (Anthropic bills it as output).
    assert r.usage.output_tokens > len(r.reasoning.split())

    second_turn = [
        *first_turn,
        r.to_message(),
        {"role": "tool", "tool_call_id": r.tool_calls[0].id, "content": "a hidden store"},
    ]
    again = router.complete("claude", messages=second_turn, **kw)
    sent = sb.requests[-1].body["messages"][1]["content"]
    assert sent[0] == dict(block)  # first, unchanged: the sandbox checked its signature
    assert again.content

    as_dicts = [*first_turn, r.to_message().to_dict(), second_turn[-1]]
    assert as_dicts[1]["thinking_blocks"] == [dict(block)]
    assert router.complete("claude", messages=as_dicts, **kw).content

    forged = [*first_turn, {**as_dicts[1], "thinking_blocks": [{**block, "thinking": "no"}]}]
    with pytest.raises(AllModelsFailed) as caught:
        router.complete("claude", messages=[*forged, second_turn[-1]], **kw)
    assert "Invalid `signature` in `thinking` block" in str(caught.value.exceptions[0])


def test_thinking_blocks_are_not_sent_to_openai(make_router: MakeRouter, sb: Sandbox) -> None:
    block = {"type": "thinking", "thinking": "hm", "signature": "c2ln"}
    messages = [
        {"role": "user", "content": "Hi."},
        {"role": "assistant", "content": "Hello.", "thinking_blocks": [block]},
        {"role": "user", "content": "Again."},
    ]
    make_router(SPEC).complete("gpt", messages=messages)
    assert "thinking" not in repr(sb.requests[-1].body)


def test_reasoning_effort_reaches_openai(make_router: MakeRouter, sb: Sandbox) -> None:
    r = make_router(SPEC).complete("gpt", prompt="Hi.", reasoning_effort="low")
    assert sb.requests[-1].body["reasoning_effort"] == "low"
    assert r.usage.reasoning_tokens == 32 and r.reasoning is None


@pytest.mark.parametrize(
    ("task", "kw", "argument", "words"),
    [
        ("gpt", {"thinking": THINK}, "thinking", "model 'gpt' cannot take it"),
        ("claude", {"reasoning_effort": "high"}, "reasoning_effort", "model 'claude'"),
        ("both", {"thinking": THINK}, "thinking", "model 'gpt'"),  # the fallback cannot
        ("claude", {"thinking": {"type": "enabled", "budget_tokens": 10}},
         "thinking.budget_tokens", ">= 1024"),
        ("claude", {"thinking": {"type": "on"}}, "thinking", "is not a thinking setting"),
        ("claude", {"thinking": THINK, "max_tokens": 1000}, "max_tokens", "budget_tokens"),
        ("gpt", {"reasoning_effort": "extreme"}, "reasoning_effort", "minimal, low, medium"),
    ],
)  # fmt: skip
def test_reasoning_settings_are_checked_before_sending(
    make_router: MakeRouter, sb: Sandbox, task: str, kw: Any, argument: str, words: str
) -> None:
    with pytest.raises(RequestError) as caught:
        make_router(SPEC).complete(task, prompt="Hi.", **kw)
    assert caught.value.argument == argument and words in str(caught.value)
    assert sb.requests == []


def test_a_mixed_chain_takes_both_settings(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(SPEC)
    router.complete("both", prompt="Hi.", thinking=THINK, reasoning_effort="low")
    body = sb.requests[-1].body
    assert body["thinking"] == THINK and "reasoning_effort" not in body
