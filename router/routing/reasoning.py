"""Per-call reasoning settings and the models that can take them: ``thinking`` goes to
Anthropic-wire models, ``reasoning_effort`` to OpenAI-wire ones (each adapter class names the
one its wire takes, :attr:`~router.providers.base.Adapter.reasoning_param`). A call that may
reach a model taking none of the settings given is refused before anything is sent."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from router.errors import ProviderConfigError, RequestError
from router.providers.registry import profile_of
from router.routing.plan import Plan
from router.specmodel import ModelSpec, Spec

__all__ = ["check_reasoning", "reasoning_param"]


def reasoning_param(spec: Spec, model: ModelSpec) -> set[str | None]:
    """The reasoning parameter each of ``model``'s deployments takes (None: none)."""
    return {_wire_reasoning(spec.providers[d.provider].type) for d in model.pool()}


@functools.cache
def _wire_reasoning(provider_type: str) -> str | None:
    try:
        return profile_of(provider_type).reasoning_param
    except (ProviderConfigError, ValueError):
        return None


def check_reasoning(spec: Spec, plan: Plan, given: Mapping[str, Any]) -> None:
    """Every model the call may reach takes one of the reasoning settings given, else one
    RequestError naming the first that cannot (nothing is sent)."""
    for c in plan.chain:
        model = spec.models.get(c.model)
        if model is None or c.skipped is not None:
            continue
        missing = reasoning_param(spec, model) - given.keys()
        if missing:
            name = sorted(given)[0]
            takes = next(iter(missing))
            other = f"; it takes {takes}" if takes else "; it takes neither"
            raise RequestError(
                f"{name}: model {c.model!r} cannot take it (its provider speaks another wire"
                f"{other}). thinking is for Anthropic-wire models, reasoning_effort for "
                "OpenAI-wire ones: pass the one each model of the task takes (both for a "
                "mixed chain), or route the call to models that take it",
                argument=name,
            )
