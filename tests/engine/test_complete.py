"""Router.complete through the real openai and anthropic SDKs, over HTTP to the sandbox."""

from __future__ import annotations

import pytest

from router import ImagePart, Message, RequestError, TextPart
from router.sandbox import Sandbox

from .helpers import (
    BASIC,
    DEFAULT_SYSTEM,
    MAX_TOKENS_FIELD,
    MODEL,
    MODEL_ID,
    PNG_B64,
    PROVIDER,
    TASK_SYSTEM,
    WEATHER_TOOL,
    MakeRouter,
    expected_cost,
    last_user_content,
    system_sent,
)


def test_plain_completion_reports_spec_names_and_the_providers_model_id(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    r = make_router(BASIC).complete(f"ask-{kind}", prompt="The sky is blue. It is late.")
    assert r.content == "Summary: The sky is blue. It is late."
    assert (r.model, r.model_id, r.provider) == (MODEL[kind], MODEL_ID[kind], PROVIDER[kind])
    assert [(a.model, a.outcome) for a in r.attempts] == [(MODEL[kind], "ok")]
    assert [(q.api, q.model) for q in sb.requests] == [(kind, MODEL_ID[kind])]


def test_messages_may_be_dicts_or_message_objects(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    router = make_router(BASIC)
    as_dicts = router.complete(f"ask-{kind}", [{"role": "user", "content": "Dicts work."}])
    as_objects = router.complete(f"ask-{kind}", [Message("user", "Objects work.")])
    assert (as_dicts.content, as_objects.content) == (
        "Summary: Dicts work.",
        "Summary: Objects work.",
    )


def test_task_system_prompt_is_inserted_once(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    make_router(BASIC).complete(f"ask-{kind}", prompt="Hello.")
    assert system_sent(sb.requests[-1].body, kind) == [TASK_SYSTEM]


def test_default_system_prompt_is_used_when_the_task_has_none(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    make_router(BASIC).complete(f"plain-{kind}", prompt="Hello.")
    assert system_sent(sb.requests[-1].body, kind) == [DEFAULT_SYSTEM]


def test_callers_system_message_is_kept_and_never_duplicated(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    messages = [{"role": "system", "content": "Mine."}, {"role": "user", "content": "Hello."}]
    make_router(BASIC).complete(f"ask-{kind}", messages)
    assert system_sent(sb.requests[-1].body, kind) == ["Mine."]


def test_anthropic_gets_the_system_prompt_in_its_system_field(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    make_router(BASIC).complete("ask-anthropic", prompt="Hello.")
    body = sb.requests[-1].body
    assert body["system"] == TASK_SYSTEM
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_call_params_override_task_params_which_override_model_then_defaults(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    make_router(BASIC).complete(f"ask-{kind}", prompt="Hello.", temperature=1.1, stop=["END"])
    body = sb.requests[-1].body
    assert body["temperature"] == 1.1  # call over task (0.2), model (0.5), defaults (0.9)
    assert body[MAX_TOKENS_FIELD[kind]] == 200  # task over defaults (100)
    assert body["top_p"] == 0.8  # only the defaults set it
    if kind == "openai":
        assert body["stop"] == ["END"]
        assert body["seed"] == 7  # from the model's params
    else:
        assert body["stop_sequences"] == ["END"]


def test_task_params_override_model_params(make_router: MakeRouter, sb: Sandbox, kind: str) -> None:
    make_router(BASIC).complete(f"ask-{kind}", prompt="Hello.")
    assert sb.requests[-1].body["temperature"] == 0.2


def test_model_params_override_defaults(make_router: MakeRouter, sb: Sandbox, kind: str) -> None:
    make_router(BASIC).complete(f"plain-{kind}", prompt="Hello.")
    body = sb.requests[-1].body
    assert body["temperature"] == 0.5
    assert body[MAX_TOKENS_FIELD[kind]] == 100


def test_max_tokens_is_clamped_to_the_models_max_output_tokens(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    make_router(BASIC).complete(f"ask-{kind}", prompt="Hello.", max_tokens=5000)
    assert sb.requests[-1].body[MAX_TOKENS_FIELD[kind]] == 300


def test_usage_and_stop_finish_reason_are_normalized(make_router: MakeRouter, kind: str) -> None:
    r = make_router(BASIC).complete(f"ask-{kind}", prompt="One two three.")
    assert r.finish_reason == "stop"
    assert r.usage.input_tokens > 0
    assert r.usage.output_tokens == 6  # "Summary", ":", "One", "two", "three", "."
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens


def test_running_out_of_max_tokens_is_finish_reason_length(
    make_router: MakeRouter, kind: str
) -> None:
    r = make_router(BASIC).complete(f"ask-{kind}", prompt="One two three.", max_tokens=2)
    assert (r.finish_reason, r.content, r.usage.output_tokens) == ("length", "Summary:", 2)


def test_cost_is_computed_from_the_models_pricing(make_router: MakeRouter, kind: str) -> None:
    r = make_router(BASIC).complete(f"ask-{kind}", prompt="Price this answer.")
    assert r.cost is not None and r.cost > 0
    assert r.cost == pytest.approx(expected_cost(kind, r.usage))


def test_cached_input_counts_in_input_tokens_and_is_priced_as_cached(
    make_router: MakeRouter, kind: str
) -> None:
    router = make_router(BASIC)
    prompt = "A fairly long prompt, so that half of it can be served from the cache."
    cached = router.complete(f"cached-{kind}", prompt=prompt)
    plain = router.complete(f"plain-{kind}", prompt=prompt)
    assert cached.usage.cached_input_tokens > 0
    assert cached.usage.input_tokens == plain.usage.input_tokens  # cached tokens included
    assert cached.cost == pytest.approx(expected_cost(kind, cached.usage))


def test_cost_is_none_when_the_model_has_no_pricing(make_router: MakeRouter, kind: str) -> None:
    r = make_router(BASIC).complete(f"unpriced-{kind}", prompt="Hello.")
    assert r.content and r.cost is None


def test_image_parts_reach_the_wire_and_are_acknowledged(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
        ],
    }
    r = make_router(BASIC).complete(f"ask-{kind}", [message])
    assert r.content == (
        "(1 image received) Good question: What is in this picture? "
        "A real model would answer it here."
    )
    image = last_user_content(sb.requests[-1].body)[1]
    if kind == "openai":
        assert image == {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{PNG_B64}"},
        }
    else:
        assert image == {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64},
        }


def test_image_url_parts_reach_the_wire(make_router: MakeRouter, sb: Sandbox, kind: str) -> None:
    content = (TextPart("Look."), ImagePart(url="https://example.com/a.png"))
    r = make_router(BASIC).complete(f"ask-{kind}", [Message("user", content)])
    assert r.content.startswith("(1 image received)")
    image = last_user_content(sb.requests[-1].body)[1]
    if kind == "openai":
        assert image["image_url"]["url"] == "https://example.com/a.png"
    else:
        assert image["source"] == {"type": "url", "url": "https://example.com/a.png"}


def test_tool_definitions_are_sent_and_tool_calls_parsed(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    r = make_router(BASIC).complete(
        f"ask-{kind}", prompt="Call get_weather for Paris.", tools=[WEATHER_TOOL]
    )
    assert r.finish_reason == "tool_calls"
    [call] = r.tool_calls
    assert call.name == "get_weather" and call.id
    assert set(call.parsed_arguments()) == {"city"}
    [sent] = sb.requests[-1].body["tools"]
    function = WEATHER_TOOL["function"]
    if kind == "openai":
        assert sent == WEATHER_TOOL
    else:
        assert sent == {
            "name": "get_weather",
            "description": function["description"],
            "input_schema": function["parameters"],
        }


def test_a_tool_result_turn_gets_a_text_answer(make_router: MakeRouter, kind: str) -> None:
    router = make_router(BASIC)
    first = router.complete(
        f"ask-{kind}", prompt="Call get_weather for Paris.", tools=[WEATHER_TOOL]
    )
    [call] = first.tool_calls
    messages = [
        {"role": "user", "content": "Call get_weather for Paris."},
        {"role": "assistant", "content": first.content, "tool_calls": [call.to_dict()]},
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny and warm."},
    ]
    second = router.complete(f"ask-{kind}", messages, tools=[WEATHER_TOOL])
    assert (second.finish_reason, second.content) == ("stop", "Tool result: Sunny and warm.")


@pytest.mark.parametrize(
    "param",
    [
        {"base_url": "http://evil.example/v1"},
        {"api_key": "sk-other"},
        {"model": "gpt-4o"},
        {"headers": {"x": "y"}},
    ],
    ids=lambda p: next(iter(p)),
)
def test_per_call_endpoint_key_and_model_overrides_are_refused_before_sending(
    make_router: MakeRouter, sb: Sandbox, param: dict[str, object]
) -> None:
    router = make_router(BASIC)
    with pytest.raises(RequestError, match="refused"):
        router.complete("ask-openai", prompt="Hello.", **param)
    assert sb.requests == []


def test_unknown_parameter_is_a_request_error_and_sends_nothing(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    with pytest.raises(RequestError, match="unknown parameter frobnicate"):
        make_router(BASIC).complete("ask-openai", prompt="Hello.", frobnicate=1)
    assert sb.requests == []


def test_unknown_task_without_default_is_a_request_error_and_sends_nothing(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    with pytest.raises(RequestError, match="unknown task 'nope'"):
        make_router(BASIC).complete("nope", prompt="Hello.")
    assert sb.requests == []


def test_invalid_messages_are_a_request_error(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(BASIC)
    with pytest.raises(RequestError, match="invalid messages"):
        router.complete("ask-openai", [{"role": "robot", "content": "beep"}])
    with pytest.raises(RequestError, match="exactly one of"):
        router.complete("ask-openai")
    assert sb.requests == []


def test_penalties_are_sent_to_openai_but_never_to_anthropic(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(
        """
version: 1
providers:
  o: {type: openai, base_url: "{openai}", api_key_env: SANDBOX_API_KEY, local: true}
  a: {type: anthropic, base_url: "{anthropic}", api_key_env: SANDBOX_API_KEY, local: true}
models:
  gpt: {provider: o, id: gpt-x}
  claude: {provider: a, id: claude-x, max_output_tokens: 1000}
tasks:
  t1: {candidates: [gpt]}
  t2: {candidates: [claude]}
defaults:
  params: {presence_penalty: 0.5, frequency_penalty: 0.25}
"""
    )
    router.complete("t1", prompt="Hello there.")
    assert sb.requests[-1].body["presence_penalty"] == 0.5
    assert sb.requests[-1].body["frequency_penalty"] == 0.25
    router.complete("t2", prompt="Hello there.")
    body = sb.requests[-1].body
    assert "presence_penalty" not in body and "frequency_penalty" not in body
    # Anthropic needs max_tokens: the default is capped by the model's max_output_tokens.
    assert body["max_tokens"] == 1000
