"""``router report``: what the ledger says about cost, errors, latency and the cache.

:func:`summarize` reads a ledger into a :class:`UsageReport`;
:mod:`router.telemetry.report_format` renders it as a table or JSON. Definitions:

- cost sums the priced attempts; attempts (and requests) whose cost is unknown are counted as
  *unpriced*, never added as $0;
- an attempt is *sent* unless it was skipped (refused locally: nothing reached the provider);
  a model's error rate is errors / sent;
- p50/p95 latency is over a model's ok attempts (linear interpolation between the closest
  ranks, as numpy's default);
- the cache hit rate and the fallback rate are over all requests (a request falls back when
  it tried more than one model);
- the provider's prompt cache: tokens read from it and written to it, and what it saved (reads
  at the input price minus what they cost, less the premium paid for writes), summed over the
  priced attempts;
- the guardrails: occurrences each found, per guardrail, kind and outcome (masked, refused,
  reported), summed over the requests; a request a guardrail refused is counted as
  ``refused`` (nothing was sent: it has no attempts);
- ``since`` selects requests that started at or after it, with all their attempts.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from router.telemetry.ledger import Ledger
from router.telemetry.records import AttemptRecord, RequestRecord

__all__ = [
    "CostRow",
    "GuardrailRow",
    "ModelRow",
    "TaskRow",
    "UsageReport",
    "parse_since",
    "percentile",
    "summarize",
]


@dataclass(frozen=True, slots=True)
class CostRow:
    """Usage of one provider."""

    name: str
    sent: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost: float
    unpriced: int


@dataclass(frozen=True, slots=True)
class ModelRow:
    """Usage, errors and latency of one model."""

    name: str
    provider: str
    sent: int
    ok: int
    errors: int
    skipped: int
    error_rate: float | None
    p50_s: float | None
    p95_s: float | None
    input_tokens: int
    output_tokens: int
    cost: float
    unpriced: int
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cache_savings: float = 0.0


@dataclass(frozen=True, slots=True)
class DeploymentRow:
    """Usage, errors and latency of one deployment of a model with several (its name, never
    its key)."""

    model: str
    name: str
    provider: str
    sent: int
    ok: int
    errors: int
    skipped: int
    error_rate: float | None
    p50_s: float | None
    p95_s: float | None
    input_tokens: int
    output_tokens: int
    cost: float
    unpriced: int


@dataclass(frozen=True, slots=True)
class TaskRow:
    """Requests and cost of one task."""

    name: str
    requests: int
    failed: int
    interrupted: int
    fallbacks: int
    cache_hits: int
    input_tokens: int
    output_tokens: int
    cost: float
    unpriced: int


@dataclass(frozen=True, slots=True)
class GuardrailRow:
    """What one guardrail found of one kind, and did with it, over the requests."""

    guardrail: str
    kind: str
    outcome: str
    count: int
    requests: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    since: float | None
    requests: int
    ok: int
    failed: int
    interrupted: int
    attempts: int
    sent: int
    errors: int
    skipped: int
    cost: float
    unpriced_requests: int
    unpriced_attempts: int
    cache_hits: int
    cache_hit_rate: float | None
    fallback_requests: int
    fallback_rate: float | None
    providers: tuple[CostRow, ...]
    models: tuple[ModelRow, ...]
    tasks: tuple[TaskRow, ...]
    first_ts: float | None = None
    last_ts: float | None = None
    #: The provider's prompt cache over all attempts: tokens read, written, USD saved.
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_savings: float = 0.0
    reasoning_tokens: int = 0
    #: Models served by several deployments: one row per deployment tried.
    deployments: tuple[DeploymentRow, ...] = ()
    #: Requests a guardrail refused (nothing sent).
    refused: int = 0
    #: What the guardrails found.
    guardrails: tuple[GuardrailRow, ...] = ()


def percentile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``values``, interpolating between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _rate(n: int, d: int) -> float | None:
    return n / d if d else None


class _Tally:
    """Running sums for one group of attempts."""

    __slots__ = (
        "cached",
        "cost",
        "errors",
        "input",
        "latencies",
        "ok",
        "output",
        "reasoning",
        "savings",
        "skipped",
        "unpriced",
        "written",
    )

    def __init__(self) -> None:
        self.ok = self.errors = self.skipped = self.input = self.output = self.unpriced = 0
        self.cached = self.written = self.reasoning = 0
        self.cost = self.savings = 0.0
        self.latencies: list[float] = []

    def add(self, a: AttemptRecord) -> None:
        if a.outcome == "ok":
            self.ok += 1
            self.latencies.append(a.latency_s)
        elif a.outcome == "error":
            self.errors += 1
        else:
            self.skipped += 1
        self.input += a.input_tokens
        self.output += a.output_tokens
        self.cached += a.cached_input_tokens
        self.written += a.cache_write_tokens
        self.reasoning += a.reasoning_tokens
        if a.cache_savings is not None:
            self.savings += a.cache_savings
        if a.cost is None:
            self.unpriced += 1
        else:
            self.cost += a.cost

    @property
    def sent(self) -> int:
        return self.ok + self.errors

    def health(self) -> dict[str, Any]:
        """The fields a model's and a deployment's rows share: what was sent, how it went,
        latency, tokens and cost."""
        return {
            "sent": self.sent,
            "ok": self.ok,
            "errors": self.errors,
            "skipped": self.skipped,
            "error_rate": _rate(self.errors, self.sent),
            "p50_s": percentile(self.latencies, 0.5),
            "p95_s": percentile(self.latencies, 0.95),
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cost": self.cost,
            "unpriced": self.unpriced,
        }


def summarize(ledger: Ledger | Iterable[RequestRecord], since: float | None = None) -> UsageReport:
    """The report over ``ledger``'s requests (or any iterable of records) since ``since``."""
    if isinstance(ledger, Ledger):
        records: Iterable[RequestRecord] = ledger.requests(since)
    else:
        records = (r for r in ledger if since is None or r.ts >= since)
    total = _Tally()
    providers: dict[str, _Tally] = {}
    models: dict[str, _Tally] = {}
    model_provider: dict[str, str] = {}
    deployments: dict[tuple[str, str], _Tally] = {}
    deployment_provider: dict[tuple[str, str], str] = {}
    tasks: dict[str, tuple[_Tally, dict[str, int]]] = {}
    outcomes = {"ok": 0, "failed": 0, "interrupted": 0, "refused": 0}
    found: dict[tuple[str, str, str], list[int]] = {}  # -> [occurrences, requests]
    requests = cache_hits = fallbacks = unpriced_requests = 0
    first: float | None = None
    last: float | None = None
    for r in records:
        requests += 1
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        cache_hits += r.cache_hit
        fallbacks += r.fallbacks > 0
        unpriced_requests += r.cost is None
        first = r.ts if first is None else min(first, r.ts)
        last = r.ts if last is None else max(last, r.ts)
        task, counts = tasks.setdefault(r.task, (_Tally(), {}))
        counts["requests"] = counts.get("requests", 0) + 1
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
        counts["fallbacks"] = counts.get("fallbacks", 0) + (r.fallbacks > 0)
        counts["cache_hits"] = counts.get("cache_hits", 0) + r.cache_hit
        for g in r.guardrails:
            tally = found.setdefault((g.guardrail, g.kind, g.outcome), [0, 0])
            tally[0] += g.count
            tally[1] += 1
        for a in r.attempts:
            total.add(a)
            task.add(a)
            providers.setdefault(a.provider, _Tally()).add(a)
            models.setdefault(a.model, _Tally()).add(a)
            model_provider.setdefault(a.model, a.provider)
            if a.deployment is not None:
                deployments.setdefault((a.model, a.deployment), _Tally()).add(a)
                deployment_provider.setdefault((a.model, a.deployment), a.provider)
    return UsageReport(
        since=since,
        requests=requests,
        ok=outcomes["ok"],
        failed=outcomes["failed"],
        interrupted=outcomes["interrupted"],
        attempts=total.ok + total.errors + total.skipped,
        sent=total.sent,
        errors=total.errors,
        skipped=total.skipped,
        cost=total.cost,
        unpriced_requests=unpriced_requests,
        unpriced_attempts=total.unpriced,
        cache_hits=cache_hits,
        cache_hit_rate=_rate(cache_hits, requests),
        fallback_requests=fallbacks,
        fallback_rate=_rate(fallbacks, requests),
        providers=tuple(
            CostRow(name, t.sent, t.errors, t.input, t.output, t.cost, t.unpriced)
            for name, t in sorted(providers.items())
        ),
        models=tuple(
            ModelRow(
                name=name,
                provider=model_provider[name],
                **t.health(),
                cached_input_tokens=t.cached,
                cache_write_tokens=t.written,
                reasoning_tokens=t.reasoning,
                cache_savings=t.savings,
            )
            for name, t in sorted(models.items())
        ),
        tasks=tuple(
            TaskRow(
                name=name,
                requests=c["requests"],
                failed=c.get("failed", 0),
                interrupted=c.get("interrupted", 0),
                fallbacks=c["fallbacks"],
                cache_hits=c["cache_hits"],
                input_tokens=t.input,
                output_tokens=t.output,
                cost=t.cost,
                unpriced=t.unpriced,
            )
            for name, (t, c) in sorted(tasks.items())
        ),
        first_ts=first,
        last_ts=last,
        cache_read_tokens=total.cached,
        cache_write_tokens=total.written,
        cache_savings=total.savings,
        reasoning_tokens=total.reasoning,
        deployments=tuple(
            DeploymentRow(
                model=model, name=name, provider=deployment_provider[model, name], **t.health()
            )
            for (model, name), t in sorted(deployments.items())
        ),
        refused=outcomes["refused"],
        guardrails=tuple(
            GuardrailRow(guardrail, kind, outcome, n, hits)
            for (guardrail, kind, outcome), (n, hits) in sorted(found.items())
        ),
    )


# --- --since -----------------------------------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")


def parse_since(text: str, *, now: float | None = None) -> float:
    """``--since``: a duration back from now (``90s``, ``30m``, ``1h``, ``2d``, ``1w``,
    combinable: ``1h30m``) or an ISO-8601 date or date-time (``2026-03-01``,
    ``2026-03-01T12:00``, with ``Z`` or an offset; without one, local time). Returns seconds
    since the epoch; raises ValueError naming the accepted forms."""
    value = text.strip().lower()
    if value and _RELATIVE.sub("", value) == "" and _RELATIVE.match(value):
        seconds = sum(float(n) * _UNITS[u] for n, u in _RELATIVE.findall(value))
        return (time.time() if now is None else now) - seconds
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"--since {text!r}: expected a duration like 30m, 1h, 2d, 1w, or an ISO-8601 date "
            "or date-time like 2026-03-01 or 2026-03-01T12:00Z"
        ) from None
    return moment.timestamp()
