"""Where a key belongs, read from the schema: an unknown key that the schema knows elsewhere
("`max_cost_per_call` belongs under `constraints`"), and LiteLLM's names for what the spec
says otherwise ("this is LiteLLM's `api_base`; here it is `base_url`, on a provider").

The places come from the schema itself (every ``properties`` entry, through ``$ref``,
alternatives and conditions), so a key added there is found here with no code.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from functools import cache
from typing import Any

from router.spec.litellm_names import KEY_HINTS
from router.spec.schema import schema_validator, where
from router.spec.yamlload import PathT

Loc = tuple[str, ...]  # a place in the schema: property names, "*" for any name, "[]" an item
_IMPORT = "`router import litellm CONFIG` converts a whole LiteLLM config"


def _branches(node: Any) -> Iterator[dict[str, Any]]:
    """``node`` and every alternative or conditional schema that also applies to its value."""
    if not isinstance(node, dict):
        return
    yield node
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key) or []:
            yield from _branches(branch)
    for key in ("then", "else"):
        yield from _branches(node.get(key))


@cache
def homes() -> dict[str, tuple[Loc, ...]]:
    """Every key the schema knows → the places (objects) where it may be written."""
    index: dict[str, list[Loc]] = {}

    def walk(node: Any, loc: Loc) -> None:
        for branch in _branches(node):
            for name, sub in (branch.get("properties") or {}).items():
                places = index.setdefault(name, [])
                if loc not in places:
                    places.append(loc)
                walk(sub, (*loc, name))
            if isinstance(branch.get("additionalProperties"), dict):
                walk(branch["additionalProperties"], (*loc, "*"))
            for sub in (branch.get("patternProperties") or {}).values():
                walk(sub, (*loc, "*"))
            if isinstance(branch.get("items"), dict):
                walk(branch["items"], (*loc, "[]"))

    walk(schema_validator().schema, ())
    return {name: tuple(places) for name, places in index.items()}


def location(path: PathT) -> Loc | None:
    """The schema place of the object at ``path`` (names of entries as "*"), or None."""
    nodes: list[dict[str, Any]] = [schema_validator().schema]
    loc: list[str] = []
    for step in path:
        found: list[dict[str, Any]] = []
        tag = None
        for node in (b for n in nodes for b in _branches(n)):
            if isinstance(step, int):
                if isinstance(node.get("items"), dict):
                    found.append(node["items"])
                    tag = "[]"
                continue
            props = node.get("properties") or {}
            if step in props:
                found.append(props[step])
                tag = step
            elif isinstance(node.get("additionalProperties"), dict):
                found.append(node["additionalProperties"])
                tag = tag or "*"
            else:
                for pattern, sub in (node.get("patternProperties") or {}).items():
                    if re.search(pattern, step):
                        found.append(sub)
                        tag = tag or "*"
        if not found or tag is None:
            return None
        loc.append(tag)
        nodes = found
    return tuple(loc)


def _shown(loc: Loc) -> str:
    if not loc:
        return "the top level"
    text = ".".join("<name>" if p == "*" else p for p in loc).replace(".[]", "[]")
    return f"`{text}`"


def misplaced(key: str, path: PathT, data: Any) -> tuple[str, bool] | None:
    """Where ``key``, unknown in the object at ``path``, belongs according to the schema, and
    whether that is next to where it is written (one level down, or up)."""
    here = location(path)
    places = homes().get(key, ())
    if here is None or not places:
        return None
    below = [h[len(here) :] for h in places if h[: len(here)] == here and len(h) == len(here) + 1]
    plain = [rel for rel in below if "*" not in rel and "[]" not in rel]
    if plain:
        rel = plain[0]
        return f"'{key}' belongs under '{rel[0]}' ({rel[0]}: {{{key}: ...}})", True
    above = [h for h in places if here[: len(h)] == h]
    if above:
        home = max(above, key=len)
        inner = ".".join(str(p) for p in path[len(home) :])
        return (
            f"'{key}' belongs directly in {where(path[: len(home)], data)}, not under {inner}",
            True,
        )

    def shared(h: Loc) -> int:
        return next((i for i, (a, b) in enumerate(zip(h, here, strict=False)) if a != b), 0)

    ranked = sorted(places, key=lambda h: (-shared(h), len(h)))[:3]
    return f"'{key}' belongs under {' or '.join(_shown(h) for h in ranked)}", False


def litellm(key: str) -> str | None:
    """The hint for a key that is LiteLLM's name for something the spec says otherwise."""
    here = KEY_HINTS.get(key)
    return f"this is LiteLLM's '{key}'; here it is {here}; {_IMPORT}" if here else None


def unknown_keys(errors: Any) -> set[tuple[PathT, str]]:
    """(object path, key) for every key an ``additionalProperties`` error finds unknown, at any
    depth of the errors (alternatives included), and for each the allowed key it misspells."""
    import difflib

    found: set[tuple[PathT, str]] = set()
    stack = list(errors)
    while stack:
        error = stack.pop()
        stack.extend(error.context or ())
        schema = error.schema if isinstance(error.schema, dict) else {}
        if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
            continue
        path = tuple(error.absolute_path)
        allowed = list(schema.get("properties") or {})
        for key in error.instance:
            if key in allowed:
                continue
            found.add((path, str(key)))
            for close in difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6):
                found.add((path, close))
    return found


def said_otherwise(missing: str, path: PathT, unknown: Collection[tuple[PathT, str]]) -> bool:
    """Whether a required key ``missing`` at ``path`` is already the subject of an unknown-key
    error: misspelt there ("url" for "url_env"), or written one level too deep."""
    return any(key == missing and at[: len(path)] == path for at, key in unknown)
