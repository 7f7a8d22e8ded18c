"""The typed, immutable spec: what a valid routes.yaml compiles into.

Every object is a frozen, slotted dataclass; mappings are read-only views and lists are
tuples, so a compiled router can share the spec between threads without copying. Task
settings are already resolved against ``defaults`` (a task's ``retry`` is the whole policy,
not just the keys the task overrode). Only environment variable *names* are kept, never
their values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, Literal

from router.diagnostics import Diagnostic

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."
DEFAULT_FALLBACK_ON = (
    "rate_limit",
    "timeout",
    "unavailable",
    "content_filter",
    "context_window",
    "model_error",
)
SUPPORTED_VERSIONS = (1,)

ProviderType = Literal[
    "openai",
    "anthropic",
    "openai_compatible",
    "azure_openai",
    "anthropic_bedrock",
    "anthropic_vertex",
]
Capability = Literal["streaming", "tools", "vision", "json"]
#: How a model's load is spread over its deployments (router.routing.balance).
Balance = Literal["weighted", "least_busy", "latency", "headroom"]
DEFAULT_BALANCE: Balance = "weighted"

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen_map(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(data)) if data else _EMPTY


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 5.0
    request: float = 60.0
    total: float = 120.0


@dataclass(frozen=True, slots=True)
class Limits:
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None

    def __bool__(self) -> bool:
        return self.requests_per_minute is not None or self.tokens_per_minute is not None


@dataclass(frozen=True, slots=True)
class Params:
    """Generation parameters; ``None`` means "not set here"."""

    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None

    def over(self, base: Params) -> Params:
        """These parameters, with unset ones taken from ``base``."""
        return Params(
            **{
                f.name: getattr(self, f.name)
                if getattr(self, f.name) is not None
                else getattr(base, f.name)
                for f in fields(Params)
            }
        )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 2
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0
    budget: float = 0.2
    prefer: Literal["fallback", "same_model"] = "fallback"


@dataclass(frozen=True, slots=True)
class CachePolicy:
    enabled: bool = False
    ttl: float = 3600.0
    max_entries: int = 1024
    namespace: str | None = None
    nonzero_temperature: bool = False


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failures: int = 5
    failure_rate: float = 0.5
    min_calls: int = 20
    window: float = 60.0
    cooldown: float = 30.0
    max_cooldown: float = 300.0


OnLimit = Literal["skip", "wait"]
OnAllOpen = Literal["fail", "wait"]
OnBudget = Literal["refuse", "cheapest"]


@dataclass(frozen=True, slots=True)
class Budget:
    """Spend caps in US dollars per UTC day and calendar month; None: no cap."""

    daily: float | None = None
    monthly: float | None = None

    def __bool__(self) -> bool:
        return self.daily is not None or self.monthly is not None


@dataclass(frozen=True, slots=True)
class HedgePolicy:
    """Hedge after ``after`` seconds, or after the first model's observed p95 when None."""

    after: float | None = None
    max_share: float = 0.1


@dataclass(frozen=True, slots=True)
class EnvRef:
    """A value to be read from the environment variable ``name`` when the router starts."""

    name: str


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    name: str
    type: ProviderType
    base_url: str | None = None
    api_key_env: str | None = None
    local: bool = False
    headers: Mapping[str, str | EnvRef] = field(default_factory=lambda: _EMPTY, repr=False)
    timeouts: Timeouts = Timeouts()
    limits: Limits = Limits()
    description: str | None = None
    #: The timeout keys this provider set itself (the rest come from ``defaults``).
    timeouts_set: frozenset[str] = frozenset()
    #: The named host an ``openai_compatible`` provider started from (already applied).
    preset: str | None = None
    #: Azure OpenAI's ``api-version``.
    api_version: str | None = None
    #: The cloud region (Bedrock, Vertex); None: from the environment.
    region: str | None = None
    #: The Google Cloud project (Vertex); None: from the environment or the credentials.
    project: str | None = None
    #: The variable holding a bearer token (Azure: Entra ID; Vertex: an access token).
    token_env: str | None = None


@dataclass(frozen=True, slots=True)
class Pricing:
    """US dollars per million tokens: ``input`` for uncached prompt tokens, ``output`` for
    generated ones (reasoning included), ``cached_input`` for prompt tokens read from the
    provider's prompt cache, ``cache_write`` for those written to it. ``None`` (not set in the
    spec) is the provider's documented multiple of ``input``, filled in when the spec is
    compiled (:meth:`resolved`, with the multiples of the provider's adapter class); until
    then such a price counts as ``input``."""

    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None

    def resolved(self, read_multiple: float, write_multiple: float) -> Pricing:
        """These prices with the unset cache prices filled in as multiples of ``input``."""
        if self.cached_input is not None and self.cache_write is not None:
            return self
        return Pricing(
            self.input,
            self.output,
            self.input * read_multiple if self.cached_input is None else self.cached_input,
            self.input * write_multiple if self.cache_write is None else self.cache_write,
        )

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float:
        """USD for a call; ``input_tokens`` counts every prompt token (cache reads and
        writes included, as :class:`~router.types.Usage` does)."""
        uncached = max(input_tokens - cached_input_tokens - cache_write_tokens, 0)
        read = self.input if self.cached_input is None else self.cached_input
        write = self.input if self.cache_write is None else self.cache_write
        return (
            uncached * self.input
            + cached_input_tokens * read
            + cache_write_tokens * write
            + output_tokens * self.output
        ) / 1_000_000

    def cache_savings(self, cached_input_tokens: int, cache_write_tokens: int = 0) -> float:
        """USD the prompt cache saved on a call: what its cached tokens (read and written)
        would have cost at the input price, minus what they cost (negative when writes
        outweigh reads)."""
        read = self.input if self.cached_input is None else self.cached_input
        write = self.input if self.cache_write is None else self.cache_write
        return (
            cached_input_tokens * (self.input - read) - cache_write_tokens * (write - self.input)
        ) / 1_000_000


@dataclass(frozen=True, slots=True)
class LatencyPrior:
    p50: float | None = None
    p95: float | None = None


@dataclass(frozen=True, slots=True)
class DeploymentSpec:
    """One place a model is served: a provider entry, the id sent there, and what this place
    changes of the provider (its own key variable, base URL, timeouts), its weight, its own
    limits and prices. ``None`` means "the provider's" (key, URL, timeouts) or "the model's"
    (pricing). ``key`` names its state (limits, holds, breaker): the model's name for a model
    without ``deployments:``, else ``model/name``."""

    name: str
    provider: str
    id: str
    key: str
    weight: float = 1.0
    api_key_env: str | None = None
    base_url: str | None = None
    limits: Limits = Limits()
    timeouts: Timeouts | None = None
    pricing: Pricing | None = None
    #: True for a model's one deployment when it lists none (today's meaning of a model).
    implicit: bool = False


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    provider: str
    id: str
    pricing: Pricing | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    capabilities: frozenset[Capability] = frozenset({"streaming"})
    latency: LatencyPrior = LatencyPrior()
    quality: float | None = None
    limits: Limits = Limits()
    params: Params = Params()
    description: str | None = None
    breaker: BreakerPolicy = BreakerPolicy()
    #: Where the model is served; empty: one implicit deployment at ``provider`` (see pool()).
    deployments: tuple[DeploymentSpec, ...] = ()
    balance: Balance = DEFAULT_BALANCE
    #: ``chat`` (complete/stream) or ``embedding`` (embed); ``dimensions``: an embedding
    #: model's vector length, when the spec declares it.
    kind: Literal["chat", "embedding"] = "chat"
    dimensions: int | None = None

    def pool(self) -> tuple[DeploymentSpec, ...]:
        """The model's deployments: those listed, else the one it always had."""
        if self.deployments:
            return self.deployments
        return (DeploymentSpec(self.provider, self.provider, self.id, self.name, implicit=True),)


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


@dataclass(frozen=True, slots=True)
class RuleWhen:
    tasks: frozenset[str] | None = None
    min_input_tokens: int | None = None
    max_input_tokens: int | None = None
    capabilities: frozenset[Capability] = frozenset()
    metadata: Mapping[str, tuple[Any, ...]] = field(default_factory=lambda: _EMPTY)
    tags: frozenset[str] = frozenset()


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
        return out


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
