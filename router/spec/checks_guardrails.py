"""Semantic checks on guardrails: every name a task, rule or the defaults attach is defined
(or built in), and each entry of the ``guardrails`` section sets only what its type reads, an
action its type can take, and something to do (a cap, a term that is not blank)."""

from __future__ import annotations

from collections.abc import Iterator
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

from router.diagnostics import Diagnostic
from router.spec.checks_rules import string_items
from router.spec.schema import where
from router.specmodel.guardrails import (
    ACTIONS,
    BUILTIN,
    COMMON_SETTINGS,
    GUARDRAIL_TYPES,
    KIND_GROUPS,
    KINDS,
    SIZE_CAPS,
    TYPE_SETTINGS,
)

if TYPE_CHECKING:
    from router.spec.checks import Context
    from router.spec.yamlload import PathT

__all__ = ["check_guardrails"]


def _places(ctx: Context) -> Iterator[tuple[PathT, Any]]:
    """(path, list of names) for each place that attaches guardrails."""
    defaults = ctx.section("defaults")
    if "guardrails" in defaults:
        yield ("defaults", "guardrails"), defaults["guardrails"]
    for name, task in ctx.entries("tasks"):
        if "guardrails" in task:
            yield ("tasks", name, "guardrails"), task["guardrails"]
    for i, rule in ctx.rules():
        if "guardrails" in rule:
            yield ("rules", i, "guardrails"), rule["guardrails"]


def _unknown_hint(name: str, known: list[str]) -> str:
    if name in GUARDRAIL_TYPES:
        setting = "terms: [...]" if name == "blocked_terms" else "max_total_tokens: N"
        return (
            f"'{name}' is a guardrail type that needs its settings: define it under the "
            f"top-level `guardrails:` section ({name}: {{type: {name}, {setting}}})"
        )
    close = get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"guardrails: {', '.join(known)} (define others under the top-level `guardrails:`)"


def _valid(key: str, value: Any) -> bool:
    """Whether a setting's value has its schema shape (a wrong one is the schema's error)."""
    if key in SIZE_CAPS:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 1
    if key == "restore":
        return isinstance(value, bool)
    return isinstance(value, list) and bool(value)


def _entry(ctx: Context, name: str, g: dict[str, Any]) -> Iterator[Diagnostic]:
    kind = g.get("type")
    if kind not in GUARDRAIL_TYPES:
        return  # the schema says what the types are
    own = TYPE_SETTINGS[kind]
    for key, value in g.items():
        if key in COMMON_SETTINGS or key in own or not _valid(key, value):
            continue
        takes = [t for t, keys in TYPE_SETTINGS.items() if key in keys]
        if not takes:
            continue  # not a setting at all: the schema's unknown key
        yield ctx.doc.diagnostic(
            ("guardrails", name, key),
            f"`{key}` is for guardrails of type {' or '.join(takes)}; guardrail '{name}' is "
            f"`type: {kind}`",
            "guardrail-setting",
            hint=f"remove `{key}`, or change the type to {takes[0]}",
        )
    action = g.get("action")
    if action in ("mask", "refuse", "report") and action not in ACTIONS[kind]:
        yield ctx.doc.diagnostic(
            ("guardrails", name, "action"),
            f"guardrail '{name}' of type {kind} cannot {action}; it can: "
            f"{', '.join(ACTIONS[kind])}",
            "guardrail-action",
            hint="an input size over a cap is refused: leave `action` out",
        )
    for i, k in string_items(g.get("kinds")):
        if k in KIND_GROUPS or k in KINDS[kind] or kind not in ("pii", "secrets"):
            continue
        other = next((t for t, kinds in KINDS.items() if k in kinds), None)
        if other is None:
            continue  # the schema lists the kinds
        yield ctx.doc.diagnostic(
            ("guardrails", name, "kinds", i),
            f"'{k}' is a kind of the {other} guardrail; guardrail '{name}' is `type: {kind}`",
            "guardrail-setting",
            hint=f"its kinds: {', '.join(KINDS[kind])}"
            + (", national_id" if kind == "pii" else ""),
        )
    yield from _nothing_to_do(ctx, name, kind, g)


def _nothing_to_do(ctx: Context, name: str, kind: str, g: dict[str, Any]) -> Iterator[Diagnostic]:
    if kind == "input_size" and not any(cap in g for cap in SIZE_CAPS):
        yield ctx.doc.diagnostic(
            ("guardrails", name),
            f"guardrail '{name}' of type input_size sets no cap",
            "guardrail-empty",
            hint=f"set one or more of: {', '.join(SIZE_CAPS)}",
        )
    if kind == "blocked_terms":
        if "terms" not in g:
            yield ctx.doc.diagnostic(
                ("guardrails", name),
                f"guardrail '{name}' of type blocked_terms lists no terms",
                "guardrail-empty",
                hint="add `terms: [word, another phrase]`",
            )
        for i, term in string_items(g.get("terms")):
            if term and not term.strip():
                yield ctx.doc.diagnostic(
                    ("guardrails", name, "terms", i),
                    f"term #{i + 1} of guardrail '{name}' is only whitespace",
                    "guardrail-empty",
                    hint="remove it: it would match nothing",
                )


def check_guardrails(ctx: Context) -> Iterator[Diagnostic]:
    defined = ctx.section("guardrails")
    known = sorted(set(defined) | set(BUILTIN))
    for path, names in _places(ctx):
        for i, name in string_items(names):
            if name not in defined and name not in BUILTIN:
                yield ctx.doc.diagnostic(
                    (*path, i),
                    f"{_owner(ctx, path)} names unknown guardrail '{name}'",
                    "unknown-guardrail",
                    hint=_unknown_hint(name, known),
                )
    for name, g in ctx.entries("guardrails"):
        yield from _entry(ctx, name, g)


def _owner(ctx: Context, path: PathT) -> str:
    return "defaults.guardrails" if path[0] == "defaults" else where(path[:2], ctx.data)
