"""Schema errors read as words, everywhere in the spec, driven by the schema itself.

These tests walk routes.schema.json: every closed mapping (``additionalProperties: false``) at
every place it can appear gets a misspelt key, and every bounded number, enum and typed value
gets a wrong one, inside an otherwise valid spec. A key or section added to the schema is
covered without touching this file.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml

from router.spec import validate_bytes
from router.spec.schema import _inline, schema
from router.spec.yamlload import json_path

ENV = {"OPENAI_API_KEY": "sk-test"}
BASE: dict[str, Any] = yaml.safe_load(
    """
    version: 1
    providers:
      openai: {type: openai, api_key_env: OPENAI_API_KEY}
    models:
      mini: {provider: openai, id: gpt-4o-mini}
    tasks:
      chat: {candidates: [mini]}
    """
)
# A step from a schema node to a child: a named property, an entry of a mapping of names, an
# item of a list, or one branch of oneOf/anyOf.
Step = tuple[str, Any]
INLINED: dict[str, Any] = _inline(schema(), schema()["$defs"])


def _children(node: Mapping[str, Any]) -> Iterator[tuple[Step, Mapping[str, Any]]]:
    for name, sub in (node.get("properties") or {}).items():
        yield ("prop", name), sub
    if isinstance(node.get("additionalProperties"), Mapping):
        yield ("map", None), node["additionalProperties"]
    if isinstance(node.get("items"), Mapping):
        yield ("item", None), node["items"]
    for keyword in ("oneOf", "anyOf"):
        for i, branch in enumerate(node.get(keyword) or []):
            if isinstance(branch, Mapping) and branch.keys() - {"required"}:
                yield ("branch", i), branch


def _places(
    node: Mapping[str, Any], steps: tuple[Step, ...] = ()
) -> Iterator[tuple[tuple[Step, ...], Mapping[str, Any]]]:
    """Every schema node with the steps that lead to it from the top."""
    yield steps, node
    for step, sub in _children(node):
        yield from _places(sub, (*steps, step))


def minimal(node: Mapping[str, Any]) -> Any:
    """The smallest value the schema node accepts (by shape; references may not resolve)."""
    required = list(node.get("required") or [])
    for keyword in ("oneOf", "anyOf"):
        branches = node.get(keyword) or []
        shaped = [b for b in branches if b.keys() - {"required"}]
        if shaped:
            return minimal(shaped[0])
        if branches:  # "at least one of these keys": write the first
            required += branches[0]["required"]
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object" or "properties" in node:
        props = node.get("properties") or {}
        keys = required
        keys += [k for k in props if k not in keys][
            : max(0, node.get("minProperties", 0) - len(keys))
        ]
        return {k: minimal(props[k]) for k in keys}
    if kind == "array":
        return [minimal(node.get("items") or {"type": "string"})] * node.get("minItems", 0)
    if kind in ("number", "integer"):
        low = node.get("minimum", node.get("exclusiveMinimum", 0))
        return int(low) + 1 if "exclusiveMinimum" in node else max(int(low), 1)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return "a1"


def place(
    data: Any, steps: tuple[Step, ...], node: Mapping[str, Any], value: Any
) -> tuple[Any, tuple[Any, ...]]:
    """``data`` with ``value`` written at the place the steps lead to (creating what is
    missing), and the JSON path of that place."""
    if not steps:
        return value, ()
    (kind, arg), rest = steps[0], steps[1:]
    child = dict(_children(node))[(kind, arg)]
    if kind == "branch":
        inner = data if _fits(data, child) else minimal(child)
        return place(inner, rest, child, value)
    if kind == "prop":
        container = dict(data) if isinstance(data, dict) else minimal(node)
        inner, sub_path = place(container.get(arg), rest, child, value)
        container[arg] = inner
        return container, (arg, *sub_path)
    if kind == "map":
        container = dict(data) if isinstance(data, dict) else {}
        name = next(iter(container), "a1")
        inner, sub_path = place(container.get(name), rest, child, value)
        container[name] = inner
        return container, (name, *sub_path)
    items = list(data) if isinstance(data, list) and data else [None]
    inner, sub_path = place(items[0], rest, child, value)
    items[0] = inner
    return items, (0, *sub_path)


def _fits(data: Any, branch: Mapping[str, Any]) -> bool:
    kind = branch.get("type")
    return (kind == "object" and isinstance(data, dict)) or (
        kind == "array" and isinstance(data, list)
    )


def _closed_places() -> list[tuple[tuple[Step, ...], Mapping[str, Any]]]:
    return [(s, n) for s, n in _places(INLINED) if n.get("additionalProperties") is False]


def _id(steps: tuple[Step, ...]) -> str:
    return ".".join(str(arg if kind == "prop" else kind) for kind, arg in steps) or "top"


def misspell(allowed: list[str]) -> tuple[str, str]:
    """A misspelling of one of ``allowed`` that difflib maps back to it unambiguously."""
    for key in allowed:
        for bad in (key + key[-1], key[:-1], key[1:] + key[0]):
            if bad not in allowed and difflib.get_close_matches(bad, allowed, n=1, cutoff=0.6) == [
                key
            ]:
                return bad, key
    raise AssertionError(f"no unambiguous misspelling among {allowed}")


CLOSED = _closed_places()


def test_the_walk_finds_the_closed_mappings_users_write() -> None:
    names = {_id(s) for s, _ in CLOSED}

    # Spot checks that the walk reaches nested, referenced and alternative mappings.
    assert {
        "top",
        "telemetry.ledger.branch",
        "tasks.map.priority.branch",
        "tasks.map.fallback.item.branch",
        "providers.map.headers.map.branch",
        "defaults.timeouts",
        "models.map.pricing",
        "rules.item.when",
        "state",
    } <= names
    assert len(CLOSED) >= 30


def _render(data: dict[str, Any]) -> tuple[bytes, list[str]]:
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return text.encode(), text.splitlines()


@pytest.mark.parametrize(("steps", "node"), CLOSED, ids=[_id(s) for s, _ in CLOSED])
def test_a_misspelt_key_in_any_closed_mapping_is_named_with_its_suggestion_and_line(
    steps: tuple[Step, ...], node: Mapping[str, Any]
) -> None:
    allowed = sorted(node["properties"])
    bad, good = misspell(allowed)
    value = {**minimal(node), bad: minimal(node["properties"][good])}
    data, path = place(copy.deepcopy(BASE), steps, INLINED, value)
    raw, lines = _render(data)
    line = 1 + next(
        i for i, text in enumerate(lines) if re.match(rf"^\s*(- )?{re.escape(bad)}:", text)
    )

    report = validate_bytes(raw, "spec.yaml", environ=ENV)

    found = [d for d in report.errors if d.code == "unknown-key"]
    assert [(d.path, d.line, d.hint) for d in found] == [
        (json_path((*path, bad)), line, f"did you mean '{good}'?")
    ], [d.render() for d in report.errors]
    assert f"unknown key '{bad}'" in found[0].message


def _bounded() -> Iterator[tuple[str, tuple[Step, ...], Any, list[str]]]:
    """(id, steps, wrong value, words its message must hold) for every constrained leaf."""
    for steps, node in _places(INLINED):
        if not steps or steps[-1][0] != "prop":
            continue
        for keyword, op in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤")):
            if keyword not in node:
                continue
            bound = node[keyword]
            wrong = (
                bound - 1
                if keyword == "minimum"
                else bound
                if keyword == "exclusiveMinimum"
                else bound + 1
            )
            words = (
                [f"from {node['minimum']} to {node['maximum']}"]
                if {"minimum", "maximum"} <= node.keys()
                else [f"{op} {bound}"]
            )
            yield f"{_id(steps)}:{keyword}", steps, wrong, words
        if "pattern" in node:  # the hint says what the format is
            yield (
                f"{_id(steps)}:pattern",
                steps,
                "-not valid-",
                [node.get("formatHint") or node["description"]],
            )
        if "enum" in node and all(isinstance(v, str) for v in node["enum"]):
            yield (
                f"{_id(steps)}:enum",
                steps,
                "zzz",
                ["expected one of: " + ", ".join(map(str, node["enum"]))],
            )
        if node.get("type") in ("number", "integer", "boolean") and "enum" not in node:
            noun = {"number": "a number", "integer": "a whole number", "boolean": "true or false"}
            yield f"{_id(steps)}:type", steps, "zzz", [f"must be {noun[node['type']]}"]


BOUNDED = list(_bounded())


@pytest.mark.parametrize(
    ("steps", "wrong", "words"), [b[1:] for b in BOUNDED], ids=[b[0] for b in BOUNDED]
)
def test_a_wrong_value_anywhere_says_what_is_allowed_in_words(
    steps: tuple[Step, ...], wrong: Any, words: list[str]
) -> None:
    data, path = place(copy.deepcopy(BASE), steps, INLINED, wrong)
    raw, _ = _render(data)

    report = validate_bytes(raw, "spec.yaml", environ=ENV)

    # (A name that is not valid is also an unknown reference: that error is the checks'.)
    at = [
        d for d in report.errors if d.path == json_path(path) and not d.code.startswith("unknown-")
    ]
    assert len(at) == 1, [d.render() for d in report.errors]
    text = f"{at[0].message} ({at[0].hint})"
    for word in words:
        assert word in text
    # Never jsonschema's own sentences.
    for raw_phrase in (
        "is less than",
        "is greater than",
        "is not of type",
        "is not one of",
        "minimum of",
    ):
        assert raw_phrase not in text
    assert at[0].line is not None
    assert at[0].code != "schema"


def test_a_negative_priority_weight_must_be_at_least_zero() -> None:
    data = copy.deepcopy(BASE)
    data["tasks"]["chat"]["priority"] = {"cost": -1, "latency": 1}
    raw, _ = _render(data)

    report = validate_bytes(raw, "spec.yaml", environ=ENV)

    assert [(d.path, d.code, d.message) for d in report.errors] == [
        (
            "$.tasks.chat.priority.cost",
            "out-of-range",
            "priority.cost of task 'chat' must be ≥ 0, got -1",
        )
    ]


@pytest.mark.parametrize(
    "steps",
    [s for s, n in _places(INLINED) if "maxProperties" in n],
    ids=_id,
)
def test_a_mapping_with_too_many_keys_lists_the_keys_to_choose_from(
    steps: tuple[Step, ...],
) -> None:
    node = dict(_places(INLINED))[steps]
    value = {k: minimal(sub) for k, sub in node["properties"].items()}
    data, path = place(copy.deepcopy(BASE), steps, INLINED, value)
    raw, _ = _render(data)

    report = validate_bytes(raw, "spec.yaml", environ=ENV)

    assert [(d.path, d.code) for d in report.errors] == [(json_path(path), "too-many")]
    assert ", ".join(sorted(node["properties"])) in report.errors[0].message


def test_among_mapping_forms_the_one_that_knows_the_keys_written_names_the_misspelling() -> None:
    """Not in routes.schema.json today: two mapping alternatives, told apart by their keys (a
    form a future key may take). The misspelt key is reported against the form it belongs to."""
    import jsonschema

    from router.spec.schema_errors import _translate
    from router.spec.yamlload import load_yaml

    forms = {
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"models": {"type": "array"}},
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["task"],
                "properties": {"task": {"type": "string"}, "strict": {"type": "boolean"}},
            },
        ]
    }
    doc = load_yaml(b"x:\n  task: a\n  strictt: true\n", "f.yaml")
    validator = jsonschema.Draft202012Validator({"type": "object", "properties": {"x": forms}})

    found = [d for e in validator.iter_errors(doc.data) for d in _translate(e, doc)]

    assert [(d.path, d.line, d.hint) for d in found] == [
        ("$.x.strictt", 3, "did you mean 'strict'?")
    ]
