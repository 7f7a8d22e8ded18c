"""Which hooks a request passes, and in what order: a pure decision on the spec and the plan
(``router explain`` shows it; the engine runs it).

A request passes ``defaults.hooks``, then the hooks of the task it asked for, then those of
the task a rule's ``route_to`` sent it to, then those of the rule it matched; a name listed
twice runs once, where it came first. ``before`` hooks run in this order, ``after`` and
``after_chunk`` in reverse (the first hook sees the request first and the answer last, so a
hook that masks before can restore after, around every hook inside it).

A ``{task: X}`` fallback does not bring X's hooks: hooks belong to the request, not to the
models its chain reaches.

The guardrails a request passes (:func:`guardrail_steps`: those of the task serving it, the
task's own list or ``defaults.guardrails``, then those its rule adds) run after every
``before`` hook, in the fixed order of their types (``RUN_ORDER``), whatever the lists' order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from router.specmodel import RuleSpec, Spec, TaskSpec, guardrails_for
from router.specmodel.guardrails import in_run_order

__all__ = ["GuardrailStep", "HookStep", "guardrail_steps", "hook_names", "hooks_for"]


@dataclass(frozen=True, slots=True)
class HookStep:
    """One hook a request passes: its registered ``name`` and where the spec attached it
    (``defaults``, ``task 'chat'``, ``rule 'external'``)."""

    name: str
    origin: str


def hooks_for(
    spec: Spec, asked: TaskSpec | None, task: TaskSpec, rule: RuleSpec | None
) -> tuple[HookStep, ...]:
    """The hooks of a request for ``asked`` (the task the call named, or the one serving an
    unknown name) served by ``task`` (``route_to``'s, or ``asked`` itself) and matched by
    ``rule``, in the order their ``before`` runs."""
    defaults = spec.defaults.hooks
    own = asked.hooks if asked is not None and asked is not task else ()
    by_rule = rule.hooks if rule is not None else ()
    if not (defaults or own or task.hooks or by_rule):
        return ()  # the common case, kept cheap: no hooks anywhere on this request's way
    steps: list[HookStep] = []
    seen: set[str] = set()
    for names, origin in (
        (defaults, "defaults"),
        (own, f"task '{asked.name}'" if asked is not None else ""),
        (task.hooks, f"task '{task.name}'"),
        (by_rule, f"rule '{rule.name}'" if rule is not None else ""),
    ):
        for name in names:
            if name not in seen:
                seen.add(name)
                steps.append(HookStep(name, origin))
    return tuple(steps)


def hook_names(spec: Spec) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    """Every hook name the spec lists, with the path of its place (``("defaults", "hooks",
    0)``, ``("tasks", "chat", "hooks", 1)``, ``("rules", 0, "hooks", 0)``), in spec order."""
    for i, name in enumerate(spec.defaults.hooks):
        yield name, ("defaults", "hooks", i)
    for task in spec.tasks.values():
        for i, name in enumerate(task.hooks):
            yield name, ("tasks", task.name, "hooks", i)
    for rule in spec.rules:
        for i, name in enumerate(rule.hooks):
            yield name, ("rules", rule.index, "hooks", i)


@dataclass(frozen=True, slots=True)
class GuardrailStep:
    """One guardrail a request passes: its ``name``, its ``type`` and where the spec attached
    it (``defaults``, ``task 'chat'``, ``rule 'eu'``)."""

    name: str
    type: str
    origin: str


def guardrail_steps(spec: Spec, task: TaskSpec, rule: RuleSpec | None) -> tuple[GuardrailStep, ...]:
    """The guardrails of a request served by ``task`` that ``rule`` matched, in the order they
    run (the order :meth:`router.guardrails.Catalog.for_request` gives them)."""
    names = guardrails_for(task, rule)
    if not names:
        return ()
    own = "defaults" if task.guardrails == spec.defaults.guardrails else f"task '{task.name}'"
    steps = []
    for name in names:
        found = spec.guardrails.get(name)
        origin = own if name in task.guardrails else f"rule '{rule.name if rule else ''}'"
        steps.append(GuardrailStep(name, found.type if found is not None else "", origin))
    return tuple(in_run_order(steps, lambda s: s.type))
