"""What the spec says about hooks. Hooks are code registered with the Router, which a spec
only names (it never imports code), so a spec file alone cannot tell whether a name is
registered: ``router validate`` notes the names the spec uses, and the Router refuses a spec
naming one it was not given (:class:`router.engine.hooks.HookRegistry`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from router.diagnostics import Diagnostic
from router.spec.checks_rules import string_items

if TYPE_CHECKING:
    from router.spec.checks import Context

__all__ = ["check_hooks"]


def _lists(ctx: Context) -> Iterator[tuple[tuple[Any, ...], str, Any]]:
    """(path, where, value) of every ``hooks`` key of the spec, in spec order."""
    defaults = ctx.section("defaults")
    if "hooks" in defaults:
        yield ("defaults", "hooks"), "defaults", defaults["hooks"]
    for name, task in ctx.entries("tasks"):
        if "hooks" in task:
            yield ("tasks", name, "hooks"), f"task '{name}'", task["hooks"]
    for i, rule in ctx.rules():
        if "hooks" in rule:
            rule_name = rule.get("name")
            where = f"rule '{rule_name}'" if isinstance(rule_name, str) else f"rule #{i + 1}"
            yield ("rules", i, "hooks"), where, rule["hooks"]


def check_hooks(ctx: Context) -> Iterator[Diagnostic]:
    """One note naming every hook the spec lists, and where (at the first ``hooks`` key)."""
    users: dict[str, list[str]] = {}
    first: tuple[Any, ...] | None = None
    for path, where, value in _lists(ctx):
        first = first or path
        for _, name in string_items(value):
            places = users.setdefault(name, [])
            if where not in places:
                places.append(where)
    if first is None or not users:
        return
    named = "; ".join(f"{name} ({', '.join(places)})" for name, places in users.items())
    yield ctx.doc.diagnostic(
        first,
        f"the spec names {len(users)} hook{'s' * (len(users) != 1)}: {named}",
        "hooks-named",
        severity="note",
        hint="each must be registered in code: Router(hooks={name: hook}), or "
        "`router complete|serve --hooks NAME=module:attribute`; a Router given no such "
        "name refuses the spec",
        key=True,
    )
