"""Schema fragments in words: JSON types ("a mapping", "a whole number"), what a set of
alternatives accepts ("cost, latency, quality or a mapping"), number ranges ("from 0 to 2"),
and the message, code and hint of an error on one schema keyword. Values that may be secret
are never shown. Used by :mod:`router.spec.schema_errors`."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

from router.spec.litellm_names import provider_hint
from router.spec.schema import FORMAT_CHECKER, is_secret_path, show
from router.spec.yamlload import PathT

__all__ = [
    "TYPE_WORDS",
    "accepted_types",
    "alternative_words",
    "keyword_words",
    "number_text",
    "type_of",
    "value_range",
]


TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def accepted_types(branch: Mapping[str, Any]) -> set[str] | None:
    """The JSON types a ``oneOf``/``anyOf`` branch can accept at all (from its ``type``,
    ``const`` or ``enum``), or None when it does not say."""
    if "type" in branch:
        declared = branch["type"]
        types = set(declared if isinstance(declared, list) else [declared])
        return types | {"integer"} if "number" in types else types
    if "const" in branch:
        return {type_of(branch["const"])}
    if "enum" in branch:
        return {type_of(v) for v in branch["enum"]}
    return None


def alternative_words(branches: list[Any]) -> str:
    """What a set of alternatives accepts, in words: "cost, latency, quality or a mapping"."""
    words: list[str] = []
    for branch in branches:
        if not isinstance(branch, Mapping):
            continue
        if "const" in branch or "enum" in branch:
            values = [branch["const"]] if "const" in branch else branch["enum"]
            words += [v if isinstance(v, str) else json.dumps(v) for v in values]
            continue
        types = sorted(accepted_types(branch) or ())
        if "number" in types:
            types.remove("integer")
        for t in types:
            words += ["true", "false"] if t == "boolean" else [TYPE_WORDS.get(t, t)]
    words = list(dict.fromkeys(words))
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def number_text(bound: Any) -> str:
    return str(int(bound)) if isinstance(bound, float) and bound.is_integer() else str(bound)


def value_range(sub: Mapping[str, Any]) -> str:
    """The numbers a schema allows, in words: "≥ 0", "> 0", "from 0 to 2", "> 0 and ≤ 1"."""
    low = next(
        (
            f"{op} {number_text(sub[k])}"
            for k, op in (("minimum", "≥"), ("exclusiveMinimum", ">"))
            if k in sub
        ),
        None,
    )
    high = next(
        (
            f"{op} {number_text(sub[k])}"
            for k, op in (("maximum", "≤"), ("exclusiveMaximum", "<"))
            if k in sub
        ),
        None,
    )
    if "minimum" in sub and "maximum" in sub:
        return f"from {number_text(sub['minimum'])} to {number_text(sub['maximum'])}"
    return " and ".join(b for b in (low, high) if b)


def keyword_words(
    kind: str, error: ValidationError, value: Any, path: PathT, sub: Mapping[str, Any], here: str
) -> tuple[str, str, str | None]:
    """Message, code and hint for a single-keyword error."""
    expected: Any = error.validator_value
    if kind == "type":
        types = expected if isinstance(expected, list) else [expected]
        words = " or ".join(TYPE_WORDS.get(str(t), str(t)) for t in types)
        hint: str | None = None
        if isinstance(value, bool) and "string" in types:
            hint = "YAML reads yes/no/on/off/true/false as booleans; quote the value"
        elif value is None:
            hint = "the value is empty; write one or remove the key"
        got = TYPE_WORDS[type_of(value)]
        if isinstance(value, (bool, int, float, str)):
            got = f"{show(value, path)}"
        return f"{here} must be {words}, got {got}", "wrong-type", hint
    if kind == "enum":
        options = [o if isinstance(o, str) else json.dumps(o) for o in expected]
        close = (
            difflib.get_close_matches(value, options, n=1, cutoff=0.5)
            if isinstance(value, str)
            else []
        )
        hint = f"did you mean '{close[0]}'?" if close else None
        if len(path) == 3 and path[0] == "providers" and path[2] == "type":
            hint = provider_hint(str(value)) or hint
        return (
            f"{here} is {show(value, path)}; expected one of: {', '.join(options)}",
            "invalid-value",
            hint,
        )
    if kind == "const":
        return (
            f"{here} must be {json.dumps(expected)}, got {show(value, path)}",
            "invalid-value",
            None,
        )
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        hint = None
        if path and path[-1] in ("requests_per_minute", "tokens_per_minute"):
            hint = "to have no limit, remove the key"
        return (
            f"{here} must be {value_range(sub)}, got {show(value, path)}",
            "out-of-range",
            hint,
        )
    if kind == "minItems":
        items = "one item" if expected == 1 else f"{expected} items"
        return f"{here} must list at least {items}", "too-few", None
    if kind == "maxItems":
        items = "one item" if expected == 1 else f"{expected} items"
        return f"{here} may list at most {items}", "too-many", None
    if kind == "maxProperties":
        keys = ", ".join(sorted(sub.get("properties", {})))
        count = "only one" if expected == 1 else f"at most {expected}"
        return f"{here} may set {count} of: {keys}", "too-many", None
    if kind == "minProperties":
        return (
            f"{here} must define at least {expected} entr{'y' if expected == 1 else 'ies'}",
            "too-few",
            None,
        )
    if kind == "minLength":
        return f"{here} must not be empty", "too-short", None
    if kind == "maxLength":
        return f"{here} may be at most {expected} characters long", "too-long", None
    if kind == "uniqueItems":
        seen: list[Any] = []
        dup = None
        for item in value:
            if item in seen:
                dup = item
                break
            seen.append(item)
        return f"{here} lists {show(dup, path)} more than once", "duplicate-item", None
    if kind == "pattern":
        hint = sub.get(FORMAT_CHECKER) or sub.get("description")
        shown = " (value not shown)" if is_secret_path(path) else f": {show(value, path)}"
        return f"{here} is not valid{shown}", "invalid-name", hint
    if is_secret_path(path):
        return f"{here} is not valid (value not shown)", "schema", None
    return f"{here}: {error.message}", "schema", None
