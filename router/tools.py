"""Tool definitions and JSON Schemas, checked: shared by :class:`router.types.ToolDefinition`
(``from_dict``) and a call's ``tools`` and ``response_format`` (:mod:`router.routing.arguments`).

A schema is checked against the JSON Schema metaschema once per distinct JSON text; jsonschema is
imported by :func:`prepare_schema_checks`, which the Router calls when it is built.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from router.errors import RequestError
from router.messages import cache_marker, check_text, json_text, shown, tool_name
from router.types import ToolDefinition

__all__ = ["check_schema", "prepare_schema_checks", "tool_definition"]


def _bad(where: str, problem: str) -> RequestError:
    return RequestError(f"{where}: {problem}", argument=where)


_schema_lock = threading.Lock()
_meta: list[Any] = []  # the metaschema validator, once built
_schemas_ok: set[str] = set()  # JSON texts of schemas already found valid
_MAX_REMEMBERED = 1024


def prepare_schema_checks() -> tuple[Any, Callable[..., Any]]:
    """The metaschema validator and jsonschema's ``best_match``, on first use (it imports
    jsonschema): the Router makes them when it is built, if a model could take tools or JSON,
    so no call pays for the import (not even one with an invalid schema)."""
    if not _meta:
        with _schema_lock:
            if not _meta:
                from jsonschema import Draft202012Validator
                from jsonschema.exceptions import best_match

                _meta.append((Draft202012Validator(Draft202012Validator.META_SCHEMA), best_match))
    checks: tuple[Any, Callable[..., Any]] = _meta[0]
    return checks


def check_schema(schema: object, where: str, *, object_only: bool) -> None:
    """Check one JSON Schema (a tool's parameters, a response format's schema) against the
    metaschema; ``object_only``: the providers take only object schemas there."""
    if not isinstance(schema, Mapping):
        raise _bad(where, f"{shown(schema)} is not a JSON Schema object")
    if object_only and schema.get("type") != "object":
        raise _bad(where, 'the providers take only object schemas: {"type": "object", ...}')
    text = json_text(schema, where)
    if text in _schemas_ok:
        return
    meta, best_match = prepare_schema_checks()
    try:  # plain dicts and lists, as jsonschema expects (not MappingProxyType, tuples)
        error = best_match(meta.iter_errors(json.loads(text)))
    except RecursionError:
        raise _bad(where, "is nested too deeply to be checked") from None
    if error is not None:
        path = "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.path)
        raise _bad(f"{where}{path}", f"not a valid JSON Schema: {error.message[:200]}")
    with _schema_lock:
        if len(_schemas_ok) >= _MAX_REMEMBERED:
            _schemas_ok.clear()
        _schemas_ok.add(text)


def tool_definition(tool: object, where: str) -> ToolDefinition:
    """One tool definition, checked: its shape, name, description and parameter schema."""
    if isinstance(tool, ToolDefinition):
        fn: Mapping[str, Any] = {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        }
        inner, key = where, "parameters"
        marker_at, raw_marker = f"{where}.cache_control", tool.cache_control
    elif isinstance(tool, Mapping):
        if "function" in tool:  # OpenAI's {"type": "function", "function": {...}}
            if tool.get("type", "function") != "function":
                raise _bad(f"{where}.type", f"{shown(tool.get('type'))} is not 'function'")
            fn, inner = tool["function"], f"{where}.function"
            if not isinstance(fn, Mapping):
                raise _bad(inner, "expected {'name': ..., 'parameters': {...}}")
        else:  # the flat form, or Anthropic's {"name", "description", "input_schema"}
            fn, inner = tool, where
        key = "parameters" if "parameters" in fn or "input_schema" not in fn else "input_schema"
        # On the tool, as Anthropic (and LiteLLM's OpenAI-shaped tools) write it.
        marker_at, raw_marker = f"{where}.cache_control", tool.get("cache_control")
    else:
        raise _bad(
            where,
            f"{shown(tool)} is not a tool definition: use ToolDefinition(...) or "
            "{'type': 'function', 'function': {'name': ..., 'parameters': {...}}}",
        )
    name = tool_name(fn.get("name"), f"{inner}.name")
    description = fn.get("description") or ""
    check_text(description, f"{inner}.description")
    marker = cache_marker(raw_marker, marker_at)
    params = fn.get(key)
    if params is None:
        return ToolDefinition(name, description, cache_control=marker)
    check_schema(params, f"{inner}.{key}", object_only=True)
    if isinstance(tool, ToolDefinition) and marker is None:
        return tool
    return ToolDefinition(name, description, params, marker)
