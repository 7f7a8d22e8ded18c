"""The Anthropic SDK, unmodified, against `router serve`: Messages plain and streamed, tools,
the model list; the answer comes from either upstream wire format."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from router.sandbox import Sandbox

from .helpers import GATEWAY_KEY, Gateway

ASK = [{"role": "user", "content": "The sky is blue today."}]
WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture
def client(gateway: Gateway) -> Any:
    c = anthropic.Anthropic(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0)
    yield c
    c.close()


@pytest.mark.parametrize("task", ["claude", "chat"])  # an Anthropic upstream, an OpenAI one
def test_a_message(client: Any, task: str) -> None:
    raw = client.messages.with_raw_response.create(
        model=task, max_tokens=100, system="Be brief.", messages=ASK
    )
    msg = raw.parse()
    assert msg.content[0].type == "text"
    assert msg.content[0].text == "Summary: The sky is blue today."
    assert msg.stop_reason == "end_turn" and msg.role == "assistant"
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0
    assert raw.headers["x-router-task"] == task
    assert msg.id == "msg_" + raw.headers["x-request-id"]


def test_a_streamed_message_has_every_event(client: Any) -> None:
    with client.messages.stream(model="claude", max_tokens=100, messages=ASK) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    for kind in (
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
    ):
        assert kind in kinds
    assert final.content[0].text == "Summary: The sky is blue today."
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


def test_tool_use_and_its_result(client: Any, sb: Sandbox) -> None:
    ask = [{"role": "user", "content": "What is the weather in Paris? Use get weather."}]
    msg = client.messages.create(model="claude", max_tokens=100, messages=ask, tools=[WEATHER])
    assert msg.stop_reason == "tool_use"
    (use,) = [b for b in msg.content if b.type == "tool_use"]
    assert use.name == "get_weather" and "city" in use.input
    with client.messages.stream(
        model="chat", max_tokens=100, messages=ask, tools=[WEATHER], tool_choice={"type": "any"}
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content][-1] == "tool_use"
    assert final.stop_reason == "tool_use"
    follow = [
        *ask,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in msg.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "Sunny, 21 C."}],
        },
    ]
    again = client.messages.create(model="claude", max_tokens=100, messages=follow, tools=[WEATHER])
    assert again.content[0].text.startswith("Tool result: Sunny")
    # What reached the upstream: the tool result as the provider's own tool_result block.
    sent = sb.requests[-1].body["messages"]
    assert sent[-1]["content"][0]["type"] == "tool_result"


def test_the_model_list_in_anthropics_shape(client: Any) -> None:
    page = client.models.list()
    assert [m.id for m in page.data] == ["chat", "claude", "broken", "limited", "slow", "vectors"]
    assert page.data[0].display_name == "General chat"


def test_unknown_task_and_upstream_failure_in_anthropics_error_shape(client: Any) -> None:
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.messages.create(model="nope", max_tokens=10, messages=ASK)
    assert nf.value.body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.APIStatusError) as failed:
        client.messages.create(model="broken", max_tokens=10, messages=ASK)
    assert failed.value.status_code == 502
    assert failed.value.body["error"]["type"] == "api_error"
    assert "503" in failed.value.body["error"]["message"]
    with pytest.raises(anthropic.BadRequestError) as bad:
        client.messages.create(model="chat", max_tokens=10, messages=ASK, extra_body={"top_k": 3})
    assert "top_k" in bad.value.body["error"]["message"]


def test_a_wrong_key_is_refused_in_anthropics_shape(gateway: Gateway, sb: Sandbox) -> None:
    c = anthropic.Anthropic(base_url=gateway.url, api_key="wrong-key", max_retries=0)
    with c, pytest.raises(anthropic.AuthenticationError) as refused:
        c.messages.create(model="chat", max_tokens=10, messages=ASK)
    assert refused.value.body["error"]["type"] == "authentication_error"
    assert sb.requests == []
