"""The schema's errors turned into words a user understands.

jsonschema finds every error; this module says each one the way a colleague would: which key
is unknown and what was probably meant, which value is wrong and what would be right, where it
is written. Values that may be secret (header values, anything naming an environment variable)
are never echoed back.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

from router.diagnostics import Diagnostic
from router.spec.litellm_names import provider_hint
from router.spec.schema import (
    FORMAT_CHECKER,
    is_secret_path,
    is_valid,
    key_docs,
    schema_validator,
    show,
    where,
)
from router.spec.schema_hints import litellm, misplaced, said_otherwise, unknown_keys
from router.spec.yamlload import Document, PathT, json_path

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _type_of(value: Any) -> str:
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


def schema_diagnostics(doc: Document) -> list[Diagnostic]:
    """Every schema error in ``doc``, translated, in file order."""
    if is_valid(doc.data):
        return []
    out: list[Diagnostic] = []
    errors = list(schema_validator().iter_errors(doc.data))
    unknown = frozenset(unknown_keys(errors))
    for error in errors:
        out.extend(_translate(error, doc, unknown))
    out.sort(key=lambda d: (d.line or 0, d.column or 0))
    return out


def _translate(
    error: ValidationError, doc: Document, unknown: frozenset[tuple[PathT, str]] = frozenset()
) -> Iterator[Diagnostic]:
    """One schema error in words. ``unknown`` holds the keys found unknown anywhere (and what
    they misspell), so that one mistake gives one error: a required key that is misspelt, or
    written a level too deep, is not also reported missing."""
    path: PathT = tuple(error.absolute_path)
    kind = str(error.validator)
    value: Any = error.instance
    expected: Any = error.validator_value
    sub: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    in_property_names = "propertyNames" in error.absolute_schema_path

    if in_property_names:
        name_path: PathT = (*path, str(value))
        yield doc.diagnostic(
            name_path,
            # A name is not a value: it is in the JSON path already, so it is shown here too.
            f"{show(value, ())} is not a valid name in {where(path, doc.data)}",
            "invalid-name",
            hint=sub.get("description"),
            key=True,
        )
        return

    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(sub.get("properties", {}))
        patterns = [re.compile(p) for p in sub.get("patternProperties", {})]
        for extra in value:
            if extra in allowed or any(p.search(extra) for p in patterns):
                continue
            hint = unknown_key_hint(str(extra), path, doc.data, allowed)
            yield doc.diagnostic(
                (*path, extra),
                f"unknown key '{extra}' in {where(path, doc.data)}",
                "unknown-key",
                hint=hint,
                key=True,
            )
        return

    if kind == "required":
        # jsonschema reports each missing key as its own error, naming it in the message.
        absent = [r for r in expected if r not in value]
        missing = next(
            (r for r in absent if error.message.startswith(repr(r))), absent[0] if absent else "?"
        )
        if said_otherwise(missing, path, unknown):
            return  # the unknown-key error already says "did you mean '<missing>'?"
        yield doc.diagnostic(
            path,
            f"{where(path, doc.data)} is missing the required key '{missing}'",
            "missing-key",
            hint=_key_doc(sub, missing),
            key=True,
        )
        return

    if kind in ("oneOf", "anyOf"):
        yield from _translate_alternatives(error, doc, path, unknown)
        return

    if kind == "uniqueItems" and isinstance(value, list):
        # Point at the repeated entry, not at the start of the list.
        i = next((i for i, item in enumerate(value) if item in value[:i]), None)
        if i is not None:
            yield doc.diagnostic(
                (*path, i),
                f"{where(path, doc.data)} lists {show(value[i], path)} more than once",
                "duplicate-item",
                hint="remove the repeated entry",
                key=False,
            )
            return

    if isinstance(value, float) and not math.isfinite(value):
        return  # the semantic checks report NaN and infinity with better words
    message, code, advice = _words(kind, error, value, path, sub, where(path, doc.data))
    yield doc.diagnostic(path, message, code, hint=advice, key=False)


def _key_doc(node: Mapping[str, Any], key: str) -> str | None:
    """What the schema says of ``key`` where it is missing (a provider's and a guardrail's
    ``type`` differ), else wherever it first says it."""
    own = (node.get("properties") or {}).get(key)
    if isinstance(own, Mapping) and isinstance(own.get("description"), str):
        return str(own["description"])
    return key_docs().get(key)


def _accepted_types(branch: Mapping[str, Any]) -> set[str] | None:
    """The JSON types a ``oneOf``/``anyOf`` branch can accept at all (from its ``type``,
    ``const`` or ``enum``), or None when it does not say."""
    if "type" in branch:
        declared = branch["type"]
        types = set(declared if isinstance(declared, list) else [declared])
        return types | {"integer"} if "number" in types else types
    if "const" in branch:
        return {_type_of(branch["const"])}
    if "enum" in branch:
        return {_type_of(v) for v in branch["enum"]}
    return None


def _close(key: str, allowed: list[str]) -> list[str]:
    return difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)


def unknown_key_hint(key: str, path: PathT, data: Any, allowed: list[str]) -> str:
    """LiteLLM's name for it, else where the schema has it (and a close spelling here), else
    the close spelling, else what is allowed here."""
    close = _close(key, allowed)
    maybe = f"did you mean '{close[0]}'?" if close else None
    if foreign := litellm(key):
        return f"{maybe} ({foreign})" if maybe else foreign
    home = misplaced(key, path, data)
    if home and maybe:
        text, near = home
        return f"{text}; or {maybe}" if near else maybe  # a name close by says more
    if home:
        return home[0]
    return maybe or "allowed: " + ", ".join(allowed)


def _translate_alternatives(
    error: ValidationError, doc: Document, path: PathT, unknown: frozenset[tuple[PathT, str]]
) -> Iterator[Diagnostic]:
    context = list(error.context or [])
    sub: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if context and all(e.validator == "required" for e in context):
        options = [str(cast(Any, e.validator_value)[0]) for e in context]
        yield doc.diagnostic(
            path,
            f"{where(path, doc.data)} needs at least one of: {', '.join(options)}",
            "missing-key",
            key=True,
        )
        return
    # The branch written for this kind of value (the mapping form of `priority`, the list form
    # of `stop`) says what is wrong, every error in it: a misspelt key inside a mapping is an
    # unknown key there, whatever the other branches would have accepted.
    branches = sub.get(str(error.validator)) or []
    got = _type_of(error.instance)
    fitting = [
        i
        for i, branch in enumerate(branches)
        if isinstance(branch, Mapping) and got in (_accepted_types(branch) or {got})
    ]
    written: Any = error.instance
    if len(fitting) > 1 and isinstance(written, dict):
        # Several mapping forms: the one that knows most of the keys written is the one meant.
        known = {
            i: len(written.keys() & (branches[i].get("properties") or {}).keys()) for i in fitting
        }
        fitting = [i for i in fitting if known[i] == max(known.values())]
    if len(fitting) == 1:
        chosen = [e for e in context if e.relative_schema_path[0] == fitting[0]]
        if [e.validator for e in chosen] == ["const"]:
            # A constant among other shapes ("p95" or a number): name them all.
            yield _with_hint(
                doc.diagnostic(
                    path,
                    f"{where(path, doc.data)} must be {_alternative_words(branches)}, "
                    f"got {show(error.instance, path)}",
                    "invalid-value",
                ),
                sub,
                path,
            )
            return
        for e in chosen:
            for diag in _translate(e, doc, unknown):
                yield _with_hint(diag, sub, path)
        if chosen:
            return
    from jsonschema.exceptions import best_match

    # Among the alternatives, the one whose type matched says best what is wrong.
    typed = [e for e in context if e.validator != "type"]
    best = best_match(typed or context) if context else None
    if best is None:  # pragma: no cover - oneOf matched twice; our branches are disjoint
        yield doc.diagnostic(path, f"{where(path, doc.data)} is ambiguous", "schema", key=False)
        return
    for found in _translate(best, doc, unknown):
        diag = found
        if not typed or not fitting:
            # No alternative takes this kind of value: say which shapes are accepted.
            shapes = _alternative_words(branches)
            diag = replace(
                found,
                message=f"{where(path, doc.data)} must be {shapes}, "
                f"not {show(error.instance, path)}",
                code="wrong-type",
                hint=None,
            )
        yield _with_hint(diag, sub, path)


def _alternative_words(branches: list[Any]) -> str:
    """What a set of alternatives accepts, in words: "cost, latency, quality or a mapping"."""
    words: list[str] = []
    for branch in branches:
        if not isinstance(branch, Mapping):
            continue
        if "const" in branch or "enum" in branch:
            values = [branch["const"]] if "const" in branch else branch["enum"]
            words += [v if isinstance(v, str) else json.dumps(v) for v in values]
            continue
        types = sorted(_accepted_types(branch) or ())
        if "number" in types:
            types.remove("integer")
        for t in types:
            words += ["true", "false"] if t == "boolean" else [_TYPE_WORDS.get(t, t)]
    words = list(dict.fromkeys(words))
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _with_hint(diag: Diagnostic, sub: Mapping[str, Any], path: PathT) -> Diagnostic:
    """The alternatives' description as the hint of an error about the value as a whole."""
    if diag.hint is None and sub.get("description") and diag.path == json_path(path):
        return replace(diag, hint=sub["description"])
    return diag


def _number(bound: Any) -> str:
    return str(int(bound)) if isinstance(bound, float) and bound.is_integer() else str(bound)


def _range(sub: Mapping[str, Any]) -> str:
    """The numbers a schema allows, in words: "≥ 0", "> 0", "from 0 to 2", "> 0 and ≤ 1"."""
    low = next(
        (
            f"{op} {_number(sub[k])}"
            for k, op in (("minimum", "≥"), ("exclusiveMinimum", ">"))
            if k in sub
        ),
        None,
    )
    high = next(
        (
            f"{op} {_number(sub[k])}"
            for k, op in (("maximum", "≤"), ("exclusiveMaximum", "<"))
            if k in sub
        ),
        None,
    )
    if "minimum" in sub and "maximum" in sub:
        return f"from {_number(sub['minimum'])} to {_number(sub['maximum'])}"
    return " and ".join(b for b in (low, high) if b)


def _words(
    kind: str, error: ValidationError, value: Any, path: PathT, sub: Mapping[str, Any], here: str
) -> tuple[str, str, str | None]:
    """Message, code and hint for a single-keyword error."""
    expected: Any = error.validator_value
    if kind == "type":
        types = expected if isinstance(expected, list) else [expected]
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
        hint: str | None = None
        if isinstance(value, bool) and "string" in types:
            hint = "YAML reads yes/no/on/off/true/false as booleans; quote the value"
        elif value is None:
            hint = "the value is empty; write one or remove the key"
        got = _TYPE_WORDS[_type_of(value)]
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
            f"{here} must be {_range(sub)}, got {show(value, path)}",
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
