"""Every per-call argument is checked before anything is sent: each bad one is one
RequestError naming the argument, and the sandbox receives nothing. Also: a request no model
can take is one NoRouteError (or a ConfigError when only the environment is missing), and a
provider misconfigured at call time never loses a request another model can serve."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from router import (
    AllModelsFailed,
    ConfigError,
    ImagePart,
    Message,
    NoRouteError,
    ProviderConfigError,
    RequestError,
    Router,
    TextPart,
    ToolCall,
    ToolDefinition,
)
from router.routing.arguments import NUMBER_RULES
from router.sandbox import Sandbox
from router.spec import load_spec
from router.spec.schema import schema

from .helpers import BASIC, PNG_B64, PROVIDERS, SANDBOX_KEY, WEATHER_TOOL, MakeRouter, attempt_log

PNG_URL = f"data:image/png;base64,{PNG_B64}"


def user(*content: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(content)}]


def image(url: str, **extra: Any) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url, **extra}}


def tool(name: str = "get_weather", parameters: Any = None, **fn: Any) -> dict[str, Any]:
    body = {"name": name, **fn}
    if parameters is not None:
        body["parameters"] = parameters
    return {"type": "function", "function": body}


def nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "object"}
    for _ in range(depth):
        node = {"type": "object", "properties": {"x": node}}
    return node


ASSISTANT_CALL = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    ],
}

# (id, keyword arguments of complete(), the argument the error must name)
BAD: list[tuple[str, dict[str, Any], str]] = [
    # generation parameters: the spec's params rules, plus no NaN/inf and no bools
    ("temperature-nan", {"temperature": math.nan}, "temperature"),
    ("temperature-inf", {"temperature": math.inf}, "temperature"),
    ("temperature-negative", {"temperature": -0.1}, "temperature"),
    ("temperature-too-high", {"temperature": 2.5}, "temperature"),
    ("temperature-bool", {"temperature": True}, "temperature"),
    ("temperature-string", {"temperature": "0.5"}, "temperature"),
    ("max-tokens-zero", {"max_tokens": 0}, "max_tokens"),
    ("max-tokens-negative", {"max_tokens": -5}, "max_tokens"),
    ("max-tokens-float", {"max_tokens": 10.5}, "max_tokens"),
    ("max-tokens-whole-float", {"max_tokens": 100.0}, "max_tokens"),
    ("max-tokens-bool", {"max_tokens": True}, "max_tokens"),
    ("top-p-2", {"top_p": 2}, "top_p"),
    ("top-p-nan", {"top_p": math.nan}, "top_p"),
    ("seed-string", {"seed": "abc"}, "seed"),
    ("seed-float", {"seed": 1.5}, "seed"),
    ("seed-bool", {"seed": False}, "seed"),
    ("seed-past-64-bits", {"seed": 2**64}, "seed"),
    ("presence-penalty-3", {"presence_penalty": 3}, "presence_penalty"),
    ("frequency-penalty--inf", {"frequency_penalty": -math.inf}, "frequency_penalty"),
    ("stop-five", {"stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ("stop-empty-string", {"stop": ""}, "stop"),
    ("stop-empty-item", {"stop": ["ok", ""]}, "stop[1]"),
    ("stop-number", {"stop": 5}, "stop"),
    ("stop-number-item", {"stop": ["ok", 3]}, "stop[1]"),
    ("stop-surrogate", {"stop": ["a\ud800"]}, "stop[0]"),
    ("timeout-zero", {"timeout": 0}, "timeout"),
    ("timeout-negative", {"timeout": -1}, "timeout"),
    ("timeout-nan", {"timeout": math.nan}, "timeout"),
    ("timeout-inf", {"timeout": math.inf}, "timeout"),
    ("timeout-bool", {"timeout": True}, "timeout"),
    ("timeout-string", {"timeout": "10"}, "timeout"),
    # response formats
    ("response-format-json-string", {"response_format": "json"}, "response_format"),
    ("response-format-unknown-type", {"response_format": {"type": "json"}}, "response_format"),
    (
        "response-format-schema-missing",
        {"response_format": {"type": "json_schema"}},
        "response_format.json_schema",
    ),
    (
        "response-format-bad-name",
        {"response_format": {"type": "json_schema", "json_schema": {"name": "a b"}}},
        "response_format.json_schema.name",
    ),
    (
        "response-format-invalid-schema",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "out", "schema": {"type": "strin"}},
            }
        },
        "response_format.json_schema.schema['type']",
    ),
    # tools
    ("tools-string", {"tools": "get_weather"}, "tools"),
    ("tools-dict", {"tools": WEATHER_TOOL}, "tools"),
    ("tools-item-number", {"tools": [5]}, "tools[0]"),
    ("tools-name-space", {"tools": [tool("get weather")]}, "tools[0].function.name"),
    ("tools-name-too-long", {"tools": [tool("f" * 65)]}, "tools[0].function.name"),
    (
        "tools-name-missing",
        {"tools": [{"type": "function", "function": {}}]},
        "tools[0].function.name",
    ),
    ("tools-name-surrogate", {"tools": [tool("f\ud800")]}, "tools[0].function.name"),
    ("tools-type-retrieval", {"tools": [{"type": "retrieval", "function": {}}]}, "tools[0].type"),
    (
        "tools-parameters-not-a-schema",
        {"tools": [tool(parameters={"type": "object", "properties": []})]},
        "tools[0].function.parameters['properties']",
    ),
    (
        "tools-parameters-bad-type",
        {"tools": [tool(parameters={"type": "object", "properties": {"c": {"type": "strin"}}})]},
        "tools[0].function.parameters['properties']['c']['type']",
    ),
    (
        "tools-parameters-not-an-object-schema",
        {"tools": [tool(parameters={"type": "string"})]},
        "tools[0].function.parameters",
    ),
    ("tools-parameters-list", {"tools": [tool(parameters=[1])]}, "tools[0].function.parameters"),
    (
        "tools-parameters-nan",
        {"tools": [tool(parameters={"type": "object", "maximum": math.nan})]},
        "tools[0].function.parameters",
    ),
    (
        "tools-parameters-set",
        {"tools": [tool(parameters={"type": "object", "enum": {1, 2}})]},
        "tools[0].function.parameters",
    ),
    (
        "tools-parameters-nested-too-deep",
        {"tools": [tool(parameters=nested(100_000))]},
        "tools[0].function.parameters",
    ),
    (
        "tools-description-surrogate",
        {"tools": [tool(description="\udfff")]},
        "tools[0].function.description",
    ),
    ("tools-defined-twice", {"tools": [tool(), tool()]}, "tools[1]"),
    (
        "tools-anthropic-shape-bad-schema",
        {"tools": [{"name": "f", "input_schema": {"type": "object", "required": "city"}}]},
        "tools[0].input_schema['required']",
    ),
    ("tools-item-none", {"tools": [None]}, "tools[0]"),
    (
        "response-format-nested-too-deep",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "out", "schema": nested(100_000)},
            }
        },
        "response_format.json_schema.schema",
    ),
    (
        "response-format-strict-string",
        {"response_format": {"type": "json_schema", "json_schema": {"name": "o", "strict": "yes"}}},
        "response_format.json_schema.strict",
    ),
    # tool_choice
    (
        "tool-choice-function-string",
        {"tools": [WEATHER_TOOL], "tool_choice": {"type": "function", "function": "get_weather"}},
        "tool_choice",
    ),
    ("tool-choice-without-tools", {"tool_choice": "auto"}, "tool_choice"),
    (
        "tool-choice-unknown-mode",
        {"tools": [WEATHER_TOOL], "tool_choice": "sometimes"},
        "tool_choice",
    ),
    (
        "tool-choice-undefined-tool",
        {
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "nope"}},
        },
        "tool_choice",
    ),
    ("tool-choice-number", {"tools": [WEATHER_TOOL], "tool_choice": 1}, "tool_choice"),
    # routing and bookkeeping arguments
    ("metadata-string", {"metadata": "user=1"}, "metadata"),
    ("metadata-list-value", {"metadata": {"user": [1]}}, "metadata['user']"),
    ("metadata-none-value", {"metadata": {"user": None}}, "metadata['user']"),
    ("metadata-nan-value", {"metadata": {"score": math.nan}}, "metadata['score']"),
    ("metadata-number-key", {"metadata": {1: "x"}}, "metadata"),
    ("metadata-surrogate", {"metadata": {"k": "\ud800"}}, "metadata['k']"),
    ("metadata-empty-key", {"metadata": {"": "x"}}, "metadata"),
    ("stop-five-in-a-tuple", {"stop": ("a",) * 5}, "stop"),
    ("seed-nan", {"seed": math.nan}, "seed"),
    ("tags-none-item", {"tags": [None]}, "tags[0]"),
    ("tags-number", {"tags": 5}, "tags"),
    ("tags-number-item", {"tags": ["ok", 1]}, "tags[1]"),
    ("tags-empty-item", {"tags": [""]}, "tags[0]"),
    ("tags-surrogate", {"tags": ["\ud800"]}, "tags[0]"),
    ("tenant-number", {"tenant": 5}, "tenant"),
    ("tenant-empty", {"tenant": ""}, "tenant"),
    ("tenant-newline", {"tenant": "a\nb"}, "tenant"),
    ("tenant-too-long", {"tenant": "t" * 300}, "tenant"),
    ("tenant-surrogate", {"tenant": "\ud800"}, "tenant"),
    ("cache-string", {"cache": "no"}, "cache"),
    ("cache-zero", {"cache": 0}, "cache"),
    # the prompt and the task
    ("prompt-number", {"prompt": 5}, "prompt"),
    ("prompt-bytes", {"prompt": b"hi"}, "prompt"),
    ("prompt-surrogate", {"prompt": "caf\udce9"}, "prompt"),
    # messages: roles and shapes
    ("messages-string", {"messages": "hello"}, "messages"),
    ("messages-empty", {"messages": []}, "messages"),
    ("messages-item-string", {"messages": ["hello"]}, "messages"),
    ("messages-number", {"messages": 5}, "messages"),
    ("messages-nested-list", {"messages": [[{"role": "user", "content": "x"}]]}, "messages"),
    ("part-none", {"messages": user(None)}, "messages[0].content[0]"),
    ("role-robot", {"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
    ("role-unhashable", {"messages": [{"role": ["user"], "content": "x"}]}, "messages[0].role"),
    ("content-number", {"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    ("content-missing", {"messages": [{"role": "user"}]}, "messages[0].content"),
    ("part-unknown", {"messages": user({"type": "audio"})}, "messages[0].content[0]"),
    (
        "part-text-number",
        {"messages": user({"type": "text", "text": 5})},
        "messages[0].content[0].text",
    ),
    (
        "content-surrogate",
        {"messages": [{"role": "user", "content": "ok"}, {"role": "user", "content": "\ud83d!"}]},
        "messages[1].content",
    ),
    (
        "part-surrogate",
        {"messages": user({"type": "text", "text": "ok"}, {"type": "text", "text": "\udc80"})},
        "messages[0].content[1].text",
    ),
    (
        "name-surrogate",
        {"messages": [{"role": "user", "content": "x", "name": "\ud800"}]},
        "messages[0].name",
    ),
    (
        "name-with-space",
        {"messages": [{"role": "user", "content": "x", "name": "a b"}]},
        "messages[0].name",
    ),
    (
        "tool-calls-on-user",
        {
            "messages": [
                {"role": "user", "content": "x", "tool_calls": ASSISTANT_CALL["tool_calls"]}
            ]
        },
        "messages[0].tool_calls",
    ),
    (
        "tool-call-id-on-user",
        {"messages": [{"role": "user", "content": "x", "tool_call_id": "c1"}]},
        "messages[0].tool_call_id",
    ),
    (
        "tool-without-call-id",
        {"messages": [{"role": "tool", "content": "x"}]},
        "messages[0].tool_call_id",
    ),
    (
        "tool-call-bad-name",
        {
            "messages": [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c1", "function": {"name": "a/b", "arguments": "{}"}}],
                }
            ]
        },
        "messages[0].tool_calls[0].function.name",
    ),
    (
        "tool-call-arguments-not-json",
        {
            "messages": [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{oops"}}],
                }
            ]
        },
        "messages[0].tool_calls[0].function.arguments",
    ),
    (
        "tool-call-arguments-surrogate",
        {
            "messages": [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "function": {"name": "f", "arguments": '{"q": "\ud800"}'}}
                    ],
                }
            ]
        },
        "messages[0].tool_calls[0].function.arguments",
    ),
    (
        "tool-call-arguments-nested-too-deep",
        {
            "messages": [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "function": {"name": "f", "arguments": nested(100_000)}}
                    ],
                }
            ]
        },
        "messages[0].tool_calls[0].function.arguments",
    ),
    (
        "tool-call-without-id",
        {
            "messages": [
                {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f"}}]}
            ]
        },
        "messages[0].tool_calls[0].id",
    ),
    # images: https: or data:image/*;base64 only
    (
        "image-file-url",
        {"messages": user(image("file:///etc/passwd"))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-http-url",
        {"messages": user(image("http://example.com/a.png"))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-ftp-url",
        {"messages": user(image("ftp://example.com/a.png"))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-relative-url",
        {"messages": user(image("/a.png"))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-https-no-host",
        {"messages": user(image("https:///a.png"))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-https-credentials",
        {"messages": user(image("https://user:pw@example.com/a.png"))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-https-space",
        {"messages": user(image("https://exa mple.com/a.png"))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-data-not-an-image",
        {"messages": user(image("data:text/plain;base64,aGVsbG8="))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-data-svg",
        {"messages": user(image("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-data-not-base64",
        {"messages": user(image(PNG_URL + "!!"))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-data-not-base64-encoded",
        {"messages": user(image("data:image/png,abc"))},
        "messages[0].content[0].image_url.url",
    ),
    (
        "image-detail-unknown",
        {"messages": user(image(PNG_URL, detail="ultra"))},
        "messages[0].content[0].image_url.detail",
    ),
    (
        "image-url-missing",
        {"messages": user({"type": "image_url", "image_url": {}})},
        "messages[0].content[0].image_url",
    ),
    (
        "image-in-system-message",
        {
            "messages": [
                {"role": "system", "content": [image(PNG_URL)]},
                {"role": "user", "content": "x"},
            ]
        },
        "messages[0].content[0]",
    ),
    # Message objects are checked like dicts
    ("message-object-role", {"messages": [Message("robot", "x")]}, "messages[0].role"),  # type: ignore[arg-type]
    ("message-object-content", {"messages": [Message("user", 5)]}, "messages[0].content"),  # type: ignore[arg-type]
    ("message-object-surrogate", {"messages": [Message("user", "\ud800")]}, "messages[0].content"),
    (
        "message-object-file-image",
        {"messages": [Message("user", (TextPart("x"), ImagePart(url="file:///etc/passwd")))]},
        "messages[0].content[1]",
    ),
    (
        "message-object-pdf-data",
        {
            "messages": [
                Message("user", (ImagePart(data="JVBERi0=", media_type="application/pdf"),))
            ]
        },
        "messages[0].content[0]",
    ),
    (
        "message-object-tool-call-arguments",
        {"messages": [Message("assistant", "", tool_calls=(ToolCall("c1", "f", "[1]"),))]},
        "messages[0].tool_calls[0].arguments",
    ),
]

DRIVERS = ("complete", "stream", "acomplete", "astream")


def call(router: Router, driver: str, kwargs: dict[str, Any], task: str = "ask-openai") -> Any:
    """One call through ``driver``, consumed to the end (streams included)."""
    kwargs = dict(kwargs)
    if "messages" not in kwargs and "prompt" not in kwargs:
        kwargs["prompt"] = "Hi."
    if driver == "complete":
        return router.complete(task, **kwargs)
    if driver == "stream":
        return list(router.stream(task, **kwargs))

    async def go() -> Any:
        if driver == "acomplete":
            return await router.acomplete(task, **kwargs)
        return [chunk async for chunk in router.astream(task, **kwargs)]

    return asyncio.run(go())


def assert_nothing_sent(sb: Sandbox) -> None:
    assert sb.requests == []
    assert sb.stats["requests"] == 0


@pytest.mark.parametrize(("kwargs", "argument"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_a_bad_argument_is_a_request_error_naming_it_and_nothing_is_sent(
    make_router: MakeRouter, sb: Sandbox, kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(RequestError) as info:
        call(make_router(BASIC), "complete", kwargs)
    error = info.value
    assert error.argument == argument
    assert argument in str(error)
    assert not isinstance(error, AllModelsFailed) and error.__cause__ is None
    assert_nothing_sent(sb)


BAD_BY_ID = {c[0]: c[1:] for c in BAD}


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize(
    "case", ["temperature-nan", "tools-parameters-bad-type", "image-file-url", "prompt-surrogate"]
)
def test_every_driver_checks_arguments_before_sending(
    make_router: MakeRouter, sb: Sandbox, driver: str, case: str
) -> None:
    kwargs, argument = BAD_BY_ID[case]
    with pytest.raises(RequestError) as info:
        call(make_router(BASIC), driver, kwargs)
    assert info.value.argument == argument
    assert_nothing_sent(sb)


def test_explain_checks_arguments_too(make_router: MakeRouter) -> None:
    with pytest.raises(RequestError, match="top_p"):
        make_router(BASIC).explain("ask-openai", prompt="Hi.", top_p=2)


@pytest.mark.parametrize("task", [5, None, "chat\ud800"], ids=["number", "none", "surrogate"])
def test_a_task_name_that_is_not_valid_text_is_a_request_error(
    make_router: MakeRouter, sb: Sandbox, task: Any
) -> None:
    with pytest.raises(RequestError) as info:
        with_default = BASIC.replace("\ntasks:\n", "\ntasks:\n  default: {candidates: [gpt]}\n", 1)
        make_router(with_default).complete(task, prompt="Hi.")
    assert info.value.argument == "task"
    assert_nothing_sent(sb)


def test_errors_say_what_is_allowed(make_router: MakeRouter) -> None:
    router = make_router(BASIC)
    expected = {
        "temperature-nan": "expected a finite number from 0 to 2",
        "max-tokens-zero": "expected an integer >= 1",
        "stop-five": "up to 4",
        "response-format-json-string": "{'type': 'json_object'}",
        "tools-name-space": "use 1 to 64 of a-z, A-Z, 0-9, _ and -",
        "tool-choice-undefined-tool": "not in tools (get_weather)",
        "image-file-url": "use an https: URL or inline the image",
        "image-http-url": "plain http: is refused",
        "image-data-not-an-image": "image/png, image/jpeg, image/gif, image/webp",
        "prompt-surrogate": "lone surrogate (U+DCE9)",
        "timeout-zero": "seconds > 0",
    }
    for case, words in expected.items():
        with pytest.raises(RequestError) as info:
            call(router, "complete", BAD_BY_ID[case][0])
        assert words in str(info.value), (case, str(info.value))


def test_per_call_number_rules_are_the_spec_params_rules() -> None:
    params = schema()["$defs"]["params"]["properties"]
    for name, (integer, lo, hi) in NUMBER_RULES.items():
        rule = params[name]
        assert rule["type"] == ("integer" if integer else "number")
        if name == "seed":  # the spec leaves it unbounded; providers take 64 bits
            assert (lo, hi) == (-(2**63), 2**63 - 1)
            continue
        assert (rule.get("minimum"), rule.get("maximum")) == (lo, hi)
    assert params["stop"]["oneOf"][1]["maxItems"] == 4


def test_valid_arguments_at_their_limits_are_sent_as_plain_json(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(BASIC)
    router.complete(
        "ask-openai",
        prompt="Héllo 👋",
        temperature=Fraction(1, 2),
        top_p=1,
        max_tokens=1,
        seed=-(2**63),
        stop=["a", "b", "c", "d"],
        presence_penalty=-2,
        frequency_penalty=2.0,
        timeout=0.5,
        metadata={"user": "u1", "tier": 2, "beta": True, "score": 0.5},
        tags={"x", "y"},
        tenant="acme/eu",
        cache=False,
    )
    body = sb.requests[-1].body
    assert body["temperature"] == 0.5 and type(body["temperature"]) is float
    assert (body["top_p"], body["max_completion_tokens"], body["seed"]) == (1, 1, -(2**63))
    assert body["stop"] == ["a", "b", "c", "d"]
    assert (body["presence_penalty"], body["frequency_penalty"]) == (-2, 2.0)
    assert body["messages"][-1]["content"] == "Héllo 👋"


def test_tools_in_every_accepted_shape_reach_the_wire(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    schema_ = {"type": "object", "properties": {"q": {"type": "string"}}}
    tools = [
        WEATHER_TOOL,
        {"name": "search", "description": "Search.", "parameters": schema_},
        {"name": "lookup", "input_schema": schema_},
        ToolDefinition("ping"),
    ]
    router = make_router(BASIC)
    for choice in ("auto", {"type": "function", "function": {"name": "search"}}, {"name": "ping"}):
        router.complete(f"ask-{kind}", prompt="Weather in Paris?", tools=tools, tool_choice=choice)
    names = [t.get("name") or t["function"]["name"] for t in sb.requests[-1].body["tools"]]
    assert names == ["get_weather", "search", "lookup", "ping"]


def test_a_valid_tool_conversation_with_images_is_sent(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    messages = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Weather?"}, image(PNG_URL, detail="low")],
        },
        {"role": "user", "content": [image("https://example.com/a.png")]},
        ASSISTANT_CALL,
        {"role": "tool", "tool_call_id": "c1", "content": "Sunny."},
    ]
    make_router(BASIC).complete(f"ask-{kind}", messages, tools=[WEATHER_TOOL])
    assert len(sb.requests) == 1


def test_a_text_response_format_needs_no_json_capable_model(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    # claude does not declare json; a "text" format asks for nothing special.
    r = make_router(BASIC).complete("ask-anthropic", prompt="Hi.", response_format={"type": "text"})
    assert r.model == "claude"


def test_a_json_schema_response_format_is_checked_and_sent(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "strict": True, "schema": {"type": "object"}},
    }
    make_router(BASIC).complete("ask-openai", prompt="Hi.", response_format=fmt)
    assert sb.requests[-1].body["response_format"] == fmt


# --- a request no model can take --------------------------------------------------------------

NO_ROUTE = (
    PROVIDERS
    + """
  other:
    type: openai
    base_url: "{openai}"
    api_key_env: OTHER_KEY
    local: true
models:
  small-a: {provider: oai, id: sandbox-gpt, context_window: 1000, capabilities: [streaming]}
  small-b: {provider: ant, id: sandbox-claude, context_window: 2000, capabilities: [streaming]}
  keyed: {provider: other, id: sandbox-gpt-mini, context_window: 100000, capabilities: [streaming]}
tasks:
  small:
    candidates: [small-a]
    fallback: [small-b]
  keyed-only:
    candidates: [keyed]
  mixed:
    candidates: [small-a, keyed]
rules:
  - name: no-secrets
    when: {tags: [secret]}
    exclude: [small-a, small-b]
"""
)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_request_too_large_for_every_window_is_one_no_route_error_with_no_attempt(
    make_router: MakeRouter, sb: Sandbox, driver: str
) -> None:
    with pytest.raises(NoRouteError) as info:
        call(make_router(NO_ROUTE), driver, {"prompt": "word " * 4000}, task="small")
    error = info.value
    assert isinstance(error, RequestError) and not isinstance(error, AllModelsFailed)
    assert [m for m, _ in error.skipped] == ["small-a", "small-b"]
    assert all("context window" in reason for _, reason in error.skipped)
    assert "small-a: context window 1,000 <" in str(error)
    assert "attempt" not in str(error)
    assert_nothing_sent(sb)


def test_a_request_whose_every_model_is_excluded_is_a_no_route_error(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    with pytest.raises(NoRouteError, match="excluded by rule 'no-secrets'") as info:
        make_router(NO_ROUTE).complete("small", prompt="Hi.", tags=["secret"])
    assert info.value.task == "small"
    assert_nothing_sent(sb)


def test_explain_shows_an_empty_chain_instead_of_raising(make_router: MakeRouter) -> None:
    plan = make_router(NO_ROUTE).explain("small", prompt="word " * 4000)
    assert plan.chain == () and [c.model for c in plan.skipped] == ["small-a", "small-b"]


def test_models_skipped_only_for_an_unset_key_make_a_config_error_naming_the_variable(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    with pytest.raises(ConfigError) as info:
        make_router(NO_ROUTE).complete("keyed-only", prompt="Hi.")
    assert not isinstance(info.value, RequestError)
    assert "keyed: OTHER_KEY is not set" in str(info.value)
    assert_nothing_sent(sb)


def test_a_request_another_model_could_take_once_configured_is_a_config_error(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    # small-a is too small; keyed would take it but its key is unset: fix the environment.
    with pytest.raises(ConfigError) as info:
        make_router(NO_ROUTE).complete("mixed", prompt="word " * 4000)
    text = str(info.value)
    assert "small-a: context window" in text and "keyed: OTHER_KEY is not set" in text
    assert_nothing_sent(sb)


# --- configuration that only shows at call time -----------------------------------------------

HEADERS = (
    PROVIDERS.replace(
        "    api_key_env: SANDBOX_API_KEY\n    local: true\n  ant:",
        "    api_key_env: SANDBOX_API_KEY\n    local: true\n    headers:\n"
        "      X-Team: {env: TEAM_HEADER}\n  ant:",
    )
    + """
models:
  gpt: {provider: oai, id: sandbox-gpt}
  claude: {provider: ant, id: sandbox-claude}
tasks:
  openai-first: {candidates: [gpt], fallback: [claude]}
  openai-only: {candidates: [gpt]}
"""
)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("team\r\nX-Injected: 1", "line break"),
        ("team\n", "line break"),
        ("t\x00am", "NUL character"),
        ("équipe", "outside ASCII"),
    ],
    ids=["crlf", "trailing-newline", "nul", "non-ascii"],
)
def test_a_header_value_from_the_environment_that_http_refuses_stops_the_router_being_built(
    make_router: MakeRouter, sb: Sandbox, value: str, words: str
) -> None:
    # Found when the Router is built, named with its variable and JSON path, the value unshown:
    # a deployment with a broken variable fails at start-up, not on some request later.
    with pytest.raises(ConfigError) as info:
        make_router(HEADERS, TEAM_HEADER=value)
    text = str(info.value)
    assert "TEAM_HEADER" in text and "$.providers.oai.headers" in text and words in text
    assert value not in text
    assert_nothing_sent(sb)


def test_an_api_key_with_a_line_break_stops_the_router_being_built(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    with pytest.raises(ConfigError, match="SANDBOX_API_KEY") as info:
        make_router(HEADERS, TEAM_HEADER="team", SANDBOX_API_KEY=SANDBOX_KEY + "\n")
    assert SANDBOX_KEY not in str(info.value)
    assert_nothing_sent(sb)


def _with_base_url(path: Path, provider: str, base_url: str) -> Router:
    """The spec at ``path`` with ``provider``'s base URL replaced after validation: what a
    spec looks like whose URL the HTTP stack refuses only when a request is built."""
    spec = load_spec(path)
    providers = dict(spec.providers)
    providers[provider] = dataclasses.replace(providers[provider], base_url=base_url)
    return Router(
        dataclasses.replace(spec, providers=providers), environ={"SANDBOX_API_KEY": SANDBOX_KEY}
    )


CONFIG_AT_CALL_TIME = (
    PROVIDERS
    + """
models:
  gpt: {provider: oai, id: sandbox-gpt}
  claude: {provider: ant, id: sandbox-claude}
tasks:
  openai-first:
    candidates: [gpt]
    fallback: [claude]
    fallback_on: [rate_limit]   # moves on after a misconfigured model all the same
    retry: {attempts: 3}
  openai-only: {candidates: [gpt], retry: {attempts: 3}}
"""
)


def _config_router(sb: Sandbox, tmp_path: Path) -> Router:
    path = tmp_path / "routes.yaml"
    text = CONFIG_AT_CALL_TIME.replace("{openai}", sb.openai_base_url).replace(
        "{anthropic}", sb.anthropic_base_url
    )
    path.write_text(text, encoding="utf-8")
    return _with_base_url(path, "oai", "http://[::1/v1")


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_provider_misconfigured_at_call_time_is_skipped_not_retried_and_the_chain_moves_on(
    sb: Sandbox, tmp_path: Path, driver: str
) -> None:
    router = _config_router(sb, tmp_path)
    try:
        result = call(router, driver, {"prompt": "Hi."}, task="openai-first")
    finally:
        router.close()
    attempts = result.attempts if driver in ("complete", "acomplete") else None
    if attempts is not None:
        assert attempt_log(attempts) == [("gpt", "ProviderConfigError"), ("claude", None)]
        assert attempts[0].outcome == "skipped"
        assert "base URL cannot be used" in str(attempts[0].error)
    assert [q.model for q in sb.requests] == ["sandbox-claude"]


def test_a_chain_of_only_misconfigured_models_fails_with_config_errors_and_no_retry(
    sb: Sandbox, tmp_path: Path
) -> None:
    router = _config_router(sb, tmp_path)
    try:
        with pytest.raises(AllModelsFailed) as info:
            router.complete("openai-only", prompt="Hi.")
    finally:
        router.close()
    [error] = info.value.exceptions
    assert isinstance(error, ProviderConfigError) and isinstance(error, ConfigError)
    assert error.model == "gpt" and not error.retriable
    assert router.health()["models"]["gpt"]["breaker"]["state"] == "closed"
    assert_nothing_sent(sb)


def test_json_bodies_of_checked_calls_round_trip(make_router: MakeRouter, sb: Sandbox) -> None:
    make_router(BASIC).complete("ask-openai", prompt="x", tools=[WEATHER_TOOL])
    sent = sb.requests[-1].body["tools"][0]["function"]["parameters"]
    assert json.dumps(sent, sort_keys=True) == json.dumps(
        WEATHER_TOOL["function"]["parameters"], sort_keys=True
    )


def test_a_tool_changed_after_a_valid_call_is_checked_again(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(BASIC)
    weather = tool(parameters={"type": "object", "properties": {"city": {"type": "string"}}})
    router.complete("ask-openai", prompt="Hi.", tools=[weather])
    weather["function"]["parameters"]["properties"]["city"]["type"] = "strin"
    with pytest.raises(RequestError) as info:
        router.complete("ask-openai", prompt="Hi.", tools=[weather])
    assert info.value.argument == "tools[0].function.parameters['properties']['city']['type']"
    assert len(sb.requests) == 1
