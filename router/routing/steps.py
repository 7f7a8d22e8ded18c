"""What a chain walk tells its driver (:class:`Go`, :class:`Wait`), and its own bookkeeping
of each target waiting its turn and of each attempt made (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from router.errors import ProviderError
from router.routing.balance import Pool
from router.routing.target import Target
from router.types import Attempt

__all__ = ["Entry", "Go", "Outcome", "Wait", "entry_of", "make_attempt"]


@dataclass(slots=True)
class Entry:
    """A target waiting its turn: how often it was sent, and when it may go next."""

    target: Target
    # A model's deployments, chosen when its turn comes: the first one (the pool's choice),
    # and the rest only if that one fails (``after``: the rest after that target).
    pool: Pool | None = None
    after: Target | None = None
    sends: int = 0
    not_before: float = 0.0
    sticky: bool = False  # later entries wait for this one (same_model retry, on_limit: wait)
    circuit: bool = False  # waiting for an open circuit
    retry: bool = False  # a retry of a sent attempt: spends the retry share when it goes


def entry_of(target: Target | Pool) -> Entry:
    if isinstance(target, Target):
        return Entry(target)
    if len(target.targets) == 1:
        return Entry(target.targets[0])
    return Entry(target.targets[0], pool=target)


Outcome = Literal["ok", "error", "skipped", "cancelled"]


def make_attempt(
    target: Target,
    outcome: Outcome,
    error: ProviderError | None,
    latency: float,
    cached: bool = False,
) -> Attempt:
    return Attempt(
        target.model.name,
        target.provider,
        outcome,
        error,
        latency,
        cached,
        target.deployment,
    )


@dataclass(frozen=True, slots=True)
class Go:
    target: Target
    timeout: float


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float
