"""The OpenAI SDK and curl, unmodified, against `router serve` (the sandbox upstream)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import openai
import pytest

from router.sandbox import Sandbox

from .helpers import GATEWAY_KEY, Gateway

PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kg"
    "AAAABJRU5ErkJggg=="
)
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
ASK = [{"role": "user", "content": "The sky is blue today."}]


@pytest.fixture
def client(gateway: Gateway) -> Any:
    c = openai.OpenAI(base_url=gateway.url + "/v1", api_key=GATEWAY_KEY, max_retries=0)
    yield c
    c.close()


def test_a_completion_answers_with_the_routers_decision_in_headers(
    client: Any, sb: Sandbox
) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="chat", messages=ASK, extra_headers={"x-request-id": "req-42"}
    )
    done = raw.parse()
    assert done.choices[0].message.content == "Summary: The sky is blue today."
    assert done.choices[0].finish_reason == "stop"
    assert done.model == "gpt"
    assert done.usage.prompt_tokens > 0 and done.usage.completion_tokens > 0
    h = raw.headers
    assert (h["x-router-task"], h["x-router-model"], h["x-router-attempts"]) == ("chat", "gpt", "1")
    assert h["x-router-route"] == "gpt:ok"
    assert float(h["x-router-cost-usd"]) > 0
    assert h["x-request-id"] == "req-42" and done.id == "chatcmpl-req-42"
    assert GATEWAY_KEY not in str(dict(h)) and "sk-sandbox" not in str(dict(h))
    # The upstream got the model the spec names, with the spec's key, not the caller's.
    assert [r.model for r in sb.requests] == ["sandbox-gpt"]


def test_a_failing_model_falls_back_and_the_headers_show_the_route(
    client: Any, sb: Sandbox
) -> None:
    sb.script("500", times=1, model="sandbox-gpt")
    raw = client.chat.completions.with_raw_response.create(model="chat", messages=ASK)
    assert raw.headers["x-router-model"] == "claude"
    assert raw.headers["x-router-attempts"] == "2"
    assert raw.headers["x-router-route"] == "gpt:unavailable,claude:ok"
    assert raw.parse().choices[0].message.content == "Summary: The sky is blue today."


def test_a_content_rule_applies_to_the_gateways_calls_and_confines_them(
    client: Any, sb: Sandbox
) -> None:
    secret = [{"role": "user", "content": "This memo is CONFIDENTIAL. Summarize it."}]
    raw = client.chat.completions.with_raw_response.create(model="chat", messages=secret)
    assert raw.headers["x-router-model"] == "claude"
    sb.script("500", times=1, model="sandbox-claude")
    with pytest.raises(openai.APIStatusError):
        client.chat.completions.create(model="chat", messages=secret)
    # The failure did not move on to the task's gpt: the rule's candidates confine it.
    assert [r.model for r in sb.requests] == ["sandbox-claude", "sandbox-claude"]


def test_a_stream_ends_with_usage_and_done(client: Any) -> None:
    chunks = list(
        client.chat.completions.create(
            model="chat", messages=ASK, stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Summary: The sky is blue today."
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


def test_a_stream_without_include_usage_has_no_usage_chunk(client: Any) -> None:
    chunks = list(client.chat.completions.create(model="claude", messages=ASK, stream=True))
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices for c in chunks)


def test_tools_plain_and_streamed(client: Any) -> None:
    ask = [{"role": "user", "content": "What is the weather in Paris? Use get weather."}]
    done = client.chat.completions.create(model="chat", messages=ask, tools=[WEATHER])
    (call,) = done.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and "city" in json.loads(call.function.arguments)
    assert done.choices[0].finish_reason == "tool_calls"
    chunks = list(
        client.chat.completions.create(model="chat", messages=ask, tools=[WEATHER], stream=True)
    )
    calls = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    assert [(c.index, c.function.name) for c in calls] == [(0, "get_weather")]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    # The tool's result goes back in, and the model answers in text.
    follow = [
        *ask,
        done.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C."},
    ]
    again = client.chat.completions.create(model="chat", messages=follow, tools=[WEATHER])
    assert again.choices[0].message.content.startswith("Tool result: Sunny")


def test_images_response_format_and_developer_messages_pass_through(
    client: Any, sb: Sandbox
) -> None:
    done = client.chat.completions.create(
        model="chat",
        messages=[
            {"role": "developer", "content": "Answer in JSON."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in this picture?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ],
            },
        ],
        response_format={"type": "json_object"},
        max_completion_tokens=50,
        user="alice",
    )
    assert done.choices[0].message.content.startswith("(1 image received)")
    sent = sb.requests[-1].body
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["messages"][0]["role"] == "system"
    assert 50 in (sent.get("max_tokens"), sent.get("max_completion_tokens"))


def test_the_model_list_is_the_tasks(client: Any) -> None:
    ids = [m.id for m in client.models.list()]
    assert ids == ["chat", "claude", "broken", "limited", "slow", "vectors"]
    assert client.models.retrieve("chat").id == "chat"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_curl_json_and_stream(gateway: Gateway) -> None:
    body = json.dumps({"model": "chat", "messages": ASK})
    auth = ["-H", f"Authorization: Bearer {GATEWAY_KEY}", "-H", "Content-Type: application/json"]
    url = gateway.url + "/v1/chat/completions"
    out = subprocess.run(["curl", "-sS", *auth, "-d", body, url], capture_output=True, check=True)
    assert json.loads(out.stdout)["choices"][0]["message"]["content"].startswith("Summary:")
    streamed = json.dumps({"model": "chat", "messages": ASK, "stream": True})
    out = subprocess.run(
        ["curl", "-sS", "-N", "-i", *auth, "-d", streamed, url], capture_output=True, check=True
    )
    head, _, events = out.stdout.decode().partition("\r\n\r\n")
    assert "content-type: text/event-stream" in head.lower()
    assert "x-router-model: gpt" in head.lower()
    lines = [e for e in events.split("\n\n") if e.strip()]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith("data: {") for line in lines[:-1])
