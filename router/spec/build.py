"""Building the typed :class:`~router.specmodel.Spec` from data that passed the schema and
the semantic checks: defaults resolved into every task, lists turned into tuples and
mappings into read-only views.

One builder per top-level key of the spec, named after it and registered in
:data:`BUILDERS` (the shape of jsonschema's ``_keywords.py``); :func:`build_spec` is a loop
over that table. A builder takes the key's value (None when absent) and the spec's
defaults, and returns that field of :class:`~router.specmodel.Spec`. A new top-level key
is one function and one line of the table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from types import MappingProxyType
from typing import Any

from router.diagnostics import Diagnostic
from router.providers import presets
from router.routing.extras import resolve
from router.spec.build_classifier import classifier
from router.spec.build_guardrails import build_guardrails
from router.spec.build_when import rule_when
from router.specmodel import (
    Budget,
    CachePolicy,
    Constraints,
    Defaults,
    DeploymentSpec,
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
    Spec,
    StateSpec,
    TaskSpec,
    Timeouts,
    declarations,
    frozen_map,
)

__all__ = ["build_spec"]


def _timeouts(data: Mapping[str, Any] | None, base: Timeouts) -> Timeouts:
    return replace(base, **data) if data else base


_NO_LIMITS = Limits()


def _limits(data: Mapping[str, Any] | None, base: Limits = _NO_LIMITS) -> Limits:
    return replace(base, **data) if data else base


_CORE_PARAMS = frozenset(f.name for f in fields(Params)) - {"extra"}


def _params(data: Mapping[str, Any] | None) -> Params:
    if not data:
        return Params()
    values = {k: v for k, v in data.items() if k in _CORE_PARAMS}
    if "stop" in values:
        stop = values["stop"]
        values["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
    # Any other name is a provider parameter (declared under extra_params: checked).
    extra = {k: v for k, v in data.items() if k not in _CORE_PARAMS}
    return Params(**values, extra=frozen_map(extra))


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


# -- one builder per top-level key ------------------------------------------------------------


def version(value: Any, defaults: Defaults) -> int:
    return int(value)


def description(value: Any, defaults: Defaults) -> str | None:
    return str(value) if value is not None else None


def defaults(value: Any, base: Defaults) -> Defaults:
    """The file's defaults over the built-in ones (``base``)."""
    d = value or {}
    return Defaults(
        system_prompt=d.get("system_prompt", base.system_prompt),
        params=_params(d.get("params")),
        timeouts=_timeouts(d.get("timeouts"), base.timeouts),
        retry=_retry(d.get("retry"), base.retry),
        cache=_cache(d.get("cache"), base.cache),
        limits=_limits(d.get("limits"), base.limits),
        fallback_on=frozenset(d.get("fallback_on", base.fallback_on)),
        on_limit=d.get("on_limit", base.on_limit),
        on_all_open=d.get("on_all_open", base.on_all_open),
        breaker=replace(base.breaker, **(d.get("breaker") or {})),
        on_budget=d.get("on_budget", base.on_budget),
        balance=d.get("balance", base.balance),
        guardrails=tuple(d.get("guardrails", base.guardrails)),
        hooks=tuple(d.get("hooks", ())),
    )


def providers(value: Any, defaults: Defaults) -> Mapping[str, ProviderSpec]:
    return MappingProxyType(
        {
            name: ProviderSpec(
                name=name,
                type=p["type"],
                preset=p.get("preset"),
                api_version=p.get("api_version"),
                region=p.get("region"),
                project=p.get("project"),
                token_env=p.get("token_env"),
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
                extra_params=frozen_map(
                    resolve(declarations(p.get("extra_params")), p["type"], {})
                ),
            )
            for name, p in ((n, presets.apply(q)) for n, q in value.items())
        }
    )


def _pricing(data: Mapping[str, Any] | None) -> Pricing | None:
    if not data:
        return None
    # Cache prices left out stay None: the provider's multiples of input, filled in when the
    # spec is compiled (they depend on who serves each deployment).
    return Pricing(
        input=data["input"],
        output=data.get("output", 0.0),
        cached_input=data.get("cached_input"),
        cache_write=data.get("cache_write"),
    )


def deployment_entries(model: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A model's deployments as written, the short forms spelled out: ``api_key_envs`` (one
    deployment per key variable, named after it), ``base_urls`` (one per URL, provider-N).
    Empty for a model without any. The semantic checks read the same entries."""
    if isinstance(model.get("deployments"), list):
        return [d if isinstance(d, dict) else {} for d in model["deployments"]]
    if isinstance(model.get("api_key_envs"), list):
        return [{"api_key_env": v, "name": v} for v in model["api_key_envs"]]
    if isinstance(model.get("base_urls"), list):
        return [{"base_url": v} for v in model["base_urls"]]
    return []


def deployment_names(model: Mapping[str, Any]) -> list[str]:
    """Each deployment's name: its own, else its provider's when that provider serves only one
    of the model's unnamed deployments, else provider-N (N counting those, from 1)."""
    entries = deployment_entries(model)
    providers = [str(d.get("provider", model.get("provider")) or "") for d in entries]
    unnamed = [p for d, p in zip(entries, providers, strict=True) if "name" not in d]
    names, seen = [], dict.fromkeys(providers, 0)
    for i, (entry, provider) in enumerate(zip(entries, providers, strict=True)):
        if isinstance(entry.get("name"), str):
            names.append(entry["name"])
            continue
        seen[provider] += 1
        if not provider:
            names.append(f"#{i + 1}")
        elif unnamed.count(provider) == 1:
            names.append(provider)
        else:
            names.append(f"{provider}-{seen[provider]}")
    return names


def _deployments(name: str, m: Mapping[str, Any], defaults: Defaults) -> tuple[DeploymentSpec, ...]:
    entries = deployment_entries(m)
    return tuple(
        DeploymentSpec(
            name=dname,
            provider=str(d.get("provider", m.get("provider"))),
            id=str(d.get("id", m.get("id"))),
            key=f"{name}/{dname}",
            weight=float(d.get("weight", 1.0)),
            api_key_env=d.get("api_key_env"),
            base_url=d.get("base_url"),
            limits=_limits(d.get("limits")),
            timeouts=_timeouts(d["timeouts"], defaults.timeouts) if d.get("timeouts") else None,
            pricing=_pricing(d.get("pricing")),
        )
        for d, dname in zip(entries, deployment_names(m), strict=True)
    )


def models(value: Any, defaults: Defaults) -> Mapping[str, ModelSpec]:
    built = {}
    for name, m in value.items():
        pool = _deployments(name, m, defaults)
        built[name] = ModelSpec(
            name=name,
            provider=m.get("provider") or pool[0].provider,
            id=m.get("id") or pool[0].id,
            pricing=_pricing(m.get("pricing")),
            context_window=m.get("context_window"),
            max_output_tokens=m.get("max_output_tokens"),
            capabilities=frozenset(m.get("capabilities", ("streaming",))),
            latency=LatencyPrior(**(m.get("latency") or {})),
            quality=m.get("quality"),
            limits=_limits(m.get("limits")),
            params=_params(m.get("params")),
            description=m.get("description"),
            breaker=replace(defaults.breaker, **(m.get("breaker") or {})),
            deployments=pool,
            balance=m.get("balance", defaults.balance),
            kind=m.get("kind", "chat"),
            dimensions=m.get("dimensions"),
            # Resolved per deployment, against its provider (router.routing.extras.accepts).
            extra_params=frozen_map(declarations(m.get("extra_params"))),
        )
    return MappingProxyType(built)


def _task(name: str, t: Mapping[str, Any], defaults: Defaults) -> TaskSpec:
    c = t.get("constraints") or {}
    return TaskSpec(
        name=name,
        candidates=tuple(t["candidates"]),
        priority=_priority(t["priority"]) if "priority" in t else Priority(cost=1.0, name="cost"),
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
        guardrails=tuple(t["guardrails"]) if "guardrails" in t else defaults.guardrails,
        hooks=tuple(t.get("hooks", ())),
    )


def tasks(value: Any, defaults: Defaults) -> Mapping[str, TaskSpec]:
    return MappingProxyType({name: _task(name, t, defaults) for name, t in value.items()})


def rules(value: Any, defaults: Defaults) -> tuple[RuleSpec, ...]:
    return tuple(
        RuleSpec(
            name=r["name"],
            index=i,
            when=rule_when(r.get("when") or {}),
            route_to=r.get("route_to"),
            candidates=tuple(r["candidates"]) if "candidates" in r else None,
            exclude=frozenset(r.get("exclude", ())),
            priority=_priority(r["priority"]) if "priority" in r else None,
            description=r.get("description"),
            fallback=_fallback(r["fallback"]) if "fallback" in r else None,
            only=tuple(r["only"]) if "only" in r else None,
            guardrails=tuple(r.get("guardrails", ())),
            hooks=tuple(r.get("hooks", ())),
        )
        for i, r in enumerate(value or ())
    )


def budgets(value: Any, defaults: Defaults) -> Budget:
    return Budget(**(value or {}))


def telemetry(value: Any, defaults: Defaults) -> Mapping[str, Any]:
    return frozen_map(value)


def state(value: Any, defaults: Defaults) -> StateSpec:
    return StateSpec(**value) if value else StateSpec()


#: Builds one field of :class:`Spec` from the value of its top-level key and the defaults.
Builder = Callable[[Any, Defaults], object]

#: Every top-level key of the schema (``x-`` extensions aside) and its builder. ``defaults``
#: comes first: the others resolve their entries over what it builds.
BUILDERS: Mapping[str, Builder] = MappingProxyType(
    {
        "defaults": defaults,
        "version": version,
        "description": description,
        "providers": providers,
        "models": models,
        "tasks": tasks,
        "rules": rules,
        "budgets": budgets,
        "telemetry": telemetry,
        "state": state,
        "classifier": classifier,
        "guardrails": build_guardrails,
    }
)


def build_spec(
    data: Mapping[str, Any], *, source: str | None, warnings: tuple[Diagnostic, ...]
) -> Spec:
    """Build a :class:`Spec` from data that has passed schema and semantic validation."""
    resolved = Defaults()  # the built-in defaults, until the file's own are built
    fields: dict[str, Any] = {}
    for key, build in BUILDERS.items():
        fields[key] = build(data.get(key), resolved)
        if key == "defaults":
            resolved = fields[key]
    return Spec(**fields, source=source, warnings=warnings)
