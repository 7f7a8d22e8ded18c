"""The JSON Schema of routes.yaml: loaded once, checked fast (the generated ``_fastcheck``)
or fully (jsonschema, only for an invalid file), and how a place in the spec is named
(:func:`where`) and a value shown (:func:`show`: never a value that may be secret). Its errors
in words are :mod:`router.spec.schema_errors`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from router.spec.yamlload import PathT, json_path

# Keys whose values are never repeated in a message: they name secrets or may hold one.
_SECRET_KEYS = frozenset({"api_key_env", "url_env", "env", "headers"})

# What a section of the spec is called in a message, by the key that holds it.
_KINDS = {"providers": "provider", "models": "model", "tasks": "task"}


# Where _inline keeps the description of a referenced definition that the referring property
# overrides with its own.
FORMAT_CHECKER = "formatHint"


@cache
def schema() -> dict[str, Any]:
    """The routes.yaml JSON Schema, as shipped with the package."""
    text = resources.files("router.spec").joinpath("routes.schema.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def _inline(node: Any, defs: Mapping[str, Any]) -> Any:
    """The schema with every ``$ref`` replaced by its target: jsonschema validates about twice
    as fast without resolving references, and our schema has no recursive ones."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
            merged = {**target, **{k: _inline(v, defs) for k, v in node.items() if k != "$ref"}}
            if "description" in target and merged["description"] != target["description"]:
                # What the referenced definition says about its format ("A name: letters,
                # digits...") is the hint for a value that does not match its pattern.
                merged.setdefault(FORMAT_CHECKER, target["description"])
            return merged
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


@cache
def schema_validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_inline(schema(), schema()["$defs"]))


@cache
def _fast_check() -> Callable[[Any], Any] | None:
    """fastjsonschema's compiled check, or None when it is not installed."""
    try:
        from router.spec import _fastcheck
    except ImportError:  # pragma: no cover - fastjsonschema is a dependency
        return None
    validate: Callable[[Any], Any] = _fastcheck.validate_routes
    return validate


def is_valid(data: Any) -> bool:
    """Whether ``data`` satisfies the schema (the fast answer, without the errors)."""
    check = _fast_check()
    if check is None:  # pragma: no cover
        return bool(schema_validator().is_valid(data))
    try:
        check(data)
    except Exception:  # fastjsonschema's JsonSchemaValueException, or a type it trips on
        return False
    return True


@cache
def key_docs() -> dict[str, str]:
    """The description of every property name in the schema (first definition wins), used as
    the hint when a required key is missing."""
    docs: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                if isinstance(sub, dict) and "description" in sub:
                    docs.setdefault(name, sub["description"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema())
    return docs


def where(path: PathT, data: Any = None) -> str:
    """A human name for the place ``path`` points at: "task 'summarize'", "priority of rule
    'images'", "the top level". ``data`` (the document) lets rules be called by their name."""
    if not path:
        return "the top level"
    name = None
    if len(path) >= 2 and path[0] in _KINDS and isinstance(path[1], str):
        name = f"{_KINDS[str(path[0])]} '{path[1]}'"
    elif len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        try:
            rule_name = data["rules"][path[1]]["name"]
        except (KeyError, IndexError, TypeError):
            rule_name = None
        name = f"rule '{rule_name}'" if isinstance(rule_name, str) else f"rule #{path[1] + 1}"
    if name is None:
        return json_path(path)[2:]
    return name if len(path) == 2 else f"{json_path(path[2:])[2:]} of {name}"


def is_secret_path(path: PathT) -> bool:
    return any(isinstance(p, str) and p in _SECRET_KEYS for p in path)


def show(value: Any, path: PathT) -> str:
    """A value as it may appear in a message: short, and never a possible secret."""
    if is_secret_path(path):
        return "(value not shown)"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return json.dumps(value)
