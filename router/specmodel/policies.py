"""The spec's constants and the policies a task, a model or the defaults carry: timeouts,
limits, parameters, retry, cache, breaker, budget, hedge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal

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
    """Generation parameters; ``None`` means "not set here". ``extra``: the provider
    parameters set here (declared names → values, see :mod:`router.specmodel.extras`), merged
    name by name across the layers."""

    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def over(self, base: Params) -> Params:
        """These parameters, with unset ones taken from ``base`` (``extra`` name by name)."""
        values = {
            f.name: getattr(self, f.name)
            if getattr(self, f.name) is not None
            else getattr(base, f.name)
            for f in fields(Params)
        }
        if base.extra and self.extra:
            values["extra"] = MappingProxyType({**base.extra, **self.extra})
        else:
            values["extra"] = self.extra or base.extra
        return Params(**values)


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
