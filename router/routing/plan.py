"""Routing decisions, as pure functions of the spec and the request.

``make_plan`` answers "which models, in what order, and why" without I/O, clocks or SDKs. The
engine walks the plan it returns; ``router explain`` prints the same plan instead of calling.

```
request features ─▶ first matching rule (its text read last, within its bound) ─▶ effective task
                 ─▶ candidates (rule may choose/exclude) ─▶ constraints filter
                 ─▶ order by priority (cost, latency, quality or weights; ties keep spec order)
                 ─▶ + fallback chain (the rule's, else the task's; {task: X} expanded under the
                      constraints of every task on the way; excluded/duplicate models skipped)
                 ─▶ nothing outside the rule's confinement (candidates/only), anywhere
                 ─▶ bounded by max_attempts ─▶ Plan(steps, skipped, reasons)
```
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from router.errors import RequestError
from router.routing.content import TextMatch, match_text
from router.routing.features import DEFAULT_EXPECTED_OUTPUT, Features
from router.specmodel import (
    Constraints,
    FallbackEntry,
    ModelSpec,
    Params,
    Priority,
    RuleSpec,
    Spec,
    TaskSpec,
)

__all__ = [
    "Candidate",
    "Plan",
    "make_plan",
]

N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One model considered for a request, with what the ordering saw."""

    model: str
    role: str  # "candidate" or "fallback" (or "fallback via task X")
    estimated_cost: float | None
    latency: float | None
    quality: float | None
    score: float | None = None
    skipped: str | None = None  # why it is not in the chain, when it is not


@dataclass(frozen=True, slots=True)
class Plan:
    """The decision for one request: ``chain`` is tried in order."""

    requested_task: str
    task: TaskSpec
    rule: RuleSpec | None
    priority: Priority
    features: Features
    chain: tuple[Candidate, ...]
    skipped: tuple[Candidate, ...]
    truncated: int = 0  # models left out by max_attempts
    #: The models the matched rule confines the request to (None: the rule does not confine).
    confined: frozenset[str] | None = None
    #: What the matched rule's ``when.text`` found in the request (None: it has none).
    text_match: TextMatch | None = None

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(c.model for c in self.chain)


def _first_rule(spec: Spec, f: Features) -> tuple[RuleSpec | None, TextMatch | None]:
    """The first rule whose ``when`` holds, and what its text condition found. The text is
    read last, and only for rules whose other conditions hold."""
    for rule in spec.rules:
        if not _rule_matches(rule, f):
            continue
        if rule.when.text is None:
            return rule, None
        found = match_text(rule.when.text, f.text)
        if found is not None:
            return rule, found
    return None, None


def _rule_matches(rule: RuleSpec, f: Features) -> bool:
    """Whether the conditions of ``rule`` other than its text hold."""
    w = rule.when
    if w.tasks is not None and f.task not in w.tasks:
        return False
    if w.min_input_tokens is not None and f.input_tokens < w.min_input_tokens:
        return False
    if w.max_input_tokens is not None and f.input_tokens > w.max_input_tokens:
        return False
    if not w.capabilities <= f.capabilities:
        return False
    if not w.tags <= f.tags:
        return False
    if w.labels is not None or w.min_confidence is not None:
        c = f.classification
        if c is None or c.label is None:
            return False
        if w.labels is not None and c.label not in w.labels:
            return False
        if w.min_confidence is not None and c.confidence < w.min_confidence:
            return False
    return all(
        key in f.metadata and f.metadata[key] in allowed for key, allowed in w.metadata.items()
    )


def _expected_output(model: ModelSpec, f: Features, params_max: int | None) -> int:
    wanted = f.output_tokens or params_max or DEFAULT_EXPECTED_OUTPUT
    return min(wanted, model.max_output_tokens) if model.max_output_tokens else wanted


def _estimate_cost(model: ModelSpec, f: Features, params_max: int | None) -> float | None:
    if model.pricing is None:
        return None
    return model.pricing.cost(f.input_tokens, _expected_output(model, f, params_max))


def _why_not(
    model: ModelSpec,
    limits: Constraints,
    f: Features,
    cost: float | None,
    params_max: int | None,
    unavailable: Callable[[ModelSpec], str | None],
) -> str | None:
    missing = sorted((limits.require | f.capabilities) - model.capabilities)
    if missing:
        return f"lacks {', '.join(missing)}"
    floor = limits.min_context_window
    if floor is not None and model.context_window is not None and model.context_window < floor:
        return f"context window {model.context_window:,} < min_context_window {floor:,}"
    needed = f.input_tokens + _expected_output(model, f, params_max)
    if model.context_window is not None and needed > model.context_window:
        return f"context window {model.context_window:,} < ~{needed:,} tokens needed"
    limit = limits.max_cost_per_call
    if limit is not None and cost is not None and cost > limit:
        return f"estimated ${cost:.4f} > max_cost_per_call ${limit:g}"
    return unavailable(model)


def _order(cands: list[Candidate], priority: Priority) -> list[Candidate]:
    """Lower score is better. Each criterion is scaled to 0..1 across the candidates (unknown
    values count as worst), then weighted; the sort is stable, so ties keep spec order."""

    def scaled(values: list[float | None], higher_is_better: bool) -> list[float]:
        known = [v for v in values if v is not None]
        if not known:
            return [1.0] * len(values)
        lo, hi = min(known), max(known)
        span = (hi - lo) or 1.0
        out = []
        for v in values:
            if v is None:
                out.append(1.0)
            else:  # 0 is the best known value, also when all known values are equal
                out.append((hi - v) / span if higher_is_better else (v - lo) / span)
        return out

    cost = scaled([c.estimated_cost for c in cands], False)
    latency = scaled([c.latency for c in cands], False)
    quality = scaled([c.quality for c in cands], True)
    total = (priority.cost + priority.latency + priority.quality) or 1.0
    scored = [
        _with_score(
            c,
            (
                priority.cost * cost[i]
                + priority.latency * latency[i]
                + priority.quality * quality[i]
            )
            / total,
        )
        for i, c in enumerate(cands)
    ]
    return sorted(scored, key=lambda c: c.score if c.score is not None else 1.0)


def _with_score(c: Candidate, score: float) -> Candidate:
    return Candidate(c.model, c.role, c.estimated_cost, c.latency, c.quality, round(score, 4))


def _prior_p50(model: ModelSpec) -> float | None:
    return model.latency.p50


def cheapest_only(plan: Plan) -> Plan:
    """The plan narrowed to its cheapest model (by estimated cost; unpriced last), for a task
    whose spend cap is reached with ``on_budget: cheapest``."""
    if not plan.chain:
        return plan
    best = min(
        plan.chain,
        key=lambda c: c.estimated_cost if c.estimated_cost is not None else float("inf"),
    )
    dropped = tuple(
        Candidate(
            c.model,
            c.role,
            c.estimated_cost,
            c.latency,
            c.quality,
            skipped="spend cap reached: the cheapest model only",
        )
        for c in plan.chain
        if c is not best
    )
    return replace(plan, chain=(best,), skipped=plan.skipped + dropped)


def _both(a: N | None, b: N | None, pick: Callable[[N, N], N]) -> N | None:
    return b if a is None else a if b is None else pick(a, b)


def _merge(a: Constraints, b: Constraints) -> Constraints:
    """Both sets of constraints at once: every required capability, the larger window
    floor, the smaller cost cap."""
    if a == b or b == Constraints():
        return a
    return Constraints(
        max_cost_per_call=_both(a.max_cost_per_call, b.max_cost_per_call, min),
        require=a.require | b.require,
        min_context_window=_both(a.min_context_window, b.min_context_window, max),
    )


@dataclass(frozen=True, slots=True)
class _Step:
    """One model a fallback list leads to: the role it plays, the task that lists it (whose
    parameters estimate its cost), and the constraints of every task on the way to it."""

    model: str
    role: str
    owner: TaskSpec
    limits: Constraints


def _fallback_groups(
    spec: Spec,
    entries: Sequence[FallbackEntry],
    owner: TaskSpec,
    limits: Constraints,
    visiting: frozenset[str],
    via: str | None = None,
) -> list[tuple[list[_Step], Priority | None]]:
    """A fallback list expanded, in chain order: a model entry is a group of one; a
    ``{task: X}`` entry is X's candidates (a group ordered by X's priority) followed by X's
    own fallbacks, recursively. A task already on the way is not entered again. The
    constraints of each task passed through add to ``limits``."""
    groups: list[tuple[list[_Step], Priority | None]] = []
    for entry in entries:
        if entry.model is not None:
            role = f"fallback via task '{via}'" if via else "fallback"
            groups.append(([_Step(entry.model, role, owner, limits)], None))
        elif entry.task is not None and entry.task not in visiting:
            other = spec.tasks[entry.task]
            inner = _merge(limits, other.constraints)
            role = f"fallback via task '{entry.task}'"
            groups.append(
                ([_Step(n, role, other, inner) for n in other.candidates], other.priority)
            )
            groups += _fallback_groups(
                spec, other.fallback, other, inner, visiting | {entry.task}, entry.task
            )
    return groups


def _confinement(spec: Spec, rule: RuleSpec | None, task: TaskSpec) -> frozenset[str] | None:
    """The models a request for ``task`` matched by ``rule`` may reach (None: no
    confinement). ``only`` is the set itself; ``candidates`` confine to themselves plus the
    models of the rule's own ``fallback`` (a ``{task: X}`` entry there brings X's whole
    chain: its candidates and its fallbacks, recursively)."""
    if rule is None or not rule.confines:
        return None
    if rule.only is not None:
        return frozenset(rule.only)
    groups = _fallback_groups(spec, rule.fallback or (), task, task.constraints, frozenset())
    return frozenset(rule.candidates or ()) | {s.model for steps, _ in groups for s in steps}


def make_plan(
    spec: Spec,
    features: Features,
    *,
    unavailable: Callable[[ModelSpec], str | None] = lambda m: None,
    params_for: Callable[[TaskSpec, ModelSpec], Params] | None = None,
    latency: Callable[[ModelSpec], float | None] | None = None,
) -> Plan:
    """Decide the chain for a request. ``unavailable`` says why a model cannot be called at
    all right now (its key variable is unset...), or None. ``params_for`` is
    ``spec.params_for`` (the default) or a cache of it. ``latency`` gives a model's expected
    seconds (observed p50 once enough calls were seen); the spec's prior by default.

    A rule that confines (``candidates`` or ``only``) bounds everything after it: models
    outside :func:`_confinement` are listed as skipped, wherever the chain would have
    reached them (the task's fallbacks, ``{task: X}`` expansions, ``route_to``'s task)."""
    params_of = params_for or spec.params_for
    latency_of = latency or _prior_p50
    task = spec.task(features.task)
    if task is None:
        known = ", ".join(sorted(spec.tasks))
        if features.task in spec.models:
            users = [t.name for t in spec.tasks.values() if features.task in t.candidates]
            using = f"the tasks that use it: {', '.join(users)}" if users else f"tasks: {known}"
            raise RequestError(
                f"{features.task!r} is a model, not a task: a call names a task and the spec "
                f"picks the model; {using}"
            )
        raise RequestError(
            f"unknown task {features.task!r}; known tasks: {known} "
            "(add a task named 'default' to serve any name)"
        )
    rule, text_match = _first_rule(spec, features)
    priority = task.priority
    names = list(task.candidates)
    exclude: frozenset[str] = frozenset()
    fallback = task.fallback
    visiting = frozenset({task.name})
    confined: frozenset[str] | None = None
    if rule is not None:
        if rule.route_to is not None:
            task = spec.tasks[rule.route_to]
            priority, names = task.priority, list(task.candidates)
            fallback, visiting = task.fallback, frozenset({task.name})
        if rule.candidates is not None:
            names = list(rule.candidates)
        if rule.fallback is not None:
            # The rule's own list is not the task's chain: {task: NAME} may name the task.
            fallback, visiting = rule.fallback, frozenset()
        if rule.priority is not None:
            priority = rule.priority
        exclude = rule.exclude
        confined = _confinement(spec, rule, task)
    outside = ""
    if rule is not None and confined is not None:
        keys = "only list confines" if rule.only is not None else "candidates confine"
        outside = f"outside rule '{rule.name}' (its {keys} the request)"

    skipped: list[Candidate] = []
    seen: set[str] = set()

    def consider(name: str, role: str, owner: TaskSpec, limits: Constraints) -> Candidate | None:
        model = spec.models[name]
        params_max = params_of(owner, model).max_tokens
        cost = _estimate_cost(model, features, params_max)
        cand = Candidate(name, role, cost, latency_of(model), model.quality)
        if name in seen:
            return None
        seen.add(name)
        if name in exclude:
            reason: str | None = f"excluded by rule '{rule.name}'" if rule else "excluded"
        elif confined is not None and name not in confined:
            reason = outside
        else:
            reason = _why_not(model, limits, features, cost, params_max, unavailable)
        if reason is not None:
            skipped.append(Candidate(name, role, cost, cand.latency, cand.quality, skipped=reason))
            return None
        return cand

    limits = task.constraints
    first = [c for n in names if (c := consider(n, "candidate", task, limits)) is not None]
    chain = _order(first, priority)
    for steps, order in _fallback_groups(spec, fallback, task, limits, visiting):
        found = [
            c for s in steps if (c := consider(s.model, s.role, s.owner, s.limits)) is not None
        ]
        chain.extend(_order(found, order) if order is not None else found)
    truncated = 0
    if task.max_attempts is not None and len(chain) > task.max_attempts:
        truncated = len(chain) - task.max_attempts
        del chain[task.max_attempts :]
    return Plan(
        requested_task=features.task,
        task=task,
        rule=rule,
        priority=priority,
        features=features,
        chain=tuple(chain),
        skipped=tuple(skipped),
        truncated=truncated,
        confined=confined,
        text_match=text_match,
    )
