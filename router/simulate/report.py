"""What a simulation found, as numbers (:class:`SimulationReport`), text and JSON."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ModelStats",
    "Outcome",
    "SimulationReport",
    "TaskStats",
    "format_report",
    "percentile",
    "to_json",
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One simulated request, as the caller saw it."""

    index: int
    task: str
    stream: bool
    first: str | None  # the first candidate of its plan
    model: str | None  # who answered (None: lost)
    #: (model, "ok" | "error" | "skipped", error kind or "") per attempt, in order.
    attempts: tuple[tuple[str, str, str], ...]
    latency_s: float
    cost: float | None = None
    cached: bool = False
    error: str | None = None  # why it was lost
    #: The deployment each attempt reached (None: its model has one), parallel to attempts.
    deployments: tuple[str | None, ...] = ()

    @property
    def ok(self) -> bool:
        return self.model is not None

    @property
    def sent(self) -> int:
        return sum(1 for _, outcome, _ in self.attempts if outcome != "skipped")

    @property
    def retries(self) -> int:
        """Attempts sent again to a deployment already tried (a model's other deployment is a
        failover, not a retry)."""
        seen: set[tuple[str, str | None]] = set()
        retries = 0
        places = self.deployments or (None,) * len(self.attempts)
        for (model, outcome, _), deployment in zip(self.attempts, places, strict=False):
            if outcome == "skipped":
                continue
            retries += (model, deployment) in seen
            seen.add((model, deployment))
        return retries

    @property
    def fallback(self) -> bool:
        return self.model is not None and self.model != self.first


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(slots=True)
class TaskStats:
    requests: int = 0
    ok: int = 0
    lost: int = 0
    streamed: int = 0
    fallbacks: int = 0
    sent: int = 0  # attempts that reached a provider
    retries: int = 0
    skipped: int = 0  # attempts refused locally (limit, open circuit, hold, deadline)
    cached: int = 0
    cost: float = 0.0
    unpriced: int = 0
    latencies: list[float] = field(default_factory=list, repr=False)
    answered_by: Counter[str] = field(default_factory=Counter)
    lost_reasons: Counter[str] = field(default_factory=Counter)

    def add(self, o: Outcome) -> None:
        self.requests += 1
        self.streamed += o.stream
        self.sent += o.sent
        self.retries += o.retries
        self.skipped += sum(1 for _, outcome, _ in o.attempts if outcome == "skipped")
        if o.model is None:
            self.lost += 1
            self.lost_reasons[o.error or "lost"] += 1
            return
        self.ok += 1
        self.fallbacks += o.fallback
        self.cached += o.cached
        self.answered_by[o.model] += 1
        self.latencies.append(o.latency_s)
        if o.cost is None:
            self.unpriced += 1
        else:
            self.cost += o.cost

    def latency(self, p: float) -> float | None:
        return percentile(self.latencies, p)

    def as_dict(self) -> dict[str, Any]:
        priced = self.ok - self.unpriced
        return {
            "requests": self.requests,
            "ok": self.ok,
            "lost": self.lost,
            "streamed": self.streamed,
            "fallbacks": self.fallbacks,
            "attempts": self.sent,
            "attempts_per_request": self.sent / self.requests if self.requests else 0.0,
            "retries": self.retries,
            "skipped": self.skipped,
            "cached": self.cached,
            "cost_usd": self.cost,
            "cost_per_request_usd": self.cost / priced if priced else None,
            "unpriced": self.unpriced,
            "latency_s": {f"p{p}": self.latency(p) for p in (50, 95, 99)},
            "answered_by": dict(self.answered_by.most_common()),
            "lost_reasons": dict(self.lost_reasons.most_common()),
        }


@dataclass(slots=True)
class ModelStats:
    sent: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # by kind
    skipped: int = 0
    injected: int = 0  # attempts the simulator put a fault on
    timeouts: int = 0  # simulated timeouts (latency reached the attempt's timeout)

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.sent,
            "ok": self.ok,
            "errors": dict(self.errors.most_common()),
            "skipped": self.skipped,
            "faults_injected": self.injected,
            "simulated_timeouts": self.timeouts,
        }


@dataclass(slots=True)
class SimulationReport:
    config: str
    faults: str
    seed: int
    requests: int
    rate: float | None  # requests per simulated second; None: all at once
    concurrency: int
    stream_share: float
    model_latency: bool
    simulated_s: float = 0.0
    wall_s: float = 0.0
    tasks: dict[str, TaskStats] = field(default_factory=dict)
    total: TaskStats = field(default_factory=TaskStats)
    models: dict[str, ModelStats] = field(default_factory=dict)
    queued: int = 0  # requests that waited for one of the `concurrency` slots
    max_queue_s: float = 0.0
    #: model -> deployment -> attempts sent there, for models served at several deployments.
    spread: dict[str, Counter[str]] = field(default_factory=dict)
    #: Requests drawn from a labelled file and classified: how many, how many got the file's
    #: label, how many abstained.
    labelled: int = 0
    agreed: int = 0
    abstained: int = 0

    def classified(self, expected: str | None, label: str | None) -> None:
        if expected is None:
            return
        self.labelled += 1
        self.agreed += label == expected
        self.abstained += label is None

    def add(self, o: Outcome) -> None:
        self.tasks.setdefault(o.task, TaskStats()).add(o)
        self.total.add(o)
        for (model, outcome, _), deployment in zip(o.attempts, o.deployments, strict=False):
            if deployment is not None and outcome != "skipped":
                self.spread.setdefault(model, Counter())[deployment] += 1
        for model, outcome, kind in o.attempts:
            stats = self.models.setdefault(model, ModelStats())
            if outcome == "skipped":
                stats.skipped += 1
                continue
            stats.sent += 1
            if outcome == "ok":
                stats.ok += 1
            else:
                stats.errors[kind] += 1

    @property
    def lost(self) -> int:
        return self.total.lost

    @property
    def exit_code(self) -> int:
        """What ``router simulate`` exits with: 0 when no request was lost, 1 otherwise."""
        return 0 if self.lost == 0 else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "faults": self.faults,
            "seed": self.seed,
            "workload": {
                "requests": self.requests,
                "rate_per_s": self.rate,
                "concurrency": self.concurrency,
                "stream_share": self.stream_share,
                "model_latency": self.model_latency,
            },
            "simulated_s": self.simulated_s,
            "wall_s": self.wall_s,
            "exit_code": self.exit_code,
            "total": self.total.as_dict(),
            "tasks": {name: stats.as_dict() for name, stats in self.tasks.items()},
            "models": {name: stats.as_dict() for name, stats in self.models.items()},
            "deployments": {m: dict(c.most_common()) for m, c in self.spread.items()},
            "queued": self.queued,
            "max_queue_s": self.max_queue_s,
            **(
                {
                    "classifier": {
                        "labelled": self.labelled,
                        "agreed": self.agreed,
                        "abstained": self.abstained,
                    }
                }
                if self.labelled
                else {}
            ),
        }


def to_json(report: SimulationReport, *, indent: int | None = 2) -> str:
    return json.dumps(report.as_dict(), indent=indent)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}s"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _cost(stats: TaskStats) -> tuple[str, str]:
    priced = stats.ok - stats.unpriced
    total = f"${stats.cost:.4f}"
    if stats.unpriced:
        total += f" +{stats.unpriced} unpriced"
    return total, (f"${stats.cost / priced:.6f}" if priced else "-")


_HEAD = (
    f"{'task':<14} {'reqs':>5} {'ok':>5} {'lost':>4} {'fallbacks':>14} {'tries/req':>9} "
    f"{'retries':>7} {'skips':>5} {'cost':>10} {'cost/req':>10} {'p50':>7} {'p95':>7} {'p99':>7}"
)


def _row(name: str, s: TaskStats) -> str:
    total, per = _cost(s)
    fallbacks = f"{s.fallbacks} ({_share(s.fallbacks, s.ok)})"
    tries = s.sent / s.requests if s.requests else 0.0
    return (
        f"{name:<14} {s.requests:>5} {s.ok:>5} {s.lost:>4} {fallbacks:>14} {tries:>9.2f} "
        f"{s.retries:>7} {s.skipped:>5} {total:>10} {per:>10} {_seconds(s.latency(50)):>7} "
        f"{_seconds(s.latency(95)):>7} {_seconds(s.latency(99)):>7}"
    )


_REASONS_SHOWN = 3


def format_report(report: SimulationReport) -> str:
    """The report ``router simulate`` prints."""
    r = report
    arrivals = (
        f"Poisson arrivals at {r.rate:g} req/s"
        if r.rate is not None
        else f"all at once, {r.concurrency} at a time"
    )
    streamed = _share(r.total.streamed, r.total.requests)
    lines = [
        f"router simulate: {r.config} · seed {r.seed}",
        f"workload: {_n(r.requests, 'request')} over {_n(len(r.tasks), 'task')}, "
        f"{streamed} streamed, "
        f"{arrivals}, at most {r.concurrency} in flight",
        f"faults:   {r.faults}",
        f"time:     {_duration(r.simulated_s)} simulated in {r.wall_s:.2f}s"
        + ("" if r.model_latency else " (no model latency: waits only)"),
        "",
        _HEAD,
    ]
    lines += [_row(name, stats) for name, stats in r.tasks.items()]
    lines.append(_row("TOTAL", r.total))
    if r.labelled:
        lines.append(
            f"classifier: {r.agreed} of {r.labelled} labelled prompts got their label "
            f"({_share(r.agreed, r.labelled)}); {r.abstained} abstained"
        )
    lines += ["", "answered by:"]
    for name, stats in r.tasks.items():
        parts = [f"{m} {n} ({_share(n, stats.ok)})" for m, n in stats.answered_by.most_common()]
        lines.append(f"  {name:<14} {' · '.join(parts) or '-'}")
    lines += [
        "",
        f"{'model':<16} {'attempts':>8} {'ok':>6} {'failed':>6} {'skipped':>7} {'injected':>8}"
        "  errors",
    ]
    for name, m in sorted(r.models.items()):
        errors = ", ".join(f"{kind} {n}" for kind, n in m.errors.most_common()) or "-"
        if m.timeouts:
            errors += f" ({m.timeouts} simulated timeouts)"
        failed = sum(m.errors.values())
        lines.append(
            f"{name:<16} {m.sent:>8} {m.ok:>6} {failed:>6} {m.skipped:>7} {m.injected:>8}  {errors}"
        )
    if r.spread:
        lines += ["", "spread over deployments (attempts sent):"]
        for model, counts in sorted(r.spread.items()):
            total = sum(counts.values())
            parts = [f"{d} {n} ({_share(n, total)})" for d, n in sorted(counts.items())]
            lines.append(f"  {model:<14} {' · '.join(parts)}")
    if r.queued:
        lines += [
            "",
            f"{_n(r.queued, 'request')} waited for a slot (at most {r.max_queue_s:.1f}s)",
        ]
    lines.append("")
    if r.lost:
        lines.append(f"LOST {r.lost} of {_n(r.requests, 'request')}:")
        for name, stats in r.tasks.items():
            reasons = stats.lost_reasons.most_common()
            for reason, n in reasons[:_REASONS_SHOWN]:
                lines.append(f"  {name}: {n} × {reason}")
            if len(reasons) > _REASONS_SHOWN:
                rest = sum(n for _, n in reasons[_REASONS_SHOWN:])
                lines.append(f"  {name}: {rest} × other reasons (all in the JSON report)")
    else:
        lines.append(f"no request lost ({r.requests} of {r.requests} answered)")
    lines.append(f"exit code {r.exit_code}")
    return "\n".join(lines) + "\n"


def _n(count: int, word: str) -> str:
    """``1 request``, ``2 requests``."""
    return f"{count} {word}{'s' * (count != 1)}"
