"""The compiled routing graph, printable as text and as Mermaid.

``str(router.graph)`` shows rules → tasks → candidates and fallbacks → each target's node
stack; ``router.graph.mermaid()`` draws the same as a flowchart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from router.nodes.base import Node, walk
from router.specmodel import Spec


def _stack(node: Node | None) -> str:
    return " → ".join(layer.describe() for layer in walk(node)) if node is not None else ""


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
        lines.append("tasks:")
        for name, task in spec.tasks.items():
            lines.append(f"  {name} [priority {task.priority}]")
            lines.append(f"    candidates: {', '.join(task.candidates)}")
            if task.fallback:
                lines.append(f"    fallback:   {', '.join(str(f) for f in task.fallback)}")
        lines.append("targets:")
        width = max(len(n) for n in spec.models)
        for name, model in spec.models.items():
            provider = spec.providers[model.provider]
            several = self.deployments.get(name)
            if several:
                lines.append(f"  {name:<{width}}  {len(several)} deployments, {model.balance}:")
                for dname, place, node in several:
                    lines.append(f"    {dname} ({place}): {_stack(node)}")
                continue
            lines.append(
                f"  {name:<{width}}  {provider.name} ({provider.type}, {model.id}): "
                f"{_stack(self.nodes.get(name))}"
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
