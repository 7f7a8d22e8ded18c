"""Every per-call argument checked by ``check_params`` directly: plain values normalised, each
bad one a RequestError naming the argument (the end-to-end table through every driver, with
nothing sent, is tests/engine/test_call_checks.py)."""

from __future__ import annotations

import enum
from fractions import Fraction
from typing import Any

import pytest

from router.errors import RequestError
from router.routing.arguments import NUMBER_RULES, check_params, check_prompt
from router.tools import tool_definition
from router.types import ToolDefinition

OBJECT = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOL = {"type": "function", "function": {"name": "weather", "parameters": OBJECT}}


class Level(enum.IntEnum):
    HIGH = 64


def nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


# --- accepted and normalised ----------------------------------------------------------------


def test_no_argument_given_leaves_every_default() -> None:
    checked = check_params({"temperature": None, "tools": None, "tool_choice": None})
    assert (checked.temperature, checked.tools, checked.tool_choice) == (None, (), None)
    assert (checked.cache, checked.json_output, checked.tags) == (True, False, ())


def test_numbers_of_other_types_become_plain_ints_and_floats() -> None:
    checked = check_params({"max_tokens": Level.HIGH, "temperature": Fraction(1, 2)})
    assert type(checked.max_tokens) is int and checked.max_tokens == 64
    assert type(checked.temperature) is float and checked.temperature == 0.5


@pytest.mark.parametrize("name", sorted(NUMBER_RULES))
def test_each_number_is_accepted_at_its_limits(name: str) -> None:
    integer, lo, hi = NUMBER_RULES[name]
    for edge in (lo, hi):
        if edge is not None:
            value = int(edge) if integer else float(edge)
            assert getattr(check_params({name: value}), name) == value


def test_text_arguments_become_tuples_and_a_single_stop_string_a_one_item_tuple() -> None:
    checked = check_params({"stop": "END", "tags": {"b"}, "metadata": {"k": 1.5, "é": "ü"}})
    assert (checked.stop, checked.tags) == (("END",), ("b",))
    assert checked.metadata == {"k": 1.5, "é": "ü"}
    assert check_params({"stop": ["a", "b"]}).stop == ("a", "b")
    assert check_params({"tags": ("x", "y")}).tags == ("x", "y")


def test_plain_metadata_is_kept_as_given() -> None:
    metadata = {"user": "u1", "n": 3, "beta": True}
    assert check_params({"metadata": metadata}).metadata is metadata


def test_timeout_tenant_and_cache_are_kept_as_given() -> None:
    checked = check_params({"timeout": 2, "tenant": "acme", "cache": False})
    assert (checked.timeout, checked.tenant, checked.cache) == (2.0, "acme", False)


def test_tools_in_openai_flat_anthropic_and_typed_shapes_become_tool_definitions() -> None:
    typed = ToolDefinition("typed", "d", OBJECT)
    tools = [
        TOOL,
        {"name": "flat", "parameters": OBJECT},
        {"name": "anthropic", "input_schema": OBJECT},
        {"name": "bare"},
        typed,
    ]
    checked = check_params({"tools": tools, "tool_choice": {"type": "tool", "name": "flat"}})
    assert [t.name for t in checked.tools] == ["weather", "flat", "anthropic", "bare", "typed"]
    assert checked.tools[2].parameters == OBJECT
    assert checked.tools[3] == ToolDefinition("bare", "")  # no parameters: the empty object
    assert checked.tools[4] is typed
    again = check_params({"tools": tools})  # the same tool objects: remembered, same result
    assert again.tools == checked.tools


@pytest.mark.parametrize(
    "choice",
    [
        "auto",
        "none",
        "required",
        "any",
        {"type": "auto"},
        {"type": "function", "function": {"name": "weather"}},
    ],
)
def test_tool_choice_takes_a_mode_or_a_named_tool(choice: Any) -> None:
    assert check_params({"tools": [TOOL], "tool_choice": choice}).tool_choice == choice


@pytest.mark.parametrize(
    ("response_format", "json_output"),
    [
        ({"type": "text"}, False),
        ({"type": "json_object"}, True),
        (
            {
                "type": "json_schema",
                "json_schema": {"name": "out", "schema": OBJECT, "strict": True},
            },
            True,
        ),
        ({"type": "json_schema", "json_schema": {"name": "out"}}, True),
    ],
)
def test_response_formats_are_accepted_and_say_whether_json_is_asked(
    response_format: dict[str, Any], json_output: bool
) -> None:
    checked = check_params({"response_format": response_format})
    assert checked.response_format == response_format
    assert checked.json_output is json_output


def test_a_prompt_is_checked_text() -> None:
    assert check_prompt("hi") == "hi"
    with pytest.raises(RequestError) as caught:
        check_prompt(b"hi")
    assert caught.value.argument == "prompt"


# --- refused, naming the argument -----------------------------------------------------------

BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("bool-temperature", {"temperature": True}, "temperature", "is not a number"),
    (
        "string-number",
        {"top_p": "0.5"},
        "top_p",
        "is not a number; expected a finite number from 0 to 1",
    ),
    (
        "float-max-tokens",
        {"max_tokens": 10.0},
        "max_tokens",
        "is not an integer; expected an integer >= 1",
    ),
    ("nan", {"temperature": float("nan")}, "temperature", "out of range"),
    ("inf-penalty", {"presence_penalty": Fraction(3)}, "presence_penalty", "out of range"),
    ("too-high", {"temperature": 2.5}, "temperature", "from 0 to 2"),
    ("too-low", {"max_tokens": 0}, "max_tokens", ">= 1"),
    ("seed-64-bits", {"seed": 2**63}, "seed", "out of range"),
    ("stop-not-text", {"stop": 5}, "stop", "is not a stop sequence string or up to 4 of them"),
    ("stop-too-many", {"stop": ["a", "b", "c", "d", "e"]}, "stop", "up to 4"),
    ("stop-empty-item", {"stop": ["a", ""]}, "stop[1]", "cannot be empty"),
    ("stop-empty", {"stop": ""}, "stop", "cannot be empty"),
    ("tags-not-list", {"tags": 3}, "tags", "is not a tag string or a list of them"),
    ("timeout-zero", {"timeout": 0}, "timeout", "> 0"),
    ("timeout-bool", {"timeout": True}, "timeout", "> 0"),
    ("timeout-inf", {"timeout": float("inf")}, "timeout", "finite"),
    ("metadata-not-mapping", {"metadata": ["a"]}, "metadata", "is not a mapping"),
    ("metadata-empty-key", {"metadata": {"": 1}}, "metadata", "is not a non-empty string"),
    ("metadata-int-key", {"metadata": {1: 1}}, "metadata", "is not a non-empty string"),
    ("metadata-list-value", {"metadata": {"k": [1]}}, "metadata['k']", "is not a string"),
    ("metadata-nan-value", {"metadata": {"k": float("nan")}}, "metadata['k']", "finite"),
    ("metadata-surrogate", {"metadata": {"k": "\ud800"}}, "metadata['k']", "lone surrogate"),
    ("tenant-empty", {"tenant": ""}, "tenant", "1 to 256 characters"),
    ("tenant-long", {"tenant": "t" * 257}, "tenant", "1 to 256 characters"),
    ("tenant-control", {"tenant": "a\nb"}, "tenant", "control"),
    ("cache-not-bool", {"cache": "no"}, "cache", "is not True or False"),
    ("tools-not-list", {"tools": {"name": "x"}}, "tools", "is not a list of tool definitions"),
    ("tool-not-a-tool", {"tools": [5]}, "tools[0]", "is not a tool definition"),
    (
        "tool-wrong-type",
        {"tools": [{"type": "web", "function": {}}]},
        "tools[0].type",
        "is not 'function'",
    ),
    ("tool-function-not-mapping", {"tools": [{"function": "f"}]}, "tools[0].function", "expected"),
    ("tool-no-name", {"tools": [{"parameters": OBJECT}]}, "tools[0].name", ""),
    ("tool-twice", {"tools": [TOOL, TOOL]}, "tools[1]", "is defined twice"),
    (
        "tool-schema-not-object",
        {"tools": [{"name": "f", "parameters": {"type": "array"}}]},
        "tools[0].parameters",
        "only object schemas",
    ),
    (
        "tool-schema-not-mapping",
        {"tools": [{"name": "f", "parameters": [1]}]},
        "tools[0].parameters",
        "is not a JSON Schema object",
    ),
    (
        "tool-schema-invalid",
        {
            "tools": [
                {"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": 5}}}}
            ]
        },
        "tools[0].parameters['properties']['x']['type']",
        "not a valid JSON Schema",
    ),
    (
        "tool-schema-too-deep",
        {"tools": [{"name": "f", "parameters": nested(900)}]},
        "tools[0].parameters",
        "nested too deeply",
    ),
    (
        "typed-tool-bad-schema",
        {"tools": [ToolDefinition("t", "", {"type": "string"})]},
        "tools[0].parameters",
        "only object schemas",
    ),
    ("choice-without-tools", {"tool_choice": "auto"}, "tool_choice", "no tools are"),
    (
        "choice-unknown-mode",
        {"tools": [TOOL], "tool_choice": "sometimes"},
        "tool_choice",
        "is not one of auto",
    ),
    (
        "choice-unknown-tool",
        {"tools": [TOOL], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
        "tool_choice",
        "which is not in tools (weather)",
    ),
    (
        "choice-unknown-kind",
        {"tools": [TOOL], "tool_choice": {"type": "web", "name": "weather"}},
        "tool_choice",
        "is not one of",
    ),
    ("choice-bad-shape", {"tools": [TOOL], "tool_choice": 3}, "tool_choice", "is not one of"),
    (
        "format-unknown",
        {"response_format": {"type": "yaml"}},
        "response_format",
        "'yaml' is not a response format",
    ),
    (
        "format-not-mapping",
        {"response_format": "json"},
        "response_format",
        "is not a response format",
    ),
    (
        "format-schema-missing",
        {"response_format": {"type": "json_schema"}},
        "response_format.json_schema",
        "expected",
    ),
    (
        "format-schema-no-name",
        {"response_format": {"type": "json_schema", "json_schema": {"schema": OBJECT}}},
        "response_format.json_schema.name",
        "",
    ),
    (
        "format-strict-not-bool",
        {"response_format": {"type": "json_schema", "json_schema": {"name": "o", "strict": "yes"}}},
        "response_format.json_schema.strict",
        "True or False",
    ),
    (
        "format-schema-invalid",
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "o", "schema": {"type": "nothing"}},
            }
        },
        "response_format.json_schema.schema['type']",
        "not a valid JSON Schema",
    ),
    (
        "format-not-json",
        {"response_format": {"type": "json_object", "x": object()}},
        "response_format",
        "",
    ),
]


@pytest.mark.parametrize(
    ("params", "argument", "fragment"), [c[1:] for c in BAD], ids=[c[0] for c in BAD]
)
def test_a_bad_argument_is_one_request_error_naming_it(
    params: dict[str, Any], argument: str, fragment: str
) -> None:
    with pytest.raises(RequestError) as caught:
        check_params(params)
    assert caught.value.argument == argument
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(argument)


def test_a_tool_definition_is_checked_where_the_caller_says_it_is() -> None:
    with pytest.raises(RequestError) as caught:
        tool_definition({"name": "f", "description": 5}, "messages[1].tools[0]")
    assert caught.value.argument == "messages[1].tools[0].description"
