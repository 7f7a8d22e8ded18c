"""The whole spec: defaults, shared state and the Spec object itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from router.diagnostics import Diagnostic
from router.specmodel.classifier import ClassifierSpec
from router.specmodel.guardrails import BUILTIN, GuardrailSpec
from router.specmodel.models import (
    DeploymentSpec,
    ModelSpec,
    ProviderSpec,
)
from router.specmodel.policies import (
    _EMPTY,
    DEFAULT_BALANCE,
    DEFAULT_FALLBACK_ON,
    DEFAULT_SYSTEM_PROMPT,
    Balance,
    BreakerPolicy,
    Budget,
    CachePolicy,
    Limits,
    OnAllOpen,
    OnBudget,
    OnLimit,
    Params,
    RetryPolicy,
    Timeouts,
)
from router.specmodel.tasks import (
    RuleSpec,
    TaskSpec,
)


@dataclass(frozen=True, slots=True)
class StateSpec:
    backend: Literal["memory", "redis"] = "memory"
    url_env: str | None = None
    key_prefix: str = "router:"
    on_unavailable: Literal["fail_open", "fail_closed"] = "fail_open"
    connect_timeout: float = 0.5


@dataclass(frozen=True, slots=True)
class Defaults:
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    params: Params = Params()
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    cache: CachePolicy = CachePolicy()
    limits: Limits = Limits()
    fallback_on: frozenset[str] = frozenset(DEFAULT_FALLBACK_ON)
    on_limit: OnLimit = "skip"
    on_all_open: OnAllOpen = "fail"
    breaker: BreakerPolicy = BreakerPolicy()
    on_budget: OnBudget = "refuse"
    balance: Balance = DEFAULT_BALANCE
    guardrails: tuple[str, ...] = ()
    #: Hooks every request passes first (added to a task's and a rule's, never replaced).
    hooks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Spec:
    """A validated routing spec. Build it with :func:`router.spec.load_spec`."""

    version: int
    providers: Mapping[str, ProviderSpec]
    models: Mapping[str, ModelSpec]
    tasks: Mapping[str, TaskSpec]
    rules: tuple[RuleSpec, ...] = ()
    defaults: Defaults = Defaults()
    state: StateSpec = StateSpec()
    source: str | None = None
    warnings: tuple[Diagnostic, ...] = field(default=(), compare=False)
    description: str | None = None
    budgets: Budget = Budget()
    #: The ``telemetry`` section as written (read by :meth:`Telemetry.from_config`).
    telemetry: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    #: The ``classifier`` section (None: calls must name their task).
    classifier: ClassifierSpec | None = None
    #: Every guardrail a task or rule may name: the ``guardrails`` section's entries and the
    #: built-in ones (``pii``, ``secrets``) it does not redefine.
    guardrails: Mapping[str, GuardrailSpec] = field(default_factory=lambda: BUILTIN)

    def task(self, name: str) -> TaskSpec | None:
        """The task serving ``name``: the task itself, else ``default``, else None."""
        return self.tasks.get(name) or self.tasks.get("default")

    def attempt_timeout(self, task: TaskSpec, model: ModelSpec) -> float:
        """Seconds one attempt may take: the task's own ``timeouts.request``, else the
        provider's, else the default."""
        if "request" in task.timeouts_set:
            return task.timeouts.request
        return self.providers[model.provider].timeouts.request

    def deployment_provider(self, deployment: DeploymentSpec) -> ProviderSpec:
        """The provider entry as ``deployment`` reaches it: its own key variable, base URL and
        timeouts over the provider's."""
        provider = self.providers[deployment.provider]
        if (
            deployment.api_key_env is None
            and deployment.base_url is None
            and deployment.timeouts is None
        ):
            return provider
        return replace(
            provider,
            api_key_env=deployment.api_key_env or provider.api_key_env,
            base_url=deployment.base_url or provider.base_url,
            timeouts=deployment.timeouts or provider.timeouts,
        )

    def params_for(self, task: TaskSpec, model: ModelSpec) -> Params:
        """The parameters a call sends before per-call overrides: the task's own, then the
        model's (e.g. a reasoning model's fixed temperature), then the spec's defaults."""
        return task.params.over(model.params.over(self.defaults.params))
