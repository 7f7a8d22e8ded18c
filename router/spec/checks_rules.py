"""Semantic checks on rules: conditions that can never hold, rules that send a task to
itself, and rules no request can reach because an earlier one matches everything they would
(rules are tried in order and the first match wins)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from router.spec.diagnostics import Diagnostic
from router.spec.schema import where

if TYPE_CHECKING:
    from router.spec.checks import Context


def _rule_name(rule: dict[str, Any], i: int) -> str:
    return where(("rules", i), {"rules": {i: rule}})


def _conditions(rule: dict[str, Any]) -> dict[str, Any] | None:
    when = rule.get("when", {})
    if when is None:
        return {}
    return when if isinstance(when, dict) else None


def _as_set(value: Any) -> set[Any] | None:
    if value is None:
        return None
    return {value} if not isinstance(value, list) else set(value)


def _scalars(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return all(isinstance(v, (str, int, float)) for v in items)


def _comparable(when: dict[str, Any]) -> bool:
    """Whether ``when`` has the shapes :func:`_implies` compares (the schema reports the rest)."""
    tokens = (when.get("min_input_tokens"), when.get("max_input_tokens"))
    metadata = when.get("metadata") or {}
    return (
        all(t is None or (isinstance(t, int) and not isinstance(t, bool)) for t in tokens)
        and all(when.get(k) is None or _scalars(when[k]) for k in ("task", "capabilities", "tags"))
        and isinstance(metadata, dict)
        and all(_scalars(v) for v in metadata.values())
    )


def _implies(later: dict[str, Any], earlier: dict[str, Any]) -> bool:
    """True when every request matching ``later`` also matches ``earlier``."""
    e_tasks, l_tasks = _as_set(earlier.get("task")), _as_set(later.get("task"))
    if e_tasks is not None and (l_tasks is None or not l_tasks <= e_tasks):
        return False
    e_min, l_min = earlier.get("min_input_tokens"), later.get("min_input_tokens")
    if e_min is not None and (l_min is None or l_min < e_min):
        return False
    e_max, l_max = earlier.get("max_input_tokens"), later.get("max_input_tokens")
    if e_max is not None and (l_max is None or l_max > e_max):
        return False
    if not (_as_set(earlier.get("capabilities")) or set()) <= (
        _as_set(later.get("capabilities")) or set()
    ):
        return False
    if not (_as_set(earlier.get("tags")) or set()) <= (_as_set(later.get("tags")) or set()):
        return False
    e_meta, l_meta = earlier.get("metadata") or {}, later.get("metadata") or {}
    for key, allowed in e_meta.items():
        if key not in l_meta or not (_as_set(l_meta[key]) or set()) <= (_as_set(allowed) or set()):
            return False
    return True


def check_rules(ctx: Context) -> Iterator[Diagnostic]:
    earlier: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for i, rule in ctx.rules():
        when = _conditions(rule)
        if when is None:
            continue
        lo, hi = when.get("min_input_tokens"), when.get("max_input_tokens")
        impossible = isinstance(lo, int) and isinstance(hi, int) and lo > hi
        if impossible:
            yield ctx.doc.diagnostic(
                ("rules", i, "when"),
                f"{_rule_name(rule, i)} can never match: "
                f"min_input_tokens {lo} is above max_input_tokens {hi}",
                "rule-never-matches",
            )
        route_to, task_cond = rule.get("route_to"), when.get("task")
        if isinstance(route_to, str) and task_cond in (route_to, [route_to]):
            yield ctx.doc.diagnostic(
                ("rules", i, "route_to"),
                f"{_rule_name(rule, i)} sends task '{route_to}' to itself",
                "rule-self-route",
                hint="remove route_to or change the task condition",
            )
        if impossible or not _comparable(when):
            continue  # it shadows nothing, and "never used" would only repeat the error above
        for j, prev, prev_when in earlier:
            if _implies(when, prev_when):
                line = ctx.doc.position(("rules", j))
                what = (
                    "matches every request"
                    if not prev_when
                    else "matches every request this one would"
                )
                yield ctx.doc.diagnostic(
                    ("rules", i),
                    f"{_rule_name(rule, i)} is never used: {_rule_name(prev, j)}"
                    f"{f' (line {line[0]})' if line else ''} comes first and {what}",
                    "shadowed-rule",
                    hint="rules are tried in order and the first match wins; "
                    "move this rule up or narrow the earlier one",
                )
                break
        earlier.append((i, rule, when))
