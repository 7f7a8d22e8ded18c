"""A call's ``tools``, ``tool_choice`` and ``response_format``, checked (their JSON Schemas by
:mod:`router.tools`) for :func:`router.routing.arguments.check_params`. The same tool objects
come with call after call: one found valid before, and unchanged since, is not checked again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from router.errors import RequestError
from router.messages import json_text, shown, tool_name
from router.tools import check_schema, tool_definition
from router.types import ToolDefinition

__all__ = ["RESPONSE_FORMATS", "TOOL_CHOICE_MODES", "response_format", "tool_choice", "tools"]

TOOL_CHOICE_MODES = ("auto", "none", "required", "any")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")


def _bad(where: str, problem: str) -> RequestError:
    return RequestError(f"{where}: {problem}", argument=where)


_MAX_REMEMBERED = 1024


def tools(value: object) -> tuple[ToolDefinition, ...]:
    if not isinstance(value, list | tuple):
        raise _bad("tools", f"{shown(value)} is not a list of tool definitions")
    out: list[ToolDefinition] = []
    seen: set[str] = set()
    for i, tool in enumerate(value):
        # The same tool objects come with call after call: one found valid before, and equal
        # to what it was then, is not checked again (an equality test, not a serialisation).
        hit = _known.get(id(tool))
        if hit is not None and hit[0] is tool and hit[1] == _mutable(tool):
            checked: ToolDefinition = hit[2]
        else:
            checked = tool_definition(tool, f"tools[{i}]")
            if len(_known) >= _MAX_REMEMBERED:
                _known.clear()
            _known[id(tool)] = (tool, json.loads(json_text(_mutable(tool), "tools")), checked)
        if checked.name in seen:
            raise _bad(f"tools[{i}]", f"tool {checked.name!r} is defined twice")
        seen.add(checked.name)
        out.append(checked)
    return tuple(out)


#: id(tool) -> (the tool, a plain copy of what could change in it, its ToolDefinition)
_known: dict[int, tuple[object, object, ToolDefinition]] = {}


def _mutable(tool: object) -> object:
    return tool.parameters if isinstance(tool, ToolDefinition) else tool


def tool_choice(value: object, defined: tuple[ToolDefinition, ...]) -> object:
    names = [t.name for t in defined]
    if not defined:
        raise _bad("tool_choice", "is set but no tools are: pass tools=[...] or leave it out")
    if isinstance(value, str):
        if value in TOOL_CHOICE_MODES:
            return value
    elif isinstance(value, Mapping):
        kind = value.get("type")
        fn = value.get("function")
        name = fn.get("name") if isinstance(fn, Mapping) else value.get("name")
        if name is None and kind in TOOL_CHOICE_MODES:
            return value
        if kind in (None, "function", "tool") and isinstance(name, str):
            if name not in names:
                raise _bad(
                    "tool_choice",
                    f"names tool {shown(name)}, which is not in tools ({', '.join(names)})",
                )
            return value
    raise _bad(
        "tool_choice",
        f"{shown(value)} is not one of {', '.join(TOOL_CHOICE_MODES)} or a named tool "
        "({'type': 'function', 'function': {'name': ...}})",
    )


def response_format(value: object) -> Mapping[str, Any]:
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind not in RESPONSE_FORMATS:
        raise _bad(
            "response_format",
            f"{shown(value if kind is None else kind)} is not a response format; use "
            "{'type': 'json_object'}, {'type': 'json_schema', 'json_schema': {'name': ..., "
            "'schema': {...}}} or {'type': 'text'}",
        )
    assert isinstance(value, Mapping)
    if kind == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, Mapping):
            raise _bad("response_format.json_schema", "expected {'name': ..., 'schema': {...}}")
        tool_name(spec.get("name"), "response_format.json_schema.name")
        if "strict" in spec and not isinstance(spec["strict"], bool):
            raise _bad("response_format.json_schema.strict", "must be True or False")
        if spec.get("schema") is not None:
            check_schema(spec["schema"], "response_format.json_schema.schema", object_only=False)
    json_text(value, "response_format")
    return value
