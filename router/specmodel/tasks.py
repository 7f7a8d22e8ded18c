"""Tasks (priorities, fallback chains) and rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router.specmodel.content import TextCondition
from router.specmodel.policies import (
    _EMPTY,
    DEFAULT_FALLBACK_ON,
    DEFAULT_SYSTEM_PROMPT,
    Budget,
    CachePolicy,
    Capability,
    HedgePolicy,
    OnAllOpen,
    OnBudget,
    OnLimit,
    Params,
    RetryPolicy,
    Timeouts,
)


@dataclass(frozen=True, slots=True)
class Priority:
    """Weights over cost, latency and quality; ``name`` is set when the spec named a single
    criterion (``priority: cost``)."""

    cost: float = 0.0
    latency: float = 0.0
    quality: float = 0.0
    name: str | None = None

    def __str__(self) -> str:
        if self.name:
            return self.name
        parts = [f"{k}={getattr(self, k):g}" for k in ("cost", "latency", "quality")]
        return "weighted(" + ", ".join(p for p in parts if not p.endswith("=0")) + ")"


@dataclass(frozen=True, slots=True)
class Constraints:
    max_cost_per_call: float | None = None
    require: frozenset[Capability] = frozenset()
    min_context_window: int | None = None


@dataclass(frozen=True, slots=True)
class FallbackEntry:
    """One step of a fallback chain: a model, or another task whose chain continues it."""

    model: str | None = None
    task: str | None = None

    def __str__(self) -> str:
        return self.model if self.model is not None else f"task:{self.task}"


@dataclass(frozen=True, slots=True)
class TaskSpec:
    name: str
    candidates: tuple[str, ...]
    priority: Priority = Priority(cost=1.0, name="cost")
    constraints: Constraints = Constraints()
    fallback: tuple[FallbackEntry, ...] = ()
    fallback_on: frozenset[str] = frozenset(DEFAULT_FALLBACK_ON)
    max_attempts: int | None = None
    retry: RetryPolicy = RetryPolicy()
    timeouts: Timeouts = Timeouts()
    cache: CachePolicy = CachePolicy()
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    #: The task's own parameters; :meth:`Spec.params_for` layers model and defaults under them.
    params: Params = Params()
    description: str | None = None
    on_limit: OnLimit = "skip"
    on_all_open: OnAllOpen = "fail"
    #: The timeout keys this task set itself (the rest come from ``defaults``).
    timeouts_set: frozenset[str] = frozenset()
    budget: Budget = Budget()
    on_budget: OnBudget = "refuse"
    hedge: HedgePolicy | None = None
    #: The guardrails the task's requests pass (``defaults.guardrails`` unless it sets its own).
    guardrails: tuple[str, ...] = ()

    #: The task's own hooks, by name (run after ``defaults.hooks``; see routing/hookplan.py).
    hooks: tuple[str, ...] = ()


def guardrails_for(task: TaskSpec, rule: RuleSpec | None = None) -> tuple[str, ...]:
    """The guardrails a request passes: those of the task serving it (after a rule's
    ``route_to``), then those of the rule that matched it that the task does not name."""
    if rule is None or not rule.guardrails:
        return task.guardrails
    return tuple(dict.fromkeys(task.guardrails + rule.guardrails))


@dataclass(frozen=True, slots=True)
class RuleWhen:
    tasks: frozenset[str] | None = None
    min_input_tokens: int | None = None
    max_input_tokens: int | None = None
    capabilities: frozenset[Capability] = frozenset()
    metadata: Mapping[str, tuple[Any, ...]] = field(default_factory=lambda: _EMPTY)
    tags: frozenset[str] = frozenset()
    #: The classifier's label is one of these (requests it classified, not abstained).
    labels: frozenset[str] | None = None
    #: The classifier's confidence in its label is at least this (0..1).
    min_confidence: float | None = None
    #: What the request's text must say (keywords, regular expressions), when given.
    text: TextCondition | None = None


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule's actions. ``candidates`` and ``only`` confine the request: with ``candidates``
    it may reach those models and the models of the rule's own ``fallback`` (nothing else);
    with ``only``, exactly the models listed there. ``fallback`` (when given, even empty)
    replaces the task's fallback list."""

    name: str
    index: int
    when: RuleWhen = RuleWhen()
    route_to: str | None = None
    candidates: tuple[str, ...] | None = None
    exclude: frozenset[str] = frozenset()
    priority: Priority | None = None
    description: str | None = None
    fallback: tuple[FallbackEntry, ...] | None = None
    only: tuple[str, ...] | None = None
    #: Guardrails a request it matches passes besides its task's (never fewer).
    guardrails: tuple[str, ...] = ()
    #: Hooks a request this rule matches passes (after the task's).
    hooks: tuple[str, ...] = ()

    @property
    def confines(self) -> bool:
        return self.candidates is not None or self.only is not None

    def actions(self) -> list[str]:
        """What the rule does, in words (``router explain`` and ``router graph``)."""
        out = []
        if self.route_to:
            out.append(f"route_to {self.route_to}")
        if self.candidates is not None:
            out.append(f"candidates {', '.join(self.candidates)}")
        if self.fallback is not None:
            out.append(f"fallback {', '.join(str(f) for f in self.fallback) or '(none)'}")
        if self.only is not None:
            out.append(f"only {', '.join(self.only)}")
        if self.exclude:
            out.append(f"exclude {', '.join(sorted(self.exclude))}")
        if self.priority is not None:
            out.append(f"priority {self.priority}")
        if self.guardrails:
            out.append(f"guardrails {', '.join(self.guardrails)}")
        if self.hooks:
            out.append(f"hooks {', '.join(self.hooks)}")
        return out
