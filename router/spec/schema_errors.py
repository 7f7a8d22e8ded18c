"""The schema's errors turned into words a user understands.

jsonschema finds every error; this module says each one the way a colleague would: which key
is unknown and what was probably meant, which value is wrong and what would be right, where it
is written. Values that may be secret (header values, anything naming an environment variable)
are never echoed back.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

from router.diagnostics import Diagnostic
from router.spec.schema import (
    is_valid,
    key_docs,
    schema_validator,
    show,
    where,
)
from router.spec.schema_hints import litellm, misplaced, said_otherwise, unknown_keys
from router.spec.schema_words import (
    accepted_types,
    alternative_words,
    keyword_words,
    type_of,
)
from router.spec.yamlload import Document, PathT, json_path


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
    message, code, advice = keyword_words(kind, error, value, path, sub, where(path, doc.data))
    yield doc.diagnostic(path, message, code, hint=advice, key=False)


def _key_doc(node: Mapping[str, Any], key: str) -> str | None:
    """What the schema says of ``key`` where it is missing (a provider's and a guardrail's
    ``type`` differ), else wherever it first says it."""
    own = (node.get("properties") or {}).get(key)
    if isinstance(own, Mapping) and isinstance(own.get("description"), str):
        return str(own["description"])
    return key_docs().get(key)


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
    got = type_of(error.instance)
    fitting = [
        i
        for i, branch in enumerate(branches)
        if isinstance(branch, Mapping) and got in (accepted_types(branch) or {got})
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
                    f"{where(path, doc.data)} must be {alternative_words(branches)}, "
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
            shapes = alternative_words(branches)
            diag = replace(
                found,
                message=f"{where(path, doc.data)} must be {shapes}, "
                f"not {show(error.instance, path)}",
                code="wrong-type",
                hint=None,
            )
        yield _with_hint(diag, sub, path)


def _with_hint(diag: Diagnostic, sub: Mapping[str, Any], path: PathT) -> Diagnostic:
    """The alternatives' description as the hint of an error about the value as a whole."""
    if diag.hint is None and sub.get("description") and diag.path == json_path(path):
        return replace(diag, hint=sub["description"])
    return diag
