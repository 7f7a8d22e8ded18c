"""The compiled routing graph, printable as text and as Mermaid.

``str(router.graph)`` shows rules (and the fallbacks each leaves in place) → tasks →
candidates and fallbacks → each target's node stack, the cache only where a task that can reach
the model caches; ``router.graph.mermaid()`` draws the same as a flowchart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from router.nodes.base import Node, walk
from router.specmodel import FallbackEntry, RuleSpec, Spec, TaskSpec


def _stack(node: Node | None, caching: list[str]) -> str:
    """The node stack in words; the cache layer only when some task caches this model's
    answers (it is built for every model, and passes through for the other tasks)."""
    if node is None:
        return ""
    layers = []
    for layer in walk(node):
        text = layer.describe()
        if text == "cache":
            if not caching:
                continue
            text = f"cache(for {', '.join(caching)})"
        layers.append(text)
    return " → ".join(layers)


def _reach(spec: Spec, task: TaskSpec, seen: frozenset[str] = frozenset()) -> set[str]:
    """Every model a request served as ``task`` may reach: its chain, the chains its fallbacks
    continue, and what a rule that can match it adds (a rule with ``route_to`` serves the
    request as that other task, with that task's settings)."""
    models = set(task.candidates)
    for entry in task.fallback:
        models |= _entry_models(spec, entry, seen | {task.name})
    for rule in spec.rules:
        if rule.route_to or (rule.when.tasks is not None and task.name not in rule.when.tasks):
            continue
        models |= set(rule.candidates or ())
        for entry in rule.fallback or ():
            models |= _entry_models(spec, entry, seen | {task.name})
    return models


def _entry_models(spec: Spec, entry: FallbackEntry, seen: frozenset[str]) -> set[str]:
    if entry.model is not None:
        return {entry.model}
    target = spec.tasks.get(entry.task or "")
    return _reach(spec, target, seen) if target is not None and target.name not in seen else set()


def _fallbacks_left(spec: Spec, rule: RuleSpec) -> str | None:
    """The fallbacks a matched request still has under ``rule``, when the rule does not set
    its own: none when it confines to its candidates, else each task's, filtered."""
    if rule.fallback is not None:
        return None  # the rule's own, already in its actions
    if rule.candidates is not None:
        return "fallbacks: none (confined to its candidates)"
    names = sorted(rule.when.tasks) if rule.when.tasks is not None else list(spec.tasks)
    if rule.route_to:
        names = [rule.route_to]  # served as that task: its fallbacks
    parts = []
    for name in names:
        task = spec.tasks.get(name)
        if task is None:
            continue
        kept = [
            str(e)
            for e in task.fallback
            if e.model is None
            or (e.model not in rule.exclude and (rule.only is None or e.model in rule.only))
        ]
        parts.append(f"{name} → {', '.join(kept) or '(none)'}")
    return "fallbacks left: " + "; ".join(parts) if parts else None


def _id(kind: str, name: str) -> str:
    return f"{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


#: A model's deployments, each (name, "provider/id", top node), when it has several.
Deployments = Mapping[str, Sequence[tuple[str, str, Node]]]


class Graph:
    def __init__(
        self, spec: Spec, nodes: Mapping[str, Node], deployments: Deployments | None = None
    ) -> None:
        self.spec = spec
        self.nodes = nodes
        self.deployments: Deployments = deployments or {}

    def __str__(self) -> str:
        spec = self.spec
        lines = []
        if spec.rules:
            lines.append("rules (first match wins):")
            for rule in spec.rules:
                lines.append(f"  {rule.index + 1}. {rule.name}: {'; '.join(rule.actions())}")
                if rule.when.text is not None:
                    lines.append(f"     when the text has {rule.when.text.describe()}")
                left = _fallbacks_left(spec, rule)
                if left:
                    lines.append(f"     {left}")
        lines.append("tasks:")
        for name, task in spec.tasks.items():
            lines.append(f"  {name} [priority {task.priority}]")
            lines.append(f"    candidates: {', '.join(task.candidates)}")
            if task.fallback:
                lines.append(f"    fallback:   {', '.join(str(f) for f in task.fallback)}")
            if task.cache.enabled:
                lines.append(f"    cache:      on, {task.cache.ttl:g}s")
        caching: dict[str, list[str]] = {name: [] for name in spec.models}
        for name, task in spec.tasks.items():
            if task.cache.enabled:
                for reached in _reach(spec, task):
                    caching.setdefault(reached, []).append(name)
        lines.append("targets:")
        width = max(len(n) for n in spec.models)
        for name, model in spec.models.items():
            provider = spec.providers[model.provider]
            several = self.deployments.get(name)
            if several:
                lines.append(f"  {name:<{width}}  {len(several)} deployments, {model.balance}:")
                for dname, place, node in several:
                    lines.append(f"    {dname} ({place}): {_stack(node, caching.get(name, []))}")
                continue
            lines.append(
                f"  {name:<{width}}  {provider.name} ({provider.type}, {model.id}): "
                f"{_stack(self.nodes.get(name), caching.get(name, []))}"
            )
        return "\n".join(lines)

    def mermaid(self) -> str:
        spec = self.spec
        out = ["flowchart LR"]
        for name in spec.tasks:
            out.append(f'  {_id("task", name)}(["task: {name}"])')
        for name, model in spec.models.items():
            out.append(f'  {_id("model", name)}["{name}<br/>{model.provider}"]')
        for rule in spec.rules:
            rid = _id("rule", rule.name)
            out.append(f'  {rid}{{"rule: {rule.name}"}}')
            if rule.route_to:
                out.append(f"  {rid} -->|route_to| {_id('task', rule.route_to)}")
            for chosen in rule.candidates or ():
                out.append(f"  {rid} -->|candidate| {_id('model', chosen)}")
            for entry in rule.fallback or ():
                target = _id("model", entry.model) if entry.model else _id("task", entry.task or "")
                out.append(f"  {rid} -.->|fallback| {target}")
        for name, task in spec.tasks.items():
            tid = _id("task", name)
            for candidate in task.candidates:
                out.append(f"  {tid} --> {_id('model', candidate)}")
            for entry in task.fallback:
                target = _id("model", entry.model) if entry.model else _id("task", entry.task or "")
                out.append(f"  {tid} -.->|fallback| {target}")
        return "\n".join(out)

    def __repr__(self) -> str:
        return f"Graph(tasks={len(self.spec.tasks)}, models={len(self.spec.models)})"
