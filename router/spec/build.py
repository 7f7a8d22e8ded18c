"""Building the typed :class:`~router.specmodel.Spec` from data that passed the schema and
the semantic checks: defaults resolved into every task, lists turned into tuples and
mappings into read-only views."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from router.diagnostics import Diagnostic
from router.specmodel import (
    DEFAULT_FALLBACK_ON,
    DEFAULT_SYSTEM_PROMPT,
    BreakerPolicy,
    Budget,
    CachePolicy,
    Constraints,
    Defaults,
    EnvRef,
    FallbackEntry,
    HedgePolicy,
    LatencyPrior,
    Limits,
    ModelSpec,
    Params,
    Pricing,
    Priority,
    ProviderSpec,
    RetryPolicy,
    RuleSpec,
    RuleWhen,
    Spec,
    StateSpec,
    TaskSpec,
    Timeouts,
    frozen_map,
)

__all__ = ["build_spec"]


def _timeouts(data: Mapping[str, Any] | None, base: Timeouts) -> Timeouts:
    return replace(base, **data) if data else base


_NO_LIMITS = Limits()


def _limits(data: Mapping[str, Any] | None, base: Limits = _NO_LIMITS) -> Limits:
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


def _fallback(entries: Any) -> tuple[FallbackEntry, ...]:
    return tuple(
        FallbackEntry(task=f["task"]) if isinstance(f, dict) else FallbackEntry(model=f)
        for f in entries
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
            headers=frozen_map(
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
            fallback=_fallback(t.get("fallback", ())),
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
                    metadata=frozen_map(
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
                fallback=_fallback(r["fallback"]) if "fallback" in r else None,
                only=tuple(r["only"]) if "only" in r else None,
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
        telemetry=frozen_map(data.get("telemetry")),
    )
