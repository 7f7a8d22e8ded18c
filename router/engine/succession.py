"""A Router that takes over from another (``Router(spec, carry_from=old)``): what the new one
keeps of the old one's state, so that replacing a spec (the gateway's hot reload) does not
reset what the router has learnt about models that did not change.

- The state backend object itself, when the ``state`` section is unchanged: rate limits,
  holds (open circuits, ``Retry-After``), spend caps and the cache live there, so with the
  in-memory backend they carry over only by sharing it (with Redis they would anyway; sharing
  also keeps its connections). The old Router then no longer closes it; the new one does.
- The circuit breakers (failure counts, an open circuit's cooldown) of every deployment whose
  model, provider and breaker policy are unchanged. A breaker is thread-safe, so requests
  still finishing on the old Router record into the same one.

Everything else is the new spec's: a changed model starts with a fresh breaker.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.engine.compile import Runtime
from router.nodes.breaker import CircuitBreaker
from router.specmodel import Spec
from router.state import StateBackend

__all__ = ["Carried", "carry_over"]


@dataclass(frozen=True, slots=True)
class Carried:
    state: StateBackend | None  # None: the state section changed, the new Router makes its own
    breakers: dict[str, CircuitBreaker]  # deployment key -> the old Router's breaker


def carry_over(old: Runtime, spec: Spec) -> Carried:
    """What a Router for ``spec`` keeps of ``old``."""
    state = old.state if old.spec.state == spec.state else None
    breakers: dict[str, CircuitBreaker] = {}
    for name, model in spec.models.items():
        before = old.spec.models.get(name)
        if before is None or before != model:
            continue
        for d in model.pool():
            kept = old.breakers.get(d.key)
            if (
                kept is not None
                and kept.policy == model.breaker
                and old.spec.deployment_provider(d) == spec.deployment_provider(d)
            ):
                breakers[d.key] = kept
    return Carried(state, breakers)
