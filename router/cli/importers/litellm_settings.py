"""LiteLLM's shared settings (``router_settings`` and ``litellm_settings``) converted: routing
strategy, retries, timeouts and cooldowns become ``defaults``; fallback lists become each
task's ``fallback``; Redis and the response cache become ``state`` and ``defaults.cache``;
callbacks and budgets become ``telemetry`` and ``budgets``. Whatever has no equivalent is a
note naming the setting (never its value).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router.cli.importers.litellm_models import Notes
from router.cli.importers.litellm_models import number as _number

__all__ = ["SHARED", "Conversion", "convert_settings"]

_FALLBACK_KINDS = ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks")
# The error kinds a LiteLLM fallback list of each kind moves on for, when it is the only kind.
_FALLBACK_ON = {
    "context_window_fallbacks": "context_window",
    "content_policy_fallbacks": "content_filter",
}
# LiteLLM's routing strategies → how a model spreads over its deployments (`balance`).
_STRATEGIES = {
    "simple-shuffle": "weighted",
    "least-busy": "least_busy",
    "latency-based-routing": "latency",
    "usage-based-routing": "headroom",
    "usage-based-routing-v2": "headroom",
}
_CALLBACKS = {"prometheus": ("metrics", True), "otel": ("tracing", "auto")}
SHARED = ("router_settings", "litellm_settings")


@dataclass
class Conversion:
    """The converted spec, and what the conversion had to change or leave out."""

    spec: dict[str, Any]
    notes: Notes = field(default_factory=Notes)
    groups: dict[str, list[str]] = field(default_factory=dict)  # task → its models


def convert_settings(c: Conversion, data: Mapping[str, Any]) -> None:
    """The shared settings of the LiteLLM config ``data`` into ``c``'s spec and notes."""
    settings: dict[str, Mapping[str, Any]] = {
        k: v if isinstance(v := data.get(k), Mapping) else {} for k in SHARED
    }
    for key in SHARED:
        if key in data and not isinstance(data.get(key), Mapping):
            c.notes.skip(key, "is not a mapping")
    _routing(c, settings)
    _fallbacks(c, settings)
    _state_and_cache(c, settings)
    _telemetry_and_budgets(c, settings["litellm_settings"])


def _setting(settings: dict[str, Mapping[str, Any]], key: str) -> tuple[str, Any] | None:
    """(where, value) of a setting LiteLLM accepts in router_settings or litellm_settings."""
    for section in SHARED:
        if key in settings[section]:
            return f"{section}.{key}", settings[section][key]
    return None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _defaults(c: Conversion) -> dict[str, Any]:
    return c.spec.setdefault("defaults", {})  # type: ignore[no-any-return]


def _routing(c: Conversion, settings: dict[str, Mapping[str, Any]]) -> None:
    found = _setting(settings, "routing_strategy")
    if found:
        where, strategy = found
        balance = _STRATEGIES.get(str(strategy))
        if balance == "weighted":
            c.notes.change(where, "is `balance: weighted`, the default (in proportion to weight)")
        elif balance:
            _defaults(c)["balance"] = balance
            c.notes.change(where, f"'{strategy}' is `defaults: {{balance: {balance}}}`")
        elif strategy == "cost-based-routing":
            c.notes.change(where, "is the default here (`priority: cost`, unpriced models last)")
        else:
            c.notes.skip(where, f"'{strategy}' has no equivalent; deployments are spread by weight")
    found = _setting(settings, "num_retries")
    if found and not _count(found[1]):
        c.notes.skip(found[0], "is not a whole number of 0 or more")
    elif found and (n := _number(found[1])) is not None:
        attempts = max(1, min(int(n) + 1, 10))
        _defaults(c).setdefault("retry", {})["attempts"] = attempts
        c.notes.change(
            found[0],
            f"{int(n)} retries are `retry: {{attempts: {attempts}}}` (per model, the first "
            "attempt included; then the chain moves on to the next model)",
        )
    found = _setting(settings, "retry_after")
    if found and (n := _number(found[1])) is not None and n > 0:
        _defaults(c).setdefault("retry", {})["initial_backoff"] = n
        c.notes.change(found[0], f"is `retry: {{initial_backoff: {n:g}}}` (then doubling)")
    elif found and found[1] != 0:
        c.notes.skip(found[0], "is not a number of seconds")
    for key in ("timeout", "request_timeout"):
        found = _setting(settings, key)
        if found and (n := _number(found[1])) is not None and n > 0:
            timeouts = _defaults(c).setdefault("timeouts", {})
            if "request" not in timeouts:
                timeouts["request"] = n
                if n > 120:
                    timeouts["total"] = n
                c.notes.change(found[0], f"is `timeouts.request` ({n:g}s, one attempt)")
                continue
        if found:
            c.notes.skip(found[0], "already set by the other timeout, or not a number")
    found = _setting(settings, "allowed_fails")
    if found and not _count(found[1]):
        c.notes.skip(found[0], "is not a whole number of 0 or more")
    elif found and (n := _number(found[1])) is not None:
        _defaults(c).setdefault("breaker", {})["failures"] = int(n) + 1
        c.notes.change(
            found[0],
            f"is `breaker: {{failures: {int(n) + 1}}}`: the circuit opens after that many "
            "failures in a row (LiteLLM counts failures per minute)",
        )
    found = _setting(settings, "cooldown_time")
    if found and (n := _number(found[1])) is not None and n > 0:
        _defaults(c).setdefault("breaker", {})["cooldown"] = n
        c.notes.change(
            found[0], f"is `breaker: {{cooldown: {n:g}}}` (each reopening doubles it, to 300s)"
        )
    elif found:
        c.notes.skip(found[0], "is not a positive number of seconds")
    handled = {
        "routing_strategy",
        "num_retries",
        "retry_after",
        "timeout",
        "request_timeout",
        "allowed_fails",
        "cooldown_time",
        *_FALLBACK_KINDS,
        "default_fallbacks",
        "redis_host",
        "redis_port",
        "redis_password",
        "redis_url",
        "cache_responses",
        "cache",
        "cache_params",
        "success_callback",
        "failure_callback",
        "callbacks",
        "max_budget",
        "budget_duration",
    }
    why = {
        "enable_pre_call_checks": "always on here: every model's context window and "
        "capabilities are checked before anything is sent",
        "model_group_alias": "has no equivalent; call the task by its name",
        "routing_strategy_args": "has no equivalent",
        "stream_timeout": "has no equivalent: `timeouts.request` also bounds a stream's silences",
        "max_fallbacks": "has no equivalent; `max_attempts` on a task bounds its whole chain",
        "drop_params": "has no equivalent: parameters a model cannot take are refused "
        "before sending",
    }
    for section in SHARED:
        for key in settings[section]:
            if key not in handled:
                c.notes.skip(f"{section}.{key}", why.get(str(key), "has no equivalent here"))
    for key in handled:
        if key in settings["router_settings"] and key in settings["litellm_settings"]:
            c.notes.skip(
                f"litellm_settings.{key}", f"router_settings.{key} is used instead (set in both)"
            )


def _fallback_lists(c: Conversion, where: str, value: Any) -> dict[str, list[str]]:
    """LiteLLM's ``[{group: [groups...]}, ...]`` as {group: [groups...]}, each name checked."""
    out: dict[str, list[str]] = {}
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            c.notes.skip(f"{where}[{i}]", "is not a {model_group: [fallbacks]} mapping")
            continue
        for source, targets in item.items():
            names = targets if isinstance(targets, list) else [targets]
            out.setdefault(str(source), []).extend(str(t) for t in names)
    return out


def _fallbacks(c: Conversion, settings: dict[str, Mapping[str, Any]]) -> None:
    per_task: dict[str, dict[str, list[str]]] = {}
    for kind in _FALLBACK_KINDS:
        found = _setting(settings, kind)
        if not found:
            continue
        for source, targets in _fallback_lists(c, found[0], found[1]).items():
            sources = list(c.groups) if source == "*" else [source]
            if source != "*" and source not in c.groups:
                c.notes.skip(f"{found[0]} ({source})", f"'{source}' is not a converted model group")
                continue
            for s in sources:
                per_task.setdefault(s, {}).setdefault(kind, []).extend(targets)
    found = _setting(settings, "default_fallbacks")
    if found:
        targets = [str(t) for t in found[1]] if isinstance(found[1], list) else [str(found[1])]
        for group in c.groups:
            if not per_task.get(group):
                per_task.setdefault(group, {})["fallbacks"] = list(targets)
        c.notes.change(found[0], "are the fallback of every task that has none of its own")
    for group, kinds in per_task.items():
        task = c.spec["tasks"][group]
        chain: list[str] = []
        for kind in _FALLBACK_KINDS:
            for target in kinds.get(kind, []):
                if target not in c.groups:
                    c.notes.skip(f"{kind} of {group}", f"'{target}' is not a converted model group")
                    continue
                for model in c.groups[target]:
                    if model not in chain and model not in task["candidates"]:
                        chain.append(model)
        if chain:
            task["fallback"] = chain
        if "fallbacks" not in kinds:
            task["fallback_on"] = [_FALLBACK_ON[k] for k in _FALLBACK_KINDS if k in kinds]
        elif len(kinds) > 1:
            c.notes.change(
                f"fallbacks of {group}",
                "its fallbacks of every kind are one chain here (after a context-window "
                "failure only models with a larger window are tried)",
            )


def _state_and_cache(c: Conversion, settings: dict[str, Mapping[str, Any]]) -> None:
    redis_keys = ("redis_url", "redis_host", "redis_port", "redis_password")
    redis_where = [w for k in redis_keys if (w := _where(settings, k))]
    cache_on = _setting(settings, "cache") or _setting(settings, "cache_responses")
    params_found = _setting(settings, "cache_params")
    params: Mapping[str, Any] = (
        params_found[1] if params_found and isinstance(params_found[1], Mapping) else {}
    )
    if cache_on and cache_on[1] is True:
        cache: dict[str, Any] = {"enabled": True, "nonzero_temperature": True}
        if (ttl := _number(params.get("ttl"))) is not None and ttl > 0:
            cache["ttl"] = ttl
        if isinstance(params.get("namespace"), str) and params["namespace"]:
            cache["namespace"] = params["namespace"]
        _defaults(c)["cache"] = cache
        kind = params.get("type", "local")
        if kind == "redis":
            at = params_found[0] if params_found else "cache_params"
            redis_where += [
                f"{at}.{k}" for k in ("type", "host", "port", "password") if k in params
            ]
        elif kind != "local":
            c.notes.skip(
                f"{params_found[0] if params_found else 'cache_params'}.type",
                f"a '{kind}' cache has no equivalent: answers are cached in the state backend "
                "(memory, or Redis when the spec's state is on Redis)",
            )
        for key in params:
            if key not in ("type", "ttl", "namespace", "host", "port", "password"):
                c.notes.skip(
                    f"{params_found[0] if params_found else 'cache_params'}.{key}",
                    "has no equivalent here",
                )
    elif params_found:
        c.notes.skip(params_found[0], "the cache is not enabled (cache: true)")
    if redis_where:
        url = _setting(settings, "redis_url")
        env = "REDIS_URL"
        if url and isinstance(url[1], str) and url[1].startswith("os.environ/"):
            env = url[1].removeprefix("os.environ/")
        c.spec["state"] = {"backend": "redis", "url_env": env}
        c.notes.change(
            ", ".join(dict.fromkeys(redis_where)),
            f"state is on Redis (limits, breakers and the cache shared by every process): set "
            f"{env} to the Redis URL, redis://[:PASSWORD@]HOST:PORT (no host, port or password "
            "is copied from the file)",
        )


def _where(settings: dict[str, Mapping[str, Any]], key: str) -> str | None:
    found = _setting(settings, key)
    return found[0] if found else None


def _telemetry_and_budgets(c: Conversion, settings: Mapping[str, Any]) -> None:
    for key in ("success_callback", "failure_callback", "callbacks"):
        names = settings.get(key)
        for name in names if isinstance(names, list) else [names] if names else []:
            mapped = _CALLBACKS.get(str(name))
            if mapped:
                c.spec.setdefault("telemetry", {})[mapped[0]] = mapped[1]
                c.notes.change(
                    f"litellm_settings.{key}",
                    f"'{name}' is `telemetry.{mapped[0]}`"
                    + (" (needs router[metrics])" if name == "prometheus" else ""),
                )
            else:
                c.notes.skip(f"litellm_settings.{key}", f"the callback '{name}' has no equivalent")
    budget = _number(settings.get("max_budget"))
    period = {"1d": "daily", "24h": "daily", "30d": "monthly", "1mo": "monthly"}.get(
        str(settings.get("budget_duration"))
    )
    if budget is not None and budget > 0 and period:
        c.spec["budgets"] = {period: budget}
        c.notes.change("litellm_settings.max_budget", f"is `budgets: {{{period}: {budget:g}}}`")
    elif "max_budget" in settings or "budget_duration" in settings:
        c.notes.skip(
            "litellm_settings.max_budget",
            "only a daily (1d) or monthly (30d) budget has an equivalent (`budgets`)",
        )
