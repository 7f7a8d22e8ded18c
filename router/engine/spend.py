"""Spend caps per task and overall, per UTC day and calendar month.

Spend is a counter in the state backend per (scope, period): ``spend:all:d:2026-11-24``,
``spend:task:summarize:m:2026-11``; it expires at the period's end, so a new day starts at
zero. In memory each process counts its own; on Redis every process shares the counters.
Before a call the engine asks whether any cap that applies is reached; after a call it adds
the call's cost (cached answers cost nothing; unpriced calls cannot be counted, which
``router report`` shows). A cap is checked before a call, so a single call can take spend
a little past it: caps bound what is *started* once they are reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from router.errors import BudgetExceeded
from router.specmodel import Budget, Spec, TaskSpec
from router.state.base import StateBackend


@dataclass(frozen=True, slots=True)
class Cap:
    scope: str  # "all" or "task:<name>"
    period: str  # "daily" | "monthly"
    limit: float
    key: str
    ends: float  # wall-clock end of the period


def _periods(now: float) -> dict[str, tuple[str, float]]:
    day = datetime.fromtimestamp(now, UTC)
    day_start = day.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    return {
        "daily": (f"d:{day_start:%Y-%m-%d}", (day_start + timedelta(days=1)).timestamp()),
        "monthly": (f"m:{month_start:%Y-%m}", next_month.timestamp()),
    }


class BudgetKeeper:
    __slots__ = ("backend", "spec", "wall")

    def __init__(
        self, spec: Spec, backend: StateBackend, wall: Callable[[], float] = time.time
    ) -> None:
        self.spec = spec
        self.backend = backend
        self.wall = wall

    def applies(self, task: TaskSpec) -> bool:
        return bool(task.budget) or bool(self.spec.budgets)

    def caps(self, task: TaskSpec) -> list[Cap]:
        periods = _periods(self.wall())
        out = []
        for scope, budget in (("all", self.spec.budgets), (f"task:{task.name}", task.budget)):
            for period, limit in (("daily", budget.daily), ("monthly", budget.monthly)):
                if limit is not None:
                    suffix, ends = periods[period]
                    out.append(Cap(scope, period, limit, f"spend:{scope}:{suffix}", ends))
        return out

    def _exceeded(self, cap: Cap, spent: float) -> BudgetExceeded:
        what = "the overall" if cap.scope == "all" else f"task '{cap.scope[5:]}''s"
        resets = datetime.fromtimestamp(cap.ends, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return BudgetExceeded(
            f"{what} {cap.period} budget of ${cap.limit:g} is spent (${spent:.4f}); "
            f"it resets at {resets}",
            scope=cap.scope,
            period=cap.period,
            spent=spent,
            cap=cap.limit,
            resets_at=cap.ends,
        )

    def check(self, task: TaskSpec) -> BudgetExceeded | None:
        """The first cap that is reached, or None."""
        for cap in self.caps(task):
            spent = self.backend.incr(cap.key, 0.0, self._ttl(cap))
            if spent >= cap.limit:
                return self._exceeded(cap, spent)
        return None

    async def acheck(self, task: TaskSpec) -> BudgetExceeded | None:
        for cap in self.caps(task):
            spent = await self.backend.aincr(cap.key, 0.0, self._ttl(cap))
            if spent >= cap.limit:
                return self._exceeded(cap, spent)
        return None

    def charge(self, task: TaskSpec, cost: float | None) -> None:
        if cost:
            for cap in self.caps(task):
                self.backend.incr(cap.key, cost, self._ttl(cap))

    async def acharge(self, task: TaskSpec, cost: float | None) -> None:
        if cost:
            for cap in self.caps(task):
                await self.backend.aincr(cap.key, cost, self._ttl(cap))

    def _ttl(self, cap: Cap) -> float:
        return max(cap.ends - self.wall(), 1.0)

    def spent(self, task: TaskSpec) -> dict[str, float]:
        return {
            f"{c.scope}:{c.period}": self.backend.incr(c.key, 0.0, self._ttl(c))
            for c in self.caps(task)
        }


__all__ = ["Budget", "BudgetExceeded", "BudgetKeeper"]
