"""A :class:`~router.telemetry.report.UsageReport` rendered: as a table of text
(:func:`format_table`, what ``router report`` prints) and as plain JSON data (:func:`to_json`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from router.telemetry.report import UsageReport

__all__ = ["format_table", "to_json"]


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def to_json(report: UsageReport) -> dict[str, Any]:
    """The report as JSON-ready data (rates as fractions, costs in USD, latency in seconds;
    None where there is nothing to divide by)."""
    return {
        "since": _iso(report.since),
        "first": _iso(report.first_ts),
        "last": _iso(report.last_ts),
        "requests": {
            "total": report.requests,
            "ok": report.ok,
            "failed": report.failed,
            "interrupted": report.interrupted,
            "refused": report.refused,
            "unpriced": report.unpriced_requests,
            "cache_hits": report.cache_hits,
            "cache_hit_rate": report.cache_hit_rate,
            "with_fallback": report.fallback_requests,
            "fallback_rate": report.fallback_rate,
        },
        "attempts": {
            "total": report.attempts,
            "sent": report.sent,
            "errors": report.errors,
            "skipped": report.skipped,
            "unpriced": report.unpriced_attempts,
        },
        "cost_usd": report.cost,
        "prompt_cache": {
            "read_tokens": report.cache_read_tokens,
            "write_tokens": report.cache_write_tokens,
            "savings_usd": report.cache_savings,
        },
        "reasoning_tokens": report.reasoning_tokens,
        "providers": [asdict(row) for row in report.providers],
        "models": [asdict(row) for row in report.models],
        "deployments": [asdict(row) for row in report.deployments],
        "tasks": [asdict(row) for row in report.tasks],
        "guardrails": [asdict(row) for row in report.guardrails],
    }


def usd(cost: float) -> str:
    """Dollars with enough digits to read a small cost: $0.3750, $0.0012, and $0.000024
    (two significant digits) for what 4 decimals would show as $0.0000."""
    if cost <= 0 or cost >= 0.001:
        return f"${cost:.4f}"
    return f"${cost:.{1 - math.floor(math.log10(cost))}f}"


def _money(cost: float, unpriced: int) -> str:
    text = usd(cost)
    return f"{text} +{unpriced} unpriced" if unpriced else text


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


Column = tuple[str, Callable[[Any], str]]
_USAGE: tuple[Column, ...] = (
    ("in tokens", lambda r: str(r.input_tokens)),
    ("out tokens", lambda r: str(r.output_tokens)),
    ("cost", lambda r: usd(r.cost)),
    ("unpriced", lambda r: str(r.unpriced)),
)
_PROVIDER_COLUMNS: tuple[Column, ...] = (
    ("provider", lambda r: r.name),
    ("sent", lambda r: str(r.sent)),
    ("errors", lambda r: str(r.errors)),
    *_USAGE,
)
# What was sent to a model or a deployment, and how it went.
_HEALTH: tuple[Column, ...] = (
    ("provider", lambda r: r.provider),
    ("sent", lambda r: str(r.sent)),
    ("errors", lambda r: str(r.errors)),
    ("error rate", lambda r: _pct(r.error_rate)),
    ("skipped", lambda r: str(r.skipped)),
    ("p50", lambda r: _ms(r.p50_s)),
    ("p95", lambda r: _ms(r.p95_s)),
    *_USAGE,
)
_MODEL_COLUMNS: tuple[Column, ...] = (("model", lambda r: r.name), *_HEALTH)
_DEPLOYMENT_COLUMNS: tuple[Column, ...] = (
    ("model", lambda r: r.model),
    ("deployment", lambda r: r.name),
    *_HEALTH,
)
_TASK_COLUMNS: tuple[Column, ...] = (
    ("task", lambda r: r.name),
    ("requests", lambda r: str(r.requests)),
    ("failed", lambda r: str(r.failed)),
    ("interrupted", lambda r: str(r.interrupted)),
    ("fallbacks", lambda r: str(r.fallbacks)),
    ("cache hits", lambda r: str(r.cache_hits)),
    *_USAGE,
)


def _table(columns: tuple[Column, ...], rows: Iterable[Any]) -> list[str]:
    """The first column left-aligned, the others right-aligned, two spaces apart."""
    cells = [[name for name, _ in columns]]
    cells += [[cell(row) for _, cell in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]

    def render(line: list[str]) -> str:
        out = [line[0].ljust(widths[0])]
        out += [c.rjust(widths[i]) for i, c in enumerate(line) if i]
        return "  ".join(out).rstrip()

    return [render(cells[0]), "  ".join("-" * w for w in widths), *map(render, cells[1:])]


def _prompt_cache(report: UsageReport) -> list[str]:
    """The provider's prompt cache in one line (none when it was not used), and the reasoning
    tokens (when there were any)."""
    lines = []
    if report.cache_read_tokens or report.cache_write_tokens:
        saved = report.cache_savings
        money = usd(saved) if saved >= 0 else f"-{usd(-saved)}"
        lines.append(
            f"prompt cache: {report.cache_read_tokens} tokens read, "
            f"{report.cache_write_tokens} written; saved {money}"
        )
    if report.reasoning_tokens:
        lines.append(f"reasoning: {report.reasoning_tokens} output tokens")
    return lines


def _guardrails(report: UsageReport) -> list[str]:
    """What the guardrails found, in one line per outcome (none when they found nothing):
    ``guardrails masked: 12 (pii.email 10, pii.phone 2)``."""
    lines = []
    for outcome in ("refused", "masked", "reported"):
        rows = [g for g in report.guardrails if g.outcome == outcome]
        if rows:
            each = ", ".join(f"{g.guardrail}.{g.kind} {g.count}" for g in rows)
            lines.append(f"guardrails {outcome}: {sum(g.count for g in rows)} ({each})")
    return lines


def format_table(report: UsageReport) -> str:
    """The report as text: a summary, then tables per provider, model, deployment (models
    served by several) and task."""
    if not report.requests:
        since = f" since {_iso(report.since)}" if report.since is not None else ""
        return f"No requests recorded{since}.\n"
    span = f"{_iso(report.first_ts)} .. {_iso(report.last_ts)}"
    n = report.unpriced_requests
    unpriced = f" ({n} request{'s' * (n != 1)} unpriced)"
    lines = [
        f"Usage {span}" + (f" (since {_iso(report.since)})" if report.since is not None else ""),
        f"requests: {report.requests}  ok {report.ok}  failed {report.failed}  "
        f"interrupted {report.interrupted}"
        + (f"  refused {report.refused}" if report.refused else ""),
        f"attempts: {report.attempts}  sent {report.sent}  errors {report.errors}  "
        f"skipped {report.skipped}",
        f"cost: {_money(report.cost, report.unpriced_attempts)}"
        + (unpriced if report.unpriced_requests else ""),
        f"cache hit rate: {_pct(report.cache_hit_rate)}  "
        f"fallback rate: {_pct(report.fallback_rate)}",
        *_prompt_cache(report),
        *_guardrails(report),
        "",
        *_table(_PROVIDER_COLUMNS, report.providers),
        "",
        *_table(_MODEL_COLUMNS, report.models),
        "",
        *([*_table(_DEPLOYMENT_COLUMNS, report.deployments), ""] if report.deployments else []),
        *_table(_TASK_COLUMNS, report.tasks),
    ]
    return "\n".join(lines) + "\n"
