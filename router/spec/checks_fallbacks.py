"""Semantic checks on the fallback graph: cycles, a model twice in one chain, fallbacks that
cannot take what their task requires, and models or tasks nothing reaches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, get_args

from router.diagnostics import Diagnostic
from router.spec.checks_rules import string_items
from router.specmodel import Capability

if TYPE_CHECKING:
    from router.spec.checks import Context

_names = string_items


# --- fallback graph ---------------------------------------------------------------------------


def check_fallback_cycles(ctx: Context) -> Iterator[Diagnostic]:
    tasks = ctx.section("tasks")
    edges: dict[str, list[tuple[int, str]]] = {}
    for name, task in ctx.entries("tasks"):
        fallback = task.get("fallback")
        for i, entry in enumerate(fallback if isinstance(fallback, list) else []):
            if (
                isinstance(entry, dict)
                and isinstance(entry.get("task"), str)
                and entry["task"] in tasks
            ):
                edges.setdefault(name, []).append((i, entry["task"]))
    reported: set[frozenset[str]] = set()
    for start, targets in edges.items():
        for i, target in targets:
            if target == start:
                yield ctx.doc.diagnostic(
                    ("tasks", start, "fallback", i),
                    f"task '{start}' falls back to itself",
                    "fallback-self-loop",
                    hint="remove this entry",
                )
                continue
            # Depth-first search for a way back to ``start``.
            stack: list[tuple[str, list[str]]] = [(target, [start, target])]
            visited: set[str] = set()
            while stack:
                node, trail = stack.pop()
                if node in visited:
                    continue
                visited.add(node)
                for _, nxt in edges.get(node, []):
                    if nxt == start:
                        cycle = frozenset(trail)
                        if cycle not in reported:
                            reported.add(cycle)
                            yield ctx.doc.diagnostic(
                                ("tasks", start, "fallback", i),
                                "fallback cycle: " + " → ".join([*trail, start]),
                                "fallback-cycle",
                                hint="a chain must end; remove one of these task references",
                            )
                    elif nxt != node:
                        stack.append((nxt, [*trail, nxt]))


def check_chain_duplicates(ctx: Context) -> Iterator[Diagnostic]:
    for name, task in ctx.entries("tasks"):
        candidates = {ref for _, ref in _names(task.get("candidates"))}
        for i, ref in _names(task.get("fallback")):
            if ref in candidates:
                yield ctx.doc.diagnostic(
                    ("tasks", name, "fallback", i),
                    f"'{ref}' is already a candidate of task '{name}'; "
                    "a chain tries each model once",
                    "duplicate-in-chain",
                    severity="warning",
                    hint="remove it from the fallback list",
                )


_CAPABILITIES = frozenset(get_args(Capability))


def check_fallback_fit(ctx: Context) -> Iterator[Diagnostic]:
    """Every candidate and fallback must be able to serve what its task requires."""
    models = ctx.section("models")
    for name, task in ctx.entries("tasks"):
        constraints: dict[str, Any] = (
            task["constraints"] if isinstance(task.get("constraints"), dict) else {}
        )
        # An unknown capability is the schema's error; it is not also every model's lack.
        require = {c for _, c in _names(constraints.get("require")) if c in _CAPABILITIES}
        min_window = constraints.get("min_context_window")
        for key in ("candidates", "fallback"):
            for i, ref in _names(task.get(key)):
                model = models.get(ref)
                if not isinstance(model, dict):
                    continue
                raw_caps = model.get("capabilities", ["streaming"])
                caps = {c for _, c in _names(raw_caps)}
                missing = sorted(require - caps)
                role = "candidate" if key == "candidates" else "fallback"
                if missing:
                    yield ctx.doc.diagnostic(
                        ("tasks", name, key, i),
                        f"{role} '{ref}' lacks {', '.join(missing)}, which task '{name}' requires",
                        "capability-mismatch",
                        hint=f"choose a model with {', '.join(missing)}, "
                        "or add them to the model's capabilities if it has them",
                    )
                window = model.get("context_window")
                if isinstance(min_window, int) and isinstance(window, int) and window < min_window:
                    yield ctx.doc.diagnostic(
                        ("tasks", name, key, i),
                        f"{role} '{ref}' has a context window of {window:,} tokens; "
                        f"task '{name}' requires {min_window:,}",
                        "context-window-too-small",
                        hint="choose a model with a larger context window",
                    )
                elif isinstance(min_window, int) and window is None:
                    yield ctx.doc.diagnostic(
                        ("tasks", name, key, i),
                        f"{role} '{ref}' does not declare its context_window; "
                        f"task '{name}' requires {min_window:,}",
                        "context-window-unknown",
                        severity="warning",
                    )


def check_reachability(ctx: Context) -> Iterator[Diagnostic]:
    used: set[str] = set()
    for _, task in ctx.entries("tasks"):
        used.update(ref for _, ref in _names(task.get("candidates")))
        used.update(ref for _, ref in _names(task.get("fallback")))
    for _, rule in ctx.rules():
        used.update(ref for _, ref in _names(rule.get("candidates")))
        used.update(ref for _, ref in _names(rule.get("fallback")))
    for name in ctx.section("models"):
        if name not in used:
            yield ctx.doc.diagnostic(
                ("models", name),
                f"model '{name}' is not a candidate or fallback of any task, "
                "nor chosen by any rule",
                "unreachable-model",
                severity="warning",
                hint="add it to a task, or remove it",
                key=True,
            )
