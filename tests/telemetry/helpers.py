"""Record builders for the telemetry tests: every field has a plain default, so a test names
only what it is about."""

from __future__ import annotations

from typing import Any

from router.telemetry import AttemptRecord, RequestRecord

T0 = 1_800_000_000.0  # a fixed wall-clock time: reports and `since` filters are exact


def attempt(**kw: Any) -> AttemptRecord:
    values: dict[str, Any] = {
        "task": "summarize",
        "model": "small",
        "provider": "oai",
        "outcome": "ok",
        "error_kind": None,
        "status": None,
        "input_tokens": 0,
        "output_tokens": 0,
        "cached_input_tokens": 0,
        "cost": 0.0,
        "latency_s": 1.0,
        "depth": 0,
        "cache_hit": False,
        "ts": T0,
    }
    values.update(kw)
    if values["outcome"] == "error" and values["error_kind"] is None:
        values["error_kind"] = "unavailable"
    return AttemptRecord(**values)


def request(*attempts: AttemptRecord, **kw: Any) -> RequestRecord:
    """A request made of ``attempts`` (one ok attempt when none is given); the outcome, model,
    cost, fallbacks and latency follow from them unless given."""
    tries = attempts or (attempt(**{k: v for k, v in kw.items() if k in ("task", "ts")}),)
    ok = [a for a in tries if a.outcome == "ok"]
    costs = [a.cost for a in tries]
    values: dict[str, Any] = {
        "task": tries[0].task,
        "requested_task": tries[0].task,
        "outcome": "ok" if ok else "failed",
        "model": ok[-1].model if ok else None,
        "provider": ok[-1].provider if ok else None,
        "attempts": tuple(tries),
        "latency_s": sum(a.latency_s for a in tries),
        "cost": None if None in costs else sum(c for c in costs if c is not None),
        "fallbacks": len({a.model for a in tries}) - 1,
        "cache_hit": any(a.cache_hit for a in ok),
        "stream": False,
        "ts": tries[0].ts,
    }
    values.update(kw)
    return RequestRecord(**values)
