"""Semantic checks: what a schema cannot say.

Each check is a function ``check_x(ctx) -> Iterator[Diagnostic]`` listed in ``CHECKS``. They
run even when the schema found errors, so a file with three mistakes reports three; every
check therefore reads the data defensively and skips parts whose shape is wrong (the schema
has already reported those).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

from router.diagnostics import Diagnostic
from router.spec.build import deployment_entries
from router.spec.checks_content import check_content
from router.spec.checks_deployments import check_deployments
from router.spec.checks_embeddings import check_embeddings
from router.spec.checks_environment import check_environment
from router.spec.checks_extras import check_extra_params
from router.spec.checks_fallbacks import (
    check_chain_duplicates,
    check_fallback_cycles,
    check_fallback_fit,
    check_reachability,
)
from router.spec.checks_guardrails import check_guardrails
from router.spec.checks_providers import check_base_urls, check_header_names, check_type_fields
from router.spec.checks_rules import check_rules, string_items
from router.spec.schema import where
from router.spec.yamlload import Document, PathT


@dataclass(slots=True)
class Context:
    doc: Document
    environ: Mapping[str, str]

    @property
    def data(self) -> dict[str, Any]:
        return self.doc.data if isinstance(self.doc.data, dict) else {}

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}

    def entries(self, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for key, value in self.section(name).items():
            if isinstance(value, dict):
                yield key, value

    def rules(self) -> Iterator[tuple[int, dict[str, Any]]]:
        rules = self.data.get("rules")
        if isinstance(rules, list):
            for i, rule in enumerate(rules):
                if isinstance(rule, dict):
                    yield i, rule


_names = string_items


# --- references -------------------------------------------------------------------------------


def _unknown(
    ctx: Context, path: PathT, owner: PathT, kind: str, name: str, known: Mapping[str, Any]
) -> Diagnostic:
    close = get_close_matches(name, list(known), n=1, cutoff=0.6)
    if kind == "model" and name in ctx.section("tasks"):
        hint = f"'{name}' is a task; to continue with its chain write {{task: {name}}}"
    elif kind == "task" and name in ctx.section("models"):
        users = sorted(
            t
            for t, task in ctx.entries("tasks")
            if name in dict(_names(task.get("candidates"))).values()
        )
        if path[-1] == "task" and "fallback" in path:
            hint = f"'{name}' is a model, not a task: list the model itself (fallback: [{name}])"
        else:
            using = f"tasks that use it: {', '.join(users)}" if users else "no task lists it yet"
            hint = f"'{name}' is a model, not a task; {using}"
    elif close:
        hint = f"did you mean '{close[0]}'?"
    elif known:
        shown = sorted(known)
        hint = f"defined {kind}s: {', '.join(shown[:12])}{', ...' if len(shown) > 12 else ''}"
    else:
        hint = f"no {kind}s are defined"
    return ctx.doc.diagnostic(
        path,
        f"{where(owner, ctx.data)} refers to unknown {kind} '{name}'",
        f"unknown-{kind}",
        hint=hint,
    )


def check_references(ctx: Context) -> Iterator[Diagnostic]:
    providers, models, tasks = ctx.section("providers"), ctx.section("models"), ctx.section("tasks")
    for name, model in ctx.entries("models"):
        provider = model.get("provider")
        if isinstance(provider, str) and provider not in providers:
            yield _unknown(
                ctx, ("models", name, "provider"), ("models", name), "provider", provider, providers
            )
    for name, task in ctx.entries("tasks"):
        for i, ref in _names(task.get("candidates")):
            if ref not in models:
                yield _unknown(
                    ctx, ("tasks", name, "candidates", i), ("tasks", name), "model", ref, models
                )
        yield from _fallback_references(ctx, ("tasks", name), task.get("fallback"))
    for i, rule in ctx.rules():
        when: dict[str, Any] = rule["when"] if isinstance(rule.get("when"), dict) else {}
        task_refs = when.get("task")
        refs = [(None, task_refs)] if isinstance(task_refs, str) else _names(task_refs)
        for j, ref in refs:
            if ref not in tasks and ref != "default":
                path: PathT = ("rules", i, "when", "task") + ((j,) if j is not None else ())
                yield _unknown(ctx, path, ("rules", i), "task", ref, tasks)
        route_to = rule.get("route_to")
        if isinstance(route_to, str) and route_to not in tasks:
            yield _unknown(ctx, ("rules", i, "route_to"), ("rules", i), "task", route_to, tasks)
        for key in ("candidates", "only", "exclude"):
            for j, ref in _names(rule.get(key)):
                if ref not in models:
                    yield _unknown(ctx, ("rules", i, key, j), ("rules", i), "model", ref, models)
        yield from _fallback_references(ctx, ("rules", i), rule.get("fallback"))


def _fallback_references(ctx: Context, owner: PathT, fallback: Any) -> Iterator[Diagnostic]:
    """Unknown models and tasks in a task's or a rule's fallback list."""
    models, tasks = ctx.section("models"), ctx.section("tasks")
    for i, entry in enumerate(fallback if isinstance(fallback, list) else []):
        if isinstance(entry, str) and entry not in models:
            yield _unknown(ctx, (*owner, "fallback", i), owner, "model", entry, models)
        elif (
            isinstance(entry, dict)
            and isinstance(entry.get("task"), str)
            and entry["task"] not in tasks
        ):
            yield _unknown(
                ctx, (*owner, "fallback", i, "task"), owner, "task", entry["task"], tasks
            )


def check_duplicate_names(ctx: Context) -> Iterator[Diagnostic]:
    """Exact duplicates are caught while loading; names differing only by case are confusing
    enough (and collide on case-insensitive systems) to be refused too."""
    for section in ("providers", "models", "tasks"):
        seen: dict[str, str] = {}
        for name in ctx.section(section):
            folded = name.casefold()
            if folded in seen:
                yield ctx.doc.diagnostic(
                    (section, name),
                    f"{section[:-1]} '{name}' differs from '{seen[folded]}' only by case",
                    "duplicate-name",
                    hint="rename one of them",
                    key=True,
                )
            else:
                seen[folded] = name
    # Rules are named in `router explain`; two rules of one name make that ambiguous.
    first: dict[str, int] = {}
    for i, rule in ctx.rules():
        rule_name = rule.get("name")
        if not isinstance(rule_name, str):
            continue
        if rule_name.casefold() in first:
            j = first[rule_name.casefold()]
            line = ctx.doc.position(("rules", j))
            yield ctx.doc.diagnostic(
                ("rules", i, "name"),
                f"rule #{i + 1} is named '{rule_name}' like rule #{j + 1}"
                f"{f' (line {line[0]})' if line else ''}",
                "duplicate-name",
                hint="give every rule its own name",
            )
        else:
            first[rule_name.casefold()] = i


# --- numbers, windows, priorities -------------------------------------------------------------


def check_numbers(ctx: Context) -> Iterator[Diagnostic]:
    """NaN and infinity pass ``minimum``/``maximum`` in JSON Schema (every comparison with NaN is
    false), so they are caught here, anywhere in the file."""

    def walk(value: Any, path: PathT) -> Iterator[Diagnostic]:
        if isinstance(value, float) and not math.isfinite(value):
            kind = "a price" if "pricing" in path else "it"
            yield ctx.doc.diagnostic(
                path,
                f"{where(path, ctx.data)} is {value!r}; {kind} must be a finite number",
                "non-finite-number",
            )
        elif isinstance(value, dict):
            for k, v in value.items():
                yield from walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from walk(v, (*path, i))

    yield from walk(ctx.data, ())


def check_models(ctx: Context) -> Iterator[Diagnostic]:
    for name, model in ctx.entries("models"):
        window, max_out = model.get("context_window"), model.get("max_output_tokens")
        if isinstance(window, int) and isinstance(max_out, int) and max_out > window:
            yield ctx.doc.diagnostic(
                ("models", name, "max_output_tokens"),
                f"model '{name}' can output {max_out:,} tokens "
                f"but its context window is {window:,}",
                "output-exceeds-window",
                hint="max_output_tokens must not exceed context_window",
            )
        latency = model.get("latency")
        if isinstance(latency, dict):
            p50, p95 = latency.get("p50"), latency.get("p95")
            if isinstance(p50, (int, float)) and isinstance(p95, (int, float)) and p95 < p50:
                yield ctx.doc.diagnostic(
                    ("models", name, "latency", "p95"),
                    f"model '{name}' has a p95 latency ({p95}) below its median ({p50})",
                    "latency-prior",
                )


def _zero_weights(priority: Any) -> bool:
    return isinstance(priority, dict) and bool(priority) and all(v == 0 for v in priority.values())


def check_priorities(ctx: Context) -> Iterator[Diagnostic]:
    models = ctx.section("models")
    places: list[tuple[PathT, Any, list[str]]] = []
    for name, task in ctx.entries("tasks"):
        places.append(
            (
                ("tasks", name, "priority"),
                task.get("priority"),
                [r for _, r in _names(task.get("candidates"))],
            )
        )
    for i, rule in ctx.rules():
        places.append((("rules", i, "priority"), rule.get("priority"), []))
    for path, priority, candidates in places:
        if _zero_weights(priority):
            yield ctx.doc.diagnostic(
                path,
                f"{where(path, ctx.data)} gives every weight 0",
                "priority-weights",
                hint="give at least one weight above 0",
            )
        wants_quality = priority == "quality" or (
            isinstance(priority, dict) and priority.get("quality")
        )
        wants_cost = priority in (None, "cost") or (
            isinstance(priority, dict) and priority.get("cost")
        )
        for ref in candidates:
            model = models.get(ref)
            if not isinstance(model, dict):
                continue
            if wants_quality and "quality" not in model:
                yield ctx.doc.diagnostic(
                    path if priority is not None else path[:-1],
                    f"{where(path[:-1], ctx.data)} orders by quality, "
                    f"but model '{ref}' has no quality rank",
                    "priority-without-data",
                    severity="warning",
                    hint=f"add quality: N to model '{ref}'",
                )
            elif wants_cost and "pricing" not in model and priority is not None:
                yield ctx.doc.diagnostic(
                    path,
                    f"{where(path[:-1], ctx.data)} orders by cost, "
                    f"but model '{ref}' has no pricing",
                    "priority-without-data",
                    severity="warning",
                    hint=f"add pricing to model '{ref}'",
                )


def check_hedges(ctx: Context) -> Iterator[Diagnostic]:
    """A hedge sends the request to the chain's second model: a chain of one has none."""
    for name, task in ctx.entries("tasks"):
        if not isinstance(task.get("hedge"), dict):
            continue
        models = {ref for _, ref in _names(task.get("candidates"))}
        models |= {ref for _, ref in _names(task.get("fallback"))}
        fallback = task.get("fallback")
        via_task = isinstance(fallback, list) and any(isinstance(f, dict) for f in fallback)
        # A model served at several deployments hedges to its next deployment.
        pooled = any(
            len(deployment_entries(m)) > 1
            for m in map(ctx.section("models").get, models)
            if isinstance(m, dict)
        )
        if len(models) < 2 and not via_task and not pooled:
            yield ctx.doc.diagnostic(
                ("tasks", name, "hedge"),
                f"task '{name}' hedges, but its chain has a single model to send to",
                "hedge-without-target",
                severity="warning",
                hint="add a second candidate or a fallback, or remove hedge",
            )


CHECKS: tuple[Callable[[Context], Iterator[Diagnostic]], ...] = (
    check_references,
    check_duplicate_names,
    check_fallback_cycles,
    check_chain_duplicates,
    check_fallback_fit,
    check_reachability,
    check_rules,
    check_numbers,
    check_models,
    check_deployments,
    check_priorities,
    check_base_urls,
    check_type_fields,
    check_environment,
    check_header_names,
    check_hedges,
    check_embeddings,
    check_content,
    check_extra_params,
    check_guardrails,
)


def semantic_diagnostics(doc: Document, *, environ: Mapping[str, str]) -> list[Diagnostic]:
    ctx = Context(doc, environ)
    return [d for check in CHECKS for d in check(ctx)]
