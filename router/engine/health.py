"""``Router.health()``: every deployment's breaker, holds, limits and live figures, the
retry budgets and the state backend, as ``router health`` prints them. Never raises for an
unreachable state backend (see :meth:`router.engine.router.Router.health`)."""

from __future__ import annotations

from typing import Any

from router.engine.compile import Runtime
from router.nodes.base import walk
from router.state import StateUnavailable

__all__ = ["health"]


def health(rt: Runtime) -> dict[str, Any]:
    """Each model's entry is its first deployment's (a model's only one, without
    ``deployments``), with ``balance`` and every deployment by name."""
    state = rt.state.health()  # first: an unreachable backend is found once, here
    state.setdefault("status", "ok" if state.get("ok", True) else "unreachable")
    every = list(rt.deployments())
    keys = [f"{kind}:{t.key}" for t in every for kind in ("after", "open")]
    held: list[float | None] | None
    refused: tuple[type[BaseException], ...] = (
        StateUnavailable,
        *rt.state.unavailable_errors,
    )
    try:
        held = rt.state.held_until_many(keys)
    except refused:
        held = None
    places: dict[str, dict[str, object]] = {}
    for i, target in enumerate(every):
        entry: dict[str, object] = {
            "provider": target.provider,
            "available": target.unavailable is None,
            "reason": target.unavailable,
            "breaker": None,
            "retry_after_until": held[2 * i] if held is not None else None,
            "open_until": held[2 * i + 1] if held is not None else None,
            "holds_known": held is not None,
            "limits": [],
        }
        for node in walk(target.node):  # each node with state adds what it knows
            entry.update(node.health())
        places[target.key] = entry
    models = {}
    for name, pool in rt.pools.items():
        # The model's entry: its first deployment's (a model's only one, without
        # ``deployments``), and every deployment by name with its weight.
        model = dict(places[pool.every[0].key])
        model["balance"] = pool.name
        model["deployments"] = {
            t.deployment: {**places[t.key], "weight": t.weight, "model_id": t.model.id}
            for t in pool.every
        }
        models[name] = model
    return {
        "state": state,
        "models": models,
        "retry_budgets": {name: s.snapshot() for name, s in rt.retry_shares.items()},
    }
