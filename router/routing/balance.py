"""Spreading a model's requests over its deployments.

A strategy is a small pure callable, the way tenacity writes its wait and stop strategies::

    strategy(ready, now, random) -> the deployment to try first

``ready`` holds the deployments (:class:`~router.routing.call.Target`) that may be chosen now
(none held by a ``Retry-After`` or an open circuit, each with a weight above 0 unless only
standbys are left), never empty; ``now`` is the router's monotonic clock; ``random()`` returns
a float in [0, 1) (a seeded ``random.Random(seed).random`` in tests). Each reads what it needs
from a deployment's ``weight`` and its :class:`~router.nodes.load.Live` figures.

- :func:`weighted` (the default): at random, in proportion to the weights.
- :func:`least_busy`: the fewest requests in flight; ties by weight.
- :func:`latency`: power of two choices: two drawn by weight, the one with the lower observed
  latency (EWMA) wins; one never observed wins, so every deployment gets measured.
- :func:`headroom`: the most rate-limit capacity left (share of the tightest limit's burst);
  ties by weight.

:class:`Pool` holds one model's deployments and its strategy, and orders them for a request:
the chosen one first, then the other ready ones (spec order), then the held ones. A request
carrying a session (``session=`` on the call) goes where that session went last, while it is
ready (see :meth:`Pool.order`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from random import Random
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from router.routing.call import Target

__all__ = [
    "SESSIONS_PER_MODEL",
    "STRATEGIES",
    "Pool",
    "Strategy",
    "headroom",
    "latency",
    "least_busy",
    "weighted",
]

Strategy = Callable[["Sequence[Target]", float, Callable[[], float]], "Target"]

#: Sessions a model remembers (least recently used forgotten first).
SESSIONS_PER_MODEL = 10_000


def weighted(ready: Sequence[Target], now: float, random: Callable[[], float]) -> Target:
    """At random, in proportion to the weights (all 0: the first)."""
    total = 0.0
    for t in ready:
        total += t.weight
    if total <= 0.0:
        return ready[0]
    r = random() * total
    for t in ready:
        r -= t.weight
        if r < 0.0:
            return t
    return ready[-1]  # float residue


def least_busy(ready: Sequence[Target], now: float, random: Callable[[], float]) -> Target:
    """The fewest requests in flight (from this process); ties by weight."""
    low = -1
    tied: list[Target] = []
    for t in ready:
        busy = t.live.in_flight
        if busy < low or low < 0:
            low, tied = busy, [t]
        elif busy == low:
            tied.append(t)
    return tied[0] if len(tied) == 1 else weighted(tied, now, random)


def latency(ready: Sequence[Target], now: float, random: Callable[[], float]) -> Target:
    """Power of two choices over the observed latency: two different ones drawn by weight,
    the faster wins (one not yet observed counts as fastest). The slowest of many is never
    chosen, and no single fastest one takes all the load."""
    a = weighted(ready, now, random)
    if len(ready) == 1:
        return a
    b = weighted([t for t in ready if t is not a], now, random)
    la, lb = a.live.latency, b.live.latency
    if la is None:
        return a
    if lb is None:
        return b
    return a if la <= lb else b


def headroom(ready: Sequence[Target], now: float, random: Callable[[], float]) -> Target:
    """The most rate-limit capacity left; ties by weight."""
    best = -1.0
    tied: list[Target] = []
    for t in ready:
        room = t.live.headroom(now)
        if room > best:
            best, tied = room, [t]
        elif room == best:
            tied.append(t)
    return tied[0] if len(tied) == 1 else weighted(tied, now, random)


#: Why a strategy chose as it did, for ``router explain``.
REASONS: Mapping[str, str] = MappingProxyType(
    {
        "weighted": "drawn at random in proportion to the weights",
        "least_busy": "the fewest requests in flight",
        "latency": "the faster of two drawn by weight (observed latency)",
        "headroom": "the most rate-limit capacity left",
    }
)

#: The spec's ``balance`` values and their strategies.
STRATEGIES: Mapping[str, Strategy] = MappingProxyType(
    {"weighted": weighted, "least_busy": least_busy, "latency": latency, "headroom": headroom}
)


class Pool:
    """One model's deployments (``every``) and how a request picks among them. ``targets``
    are those that can be called (their key variable is set...); thread-safe."""

    __slots__ = (
        "_lock",
        "_sessions",
        "_standby",
        "every",
        "model",
        "name",
        "random",
        "strategy",
        "targets",
    )

    def __init__(
        self,
        model: str,
        targets: Sequence[Target],
        strategy: Strategy,
        random: Callable[[], float],
        name: str = "weighted",
    ) -> None:
        self.model = model
        self.every = tuple(targets)
        # Only those that can be called take requests; none can: the first says why.
        self.targets = tuple(t for t in targets if t.unavailable is None) or self.every[:1]
        self._standby = any(t.weight <= 0 for t in self.targets)  # weight-0 ones to set aside
        self.strategy = strategy
        self.name = name
        self.random = random
        self._sessions: OrderedDict[str, str] = OrderedDict()  # session -> deployment key
        self._lock = threading.Lock()

    def choose(
        self,
        now: float,
        session: str | None = None,
        random: Callable[[], float] | None = None,
    ) -> tuple[Target | None, str]:
        """The deployment a request would take first, and why (for ``router explain``);
        ``random`` replaces the pool's draw."""
        chosen = self.first(now, session, random)
        if chosen is None:
            return None, "every deployment is held (Retry-After, open circuit or limit)"
        if session is not None and chosen.key == self.bound(session):
            return chosen, "sticky: it served this session last and is ready"
        if chosen.weight <= 0:
            return chosen, "standby: only weight-0 ones are ready"
        return chosen, f"{self.name}: {REASONS.get(self.name, self.name)}"

    def first(
        self,
        now: float,
        session: str | None = None,
        random: Callable[[], float] | None = None,
    ) -> Target | None:
        """The deployment a request tries first: the session's while it is ready, else the
        strategy's choice among the ready ones with a weight (standbys when only they are
        ready); None when every one is held."""
        ready = [t for t in self.targets if t.live.until <= now]
        if not ready:
            return None
        if session is not None:
            bound = self.bound(session)
            for t in ready:
                if t.key == bound:
                    return t
        if self._standby:
            ready = [t for t in ready if t.weight > 0] or ready
        return self.strategy(ready, now, random or self.random)

    def rest(self, now: float, tried: Target) -> list[Target]:
        """The deployments after ``tried`` (the first), in the order a request tries them:
        the other ready ones (spec order), then the held ones (refused without sending, and
        their wait counted)."""
        ready = [t for t in self.targets if t is not tried and t.live.until <= now]
        return ready + [t for t in self.targets if t is not tried and t.live.until > now]

    def order(self, now: float, session: str | None = None) -> list[Target]:
        """Every deployment in the order a request tries them (:meth:`first`, then
        :meth:`rest`; the walk asks for the rest only when the first fails)."""
        targets = self.targets
        if len(targets) == 1:
            return [targets[0]]
        chosen = self.first(now, session)
        if chosen is None:
            return list(targets)
        return [chosen, *self.rest(now, chosen)]

    def describe(self, now: float, session: str | None = None) -> list[dict[str, Any]]:
        """Every deployment as ``router explain`` shows it: weight and share, whether it can
        be chosen now (and why not), its live figures, its prices, and which one a request
        (with ``session``) would take first and why. Its draw is seeded by the session, so
        the same question gets the same answer; a request draws from the pool's own."""
        chosen, why = self.choose(now, session, Random(session or "explain").random)
        total = sum(t.weight for t in self.targets if t.weight > 0)
        out = []
        for t in self.every:
            held = t.live.until - now
            if t.unavailable is not None:
                state = f"unavailable: {t.unavailable}"
            elif held > 0:
                state = f"held {held:.1f}s (Retry-After, open circuit or limit)"
            else:
                state = "ready"
            pricing = t.model.pricing
            out.append(
                {
                    "name": t.deployment,
                    "provider": t.provider,
                    "id": t.model.id,
                    "weight": t.weight,
                    "share": t.weight / total if total and t in self.targets else 0.0,
                    "state": state,
                    "in_flight": t.live.in_flight,
                    "latency_ewma": t.live.latency,
                    "headroom": round(t.live.headroom(now), 4),
                    "pricing": None
                    if pricing is None
                    else {"input": pricing.input, "output": pricing.output},
                    "chosen": t is chosen,
                    "why": why if t is chosen else None,
                }
            )
        return out

    # -- sessions: sticky routing ---------------------------------------------------------------

    def bound(self, session: str) -> str | None:
        with self._lock:
            return self._sessions.get(session)

    def bind(self, session: str, target: Target) -> None:
        """``session`` was served by ``target``: its next requests go there while it is ready."""
        with self._lock:
            sessions = self._sessions
            sessions[session] = target.key
            sessions.move_to_end(session)
            if len(sessions) > SESSIONS_PER_MODEL:
                sessions.popitem(last=False)

    def forget(self, session: str) -> bool:
        """Unbind ``session``: its next request is balanced afresh. True when it was bound."""
        with self._lock:
            return self._sessions.pop(session, None) is not None
