"""The pure parts of the gateway: each router error's status and shape, and Anthropic
requests read into the messages the Router takes."""

from __future__ import annotations

import json

import pytest

from router.errors import (
    AllModelsFailed,
    BudgetExceeded,
    ContextWindowExceeded,
    GuardrailRefused,
    NoRouteError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimitError,
    RequestError,
    StateUnavailable,
)
from router.gateway.anthropic_api import messages_call
from router.gateway.errors import anthropic_error, failure_of, openai_error


def _failed(*errors: Exception) -> AllModelsFailed:
    return AllModelsFailed("task 'chat': every model in the chain failed", errors, task="chat")


@pytest.mark.parametrize(
    ("exc", "status", "code", "retry_after"),
    [
        (RequestError("temperature: out of range", argument="temperature"), 400, None, None),
        (NoRouteError("too large for every model", task="chat"), 400, "no_route", None),
        (
            GuardrailRefused("holds a key", guardrail="secrets", kind="openai_key"),
            400,
            "guardrail_refused",
            None,
        ),
        (
            _failed(ProviderTimeout("slow", model="a"), ProviderTimeout("slow", model="b")),
            504,
            "upstream_timeout",
            None,
        ),
        (
            _failed(ProviderUnavailable("down", status=503), ProviderTimeout("slow")),
            502,
            "upstream_error",
            None,
        ),
        (_failed(RateLimitError("busy", status=429, retry_after=7)), 429, "rate_limit_exceeded", 7),
        (
            _failed(RateLimitError("open", local=True, circuit_open=True)),
            503,
            "all_circuits_open",
            1,
        ),
        (_failed(ContextWindowExceeded("too long")), 400, "context_length_exceeded", None),
        (StateUnavailable("redis at 127.0.0.1:1"), 503, "state_unavailable", 1),
    ],
)
def test_each_error_has_its_status(
    exc: Exception, status: int, code: str | None, retry_after: float | None
) -> None:
    f = failure_of(exc)
    assert (f.status, f.code) == (status, code)
    assert f.retry_after == retry_after
    body = json.loads(openai_error(f))["error"]
    assert set(body) == {"message", "type", "param", "code"} and body["message"] == f.message
    shaped = json.loads(anthropic_error(f, "req-1"))
    assert shaped["type"] == "error" and shaped["request_id"] == "req-1"
    assert shaped["error"]["message"] == f.message


def test_a_spend_cap_is_429_until_it_resets() -> None:
    exc = BudgetExceeded("cap reached", scope="all", period="daily", spent=5, cap=5, resets_at=1060)
    f = failure_of(exc, now=1000)
    assert (f.status, f.type, f.retry_after) == (429, "insufficient_quota", 60)
    assert f.headers() == [(b"retry-after", b"60")]


def test_an_unexpected_exception_says_nothing_of_itself() -> None:
    f = failure_of(KeyError("sk-secret"))
    assert f.status == 500 and "sk-secret" not in f.message


def test_anthropic_blocks_become_the_routers_messages() -> None:
    call = messages_call(
        {
            "model": "chat",
            "max_tokens": 64,
            "system": [{"type": "text", "text": "Be brief."}],
            "stop_sequences": ["END"],
            "tool_choice": {"type": "tool", "name": "lookup"},
            "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
            "metadata": {"user_id": "u-1"},
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Look this up."},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
                        },
                    ],
                },
                {
                    "role": "assistant",
                    "content": [
                        {"type": "thinking", "thinking": "...", "signature": "s"},
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": "lookup",
                            "input": {"q": "x"},
                        },
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": [{"type": "text", "text": "found"}],
                        },
                        {"type": "text", "text": "And now?"},
                    ],
                },
            ],
        }
    )
    assert call.params == {
        "max_tokens": 64,
        "stop": ["END"],
        "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "function", "function": {"name": "lookup"}},
    }
    assert call.metadata == {"user_id": "u-1"}
    assert [m["role"] for m in call.messages] == ["system", "user", "assistant", "tool", "user"]
    assert call.messages[1]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,AAAA"},
    }
    assert call.messages[2]["content"] is None
    assert call.messages[2]["tool_calls"][0]["function"] == {
        "name": "lookup",
        "arguments": '{"q": "x"}',
    }
    assert call.messages[3] == {"role": "tool", "tool_call_id": "toolu_1", "content": "found"}


@pytest.mark.parametrize(
    ("body", "argument"),
    [
        ({"model": "chat", "messages": []}, "max_tokens"),
        ({"model": "chat", "max_tokens": 5, "messages": [], "thinking": {}}, "thinking"),
        (
            {
                "model": "chat",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "document"}]}],
            },
            "messages[0].content[0]",
        ),
        ({"model": "chat", "max_tokens": True, "messages": []}, "max_tokens"),
    ],
)
def test_what_the_gateway_cannot_pass_is_refused(body: dict[str, object], argument: str) -> None:
    with pytest.raises(RequestError) as refused:
        messages_call(body)
    assert refused.value.argument == argument


def test_anthropic_cache_marks_go_through_to_the_router() -> None:
    mark = {"type": "ephemeral"}
    call = messages_call(
        {
            "model": "chat",
            "max_tokens": 64,
            "system": [{"type": "text", "text": "Long rules.", "cache_control": mark}],
            "tools": [
                {"name": "lookup", "input_schema": {"type": "object"}, "cache_control": mark}
            ],
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Long document.", "cache_control": mark},
                        {"type": "text", "text": "Question?"},
                    ],
                }
            ],
        }
    )
    assert call.messages[0] == {
        "role": "system",
        "content": [{"type": "text", "text": "Long rules.", "cache_control": mark}],
    }
    assert call.messages[1]["content"] == [
        {"type": "text", "text": "Long document.", "cache_control": mark},
        {"type": "text", "text": "Question?"},
    ]
    assert call.params["tools"][0]["cache_control"] == mark
    unmarked = messages_call(
        {"model": "chat", "max_tokens": 8, "system": [{"type": "text", "text": "Be brief."}],
         "messages": [{"role": "user", "content": "Hi."}]}
    )  # fmt: skip
    assert unmarked.messages[0] == {"role": "system", "content": "Be brief."}
