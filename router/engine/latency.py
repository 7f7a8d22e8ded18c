"""Observed latency per model, for ``priority: latency`` and for hedging.

Each model keeps its recent successful attempts (at most ``WINDOW`` of them, none older than
``MAX_AGE`` seconds), so the figures follow the provider as it speeds up or slows down. Until
``MIN_SAMPLES`` calls have been seen, the spec's prior (``latency: {p50, p95}``) is used
instead, so a fresh process orders models sensibly and a single slow call cannot reorder
them. Per process; thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from router.specmodel import ModelSpec

WINDOW = 256
MAX_AGE = 900.0
MIN_SAMPLES = 10
# Quantiles are recomputed (a sort of the window) after this many new samples, not per call.
REFRESH_EVERY = 16


@dataclass(frozen=True, slots=True)
class LatencyEstimate:
    p50: float | None
    p95: float | None
    source: str  # "observed" (n samples) or "prior"
    samples: int = 0


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest-rank quantile of an already sorted, non-empty list."""
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class LatencyTracker:
    __slots__ = ("_cache", "_fresh", "_lock", "_samples", "clock")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._samples: dict[str, deque[tuple[float, float]]] = {}
        self._cache: dict[str, LatencyEstimate] = {}
        self._fresh: dict[str, int] = {}  # samples added since the cached estimate

    def observe(self, model: str, seconds: float) -> None:
        with self._lock:
            samples = self._samples.get(model)
            if samples is None:
                samples = self._samples[model] = deque(maxlen=WINDOW)
            samples.append((self.clock(), seconds))
            added = self._fresh.get(model, 0) + 1
            cached = self._cache.get(model)
            if cached is None or cached.source == "prior" or added >= REFRESH_EVERY:
                self._cache.pop(model, None)
                added = 0
            self._fresh[model] = added

    def estimate(self, model: ModelSpec) -> LatencyEstimate:
        with self._lock:
            cached = self._cache.get(model.name)
            if cached is not None:
                return cached
            samples = self._samples.get(model.name)
            if samples:
                edge = self.clock() - MAX_AGE
                while samples and samples[0][0] < edge:
                    samples.popleft()
            if not samples or len(samples) < MIN_SAMPLES:
                return LatencyEstimate(model.latency.p50, model.latency.p95, "prior")
            ordered = sorted(s for _, s in samples)
            result = LatencyEstimate(
                _quantile(ordered, 0.5), _quantile(ordered, 0.95), "observed", len(ordered)
            )
            self._cache[model.name] = result
            return result

    def p50(self, model: ModelSpec) -> float | None:
        return self.estimate(model).p50
