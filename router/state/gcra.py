"""The rate-limit arithmetic, written once: GCRA (the generic cell rate algorithm).

Every backend keeps one number per limit key, the *theoretical arrival time* ``tat``: the
moment at which the limit would be back to empty if nothing more were admitted. A key with no
state, or with ``tat <= now``, is empty. The memory backend runs the functions below under a
lock; the Redis backend runs the same arithmetic in one Lua script (``router/state/redis.py``),
so both answer identically for identical inputs.

A call asks to admit ``cost`` units under a limit of ``interval`` seconds per unit with a burst
of ``burst`` units (for "N per minute": ``interval = 60 / N``)::

    base     = max(tat, now)                          # an idle key starts from now
    allow_at = base + (min(cost, burst) - burst) * interval
    admitted when allow_at <= now, and then           tat := base + cost * interval
    refused otherwise: nothing is charged, and        wait = allow_at - now  (> 0)

In the usual GCRA vocabulary the emission interval is ``T = interval`` and the tolerance for a
unit-cost cell is ``tau = (burst - 1) * interval``: a unit is admitted when
``now >= tat - tau``. Consequences:

- From empty, ``burst`` units are admitted at once; after that one unit is admitted every
  ``interval`` seconds. The wait returned is exactly the time until ``cost`` units fit.
- With ``burst = 1`` admissions are paced at least ``interval`` apart (less the ``EPSILON``
  below), so any half-open window of ``W`` seconds admits at most ``ceil(W / interval)`` units:
  "60 per minute" as ``interval=1.0, burst=1`` admits at most 60 in any 60 s window.
- In general any half-open window of ``W`` seconds admits fewer than ``burst + W / interval``
  units (unit costs). A larger burst absorbs spikes at the price of that looser window bound.
- A cost larger than the burst is checked as if it were ``burst`` (``min(cost, burst)``), so it
  is admitted once the key is completely empty instead of never; the whole cost is charged, and
  the debt is paid off by later callers waiting ``(cost - burst) * interval`` longer.
- ``adjust`` moves ``tat`` by ``delta * interval`` after the fact (estimated vs. real tokens) and
  never below ``now``: a refund cannot bank capacity beyond an empty limit.

Admission compares with a tolerance of :data:`EPSILON` seconds, so floating-point residue in
``tat`` (sums of 0.1 s intervals, wall-clock readings near 1.7e9 whose resolution is ~0.2 µs)
never refuses a call a microsecond early, and a refusal always returns a wait above zero.
"""

from __future__ import annotations

import math

__all__ = ["EPSILON", "adjusted", "check_adjust", "check_limit", "gcra"]

#: Seconds: an ``allow_at`` this close to ``now`` counts as reached.
EPSILON = 1e-6


def check_limit(cost: float, interval: float, burst: float) -> None:
    """Raises ValueError for arguments the arithmetic cannot honour."""
    if not (math.isfinite(cost) and cost >= 0):
        raise ValueError(f"rate limit cost must be a finite number >= 0, got {cost!r}")
    if not (math.isfinite(interval) and interval > 0):
        raise ValueError(f"rate limit interval must be a finite number > 0, got {interval!r}")
    if not (math.isfinite(burst) and burst > 0):
        raise ValueError(f"rate limit burst must be a finite number > 0, got {burst!r}")


def check_adjust(delta: float, interval: float) -> None:
    if not math.isfinite(delta):
        raise ValueError(f"rate limit adjustment must be finite, got {delta!r}")
    if not (math.isfinite(interval) and interval > 0):
        raise ValueError(f"rate limit interval must be a finite number > 0, got {interval!r}")


def gcra(
    tat: float | None, now: float, *, cost: float, interval: float, burst: float
) -> tuple[float | None, float]:
    """One admission decision: ``(new_tat, 0.0)`` when admitted, ``(None, wait)`` when refused
    (the stored ``tat`` stays as it was)."""
    base = now if tat is None or tat < now else tat
    wait = base + (min(cost, burst) - burst) * interval - now
    if wait > EPSILON:
        return None, wait
    return base + cost * interval, 0.0


def adjusted(tat: float | None, now: float, *, delta: float, interval: float) -> float:
    """The ``tat`` after charging ``delta`` more units (or refunding ``-delta``); never before
    ``now``. A result ``<= now`` means the key is empty and may be dropped."""
    base = now if tat is None or tat < now else tat
    return max(base + delta * interval, now)
