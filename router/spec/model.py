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

from router.spec.diagnostics import Diagnostic

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

ProviderType = Literal["openai", "anthropic", "openai_compatible"]
Capability = Literal["streaming", "tools", "vision", "json"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen_map(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
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

    def as_dict(self) -> dict[str, Any]:
        return {f.name: v for f in fields(Params) if (v := getattr(self, f.name)) is not None}


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


@dataclass(frozen=True, slots=True)
class Pricing:
    """US dollars per million tokens."""

    input: float
    output: float
    cached_input: float

    def cost(self, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float:
        uncached = max(input_tokens - cached_input_tokens, 0)
        return (
            uncached * self.input
            + cached_input_tokens * self.cached_input
            + output_tokens * self.output
        ) / 1_000_000


@dataclass(frozen=True, slots=True)
class LatencyPrior:
    p50: float | None = None
    p95: float | None = None


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

    @property
    def is_catch_all(self) -> bool:
        return self == RuleWhen()


@dataclass(frozen=True, slots=True)
class RuleSpec:
    name: str
    index: int
    when: RuleWhen = RuleWhen()
    route_to: str | None = None
    candidates: tuple[str, ...] | None = None
    exclude: frozenset[str] = frozenset()
    priority: Priority | None = None
    description: str | None = None


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

    def params_for(self, task: TaskSpec, model: ModelSpec) -> Params:
        """The parameters a call sends before per-call overrides: the task's own, then the
        model's (e.g. a reasoning model's fixed temperature), then the spec's defaults."""
        return task.params.over(model.params.over(self.defaults.params))


# --- building from validated data -------------------------------------------------------------


def _timeouts(data: Mapping[str, Any] | None, base: Timeouts) -> Timeouts:
    return replace(base, **data) if data else base


def _limits(data: Mapping[str, Any] | None, base: Limits = Limits()) -> Limits:
    return replace(base, **data) if data else base


def _params(data: Mapping[str, Any] | None) -> Params:
    if not data:
        return Params()
    values = dict(data)
    if "stop" in values:
        stop = values["stop"]
        values["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
    return Params(**values)


def _retry(data: Mapping[str, Any] | None, base: RetryPolicy) -> RetryPolicy:
    return replace(base, **data) if data else base


def _cache(data: Mapping[str, Any] | None, base: CachePolicy) -> CachePolicy:
    return replace(base, **data) if data else base


def _hedge(data: Mapping[str, Any] | None) -> HedgePolicy | None:
    if not data:
        return None
    after = data["after"]
    return HedgePolicy(
        after=None if after == "p95" else float(after), max_share=data.get("max_share", 0.1)
    )


def _priority(data: Any) -> Priority:
    if isinstance(data, str):
        return Priority(**{data: 1.0}, name=data)
    return Priority(**data)


def build_spec(
    data: Mapping[str, Any], *, source: str | None, warnings: tuple[Diagnostic, ...]
) -> Spec:
    """Build a :class:`Spec` from data that has passed schema and semantic validation."""
    d = data.get("defaults") or {}
    defaults = Defaults(
        system_prompt=d.get("system_prompt", DEFAULT_SYSTEM_PROMPT),
        params=_params(d.get("params")),
        timeouts=_timeouts(d.get("timeouts"), Timeouts()),
        retry=_retry(d.get("retry"), RetryPolicy()),
        cache=_cache(d.get("cache"), CachePolicy()),
        limits=_limits(d.get("limits")),
        fallback_on=frozenset(d.get("fallback_on", DEFAULT_FALLBACK_ON)),
        on_limit=d.get("on_limit", "skip"),
        on_all_open=d.get("on_all_open", "fail"),
        breaker=replace(BreakerPolicy(), **(d.get("breaker") or {})),
        on_budget=d.get("on_budget", "refuse"),
    )
    providers = {
        name: ProviderSpec(
            name=name,
            type=p["type"],
            base_url=p.get("base_url"),
            api_key_env=p.get("api_key_env"),
            local=p.get("local", False),
            headers=_frozen_map(
                {
                    k: EnvRef(v["env"]) if isinstance(v, dict) else v
                    for k, v in (p.get("headers") or {}).items()
                }
            ),
            timeouts=_timeouts(p.get("timeouts"), defaults.timeouts),
            limits=_limits(p.get("limits"), defaults.limits),
            description=p.get("description"),
            timeouts_set=frozenset(p.get("timeouts") or ()),
        )
        for name, p in data["providers"].items()
    }
    models = {}
    for name, m in data["models"].items():
        pricing = m.get("pricing")
        models[name] = ModelSpec(
            name=name,
            provider=m["provider"],
            id=m["id"],
            pricing=Pricing(
                input=pricing["input"],
                output=pricing["output"],
                cached_input=pricing.get("cached_input", pricing["input"]),
            )
            if pricing
            else None,
            context_window=m.get("context_window"),
            max_output_tokens=m.get("max_output_tokens"),
            capabilities=frozenset(m.get("capabilities", ("streaming",))),
            latency=LatencyPrior(**(m.get("latency") or {})),
            quality=m.get("quality"),
            limits=_limits(m.get("limits")),
            params=_params(m.get("params")),
            description=m.get("description"),
            breaker=replace(defaults.breaker, **(m.get("breaker") or {})),
        )
    tasks = {}
    for name, t in data["tasks"].items():
        c = t.get("constraints") or {}
        tasks[name] = TaskSpec(
            name=name,
            candidates=tuple(t["candidates"]),
            priority=_priority(t["priority"])
            if "priority" in t
            else Priority(cost=1.0, name="cost"),
            constraints=Constraints(
                max_cost_per_call=c.get("max_cost_per_call"),
                require=frozenset(c.get("require", ())),
                min_context_window=c.get("min_context_window"),
            ),
            fallback=tuple(
                FallbackEntry(task=f["task"]) if isinstance(f, dict) else FallbackEntry(model=f)
                for f in t.get("fallback", ())
            ),
            fallback_on=frozenset(t["fallback_on"]) if "fallback_on" in t else defaults.fallback_on,
            max_attempts=t.get("max_attempts"),
            retry=_retry(t.get("retry"), defaults.retry),
            timeouts=_timeouts(t.get("timeouts"), defaults.timeouts),
            cache=_cache(t.get("cache"), defaults.cache),
            system_prompt=t.get("system_prompt", defaults.system_prompt),
            params=_params(t.get("params")),
            description=t.get("description"),
            on_limit=t.get("on_limit", defaults.on_limit),
            on_all_open=t.get("on_all_open", defaults.on_all_open),
            timeouts_set=frozenset(t.get("timeouts") or ()),
            budget=Budget(**(t.get("budget") or {})),
            on_budget=t.get("on_budget", defaults.on_budget),
            hedge=_hedge(t.get("hedge")),
        )
    rules = []
    for i, r in enumerate(data.get("rules") or ()):
        w = r.get("when") or {}
        task_names = w.get("task")
        rules.append(
            RuleSpec(
                name=r["name"],
                index=i,
                when=RuleWhen(
                    tasks=frozenset([task_names] if isinstance(task_names, str) else task_names)
                    if task_names is not None
                    else None,
                    min_input_tokens=w.get("min_input_tokens"),
                    max_input_tokens=w.get("max_input_tokens"),
                    capabilities=frozenset(w.get("capabilities", ())),
                    metadata=_frozen_map(
                        {
                            k: tuple(v) if isinstance(v, list) else (v,)
                            for k, v in (w.get("metadata") or {}).items()
                        }
                    ),
                    tags=frozenset(w.get("tags", ())),
                ),
                route_to=r.get("route_to"),
                candidates=tuple(r["candidates"]) if "candidates" in r else None,
                exclude=frozenset(r.get("exclude", ())),
                priority=_priority(r["priority"]) if "priority" in r else None,
                description=r.get("description"),
            )
        )
    s = data.get("state") or {}
    state = StateSpec(**s) if s else StateSpec()
    return Spec(
        version=data["version"],
        providers=MappingProxyType(providers),
        models=MappingProxyType(models),
        tasks=MappingProxyType(tasks),
        rules=tuple(rules),
        defaults=defaults,
        state=state,
        source=source,
        warnings=warnings,
        description=data.get("description"),
        budgets=Budget(**(data.get("budgets") or {})),
        telemetry=_frozen_map(data.get("telemetry")),
    )
