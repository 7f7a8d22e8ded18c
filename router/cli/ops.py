"""CLI commands that operate a deployed spec: ``health`` (breakers, holds, limits),
``report`` (the usage ledger) and ``simulate`` (a workload with faults against the sandbox)."""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from router.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_config_option,
    default_config,
    load_router,
    report_error,
)
from router.errors import ConfigError, RequestError, RouterError


def add_operations(sub: Any) -> None:
    p = sub.add_parser(
        "health",
        help="show every circuit breaker, hold and rate limit, and the state backend",
        description=(
            "Show each model's circuit breaker (state, failures, cooldown), its Retry-After "
            "and open-circuit holds, its rate limits, and the state backend in use; a model "
            "with several deployments gets one line per deployment (weight, breaker, holds, "
            "limits, requests in flight). With "
            "state on Redis this is what every process shares; in memory, a new process "
            "starts closed. An unreachable Redis is reported, not raised: DEGRADED "
            "(state.on_unavailable: fail_open, calls served with per-process state) or "
            "REFUSING (fail_closed, calls refused). Exit status 0, or 1 when calls would be "
            "refused."
        ),
    )
    add_config_option(p)
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    p.set_defaults(command=cmd_health)

    p = sub.add_parser(
        "report",
        help="cost, errors, latency and cache hits from the usage ledger",
        description=(
            "Summarize the usage ledger: cost per provider, model, deployment (models served "
            "by several) and task (unpriced calls "
            "counted apart, never as $0), error rates, p50/p95 latency, fallbacks, cache "
            "hit rate, and the provider's prompt cache (tokens read and written, USD saved). "
            "Reads the SQLite ledger named by --ledger, or by the spec's "
            "telemetry.ledger.path."
        ),
    )
    add_config_option(p)
    p.add_argument("--ledger", metavar="FILE", help="SQLite ledger file (overrides the spec)")
    p.add_argument("--since", help="only records since: 30m, 2h, 7d, or an ISO date/time")
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    p.set_defaults(command=cmd_report)

    p = sub.add_parser(
        "simulate",
        help="run a workload with injected faults against the sandbox; 0 when nothing is lost",
        description=(
            "Run N requests of the spec's tasks against the local sandbox with faults injected "
            "per model, in simulated time (backoffs, Retry-After, latencies and limits take no "
            "real time), and print per task: models that answered, fallbacks, requests lost, "
            "cost and latency percentiles. Exit status 0 when no request was lost, 1 "
            "otherwise, 2 for usage errors: usable as a CI check of a config. "
            "FAULTS: 'TARGET=ITEM,...' entries separated by ';' where TARGET is all, first, "
            "first:TASK, model:NAME or provider:NAME and ITEMs are sandbox faults (500, 429, "
            "retry-after=S, reset, cut=N, badjson, context...), p=0.3, delay=MS, rpm=N."
        ),
    )
    add_config_option(p)
    p.add_argument(
        "--requests", type=int, default=1000, metavar="N", help="requests to run (default 1000)"
    )
    p.add_argument(
        "--faults", action="append", metavar="SPEC", help="faults to inject, as above (repeatable)"
    )
    p.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight at once (default 32)"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the workload and the faults (default 0)"
    )
    p.add_argument("--mix", help="task weights, e.g. chat=3,code=1 (default: equal)")
    p.add_argument(
        "--prompts",
        metavar="FILE",
        help=(
            'draw each prompt from a JSONL file of {"text": ..., "label": ...}: classified by '
            "the spec's classifier (the report says how often it agreed with the labels), or, "
            "without one, sent to the task the label names"
        ),
    )
    p.add_argument(
        "--stream-share",
        type=float,
        default=0.2,
        dest="stream_share",
        help="share of requests that stream, 0 to 1 (default 0.2)",
    )
    p.add_argument(
        "--rate", default="1", help="arrivals per simulated second, or 'burst' (all at once)"
    )
    p.add_argument(
        "--no-model-latency", action="store_true", help="ignore the models' latency priors"
    )
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    p.add_argument("--progress", action="store_true", help="show the progress bar off a TTY too")
    p.add_argument(
        "--sandbox",
        action="store_true",
        help="accepted for symmetry with complete and explain: simulate always runs on the sandbox",
    )
    p.set_defaults(command=cmd_simulate)


def cmd_health(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    import time

    try:
        with load_router(args, stderr) as router:
            health = router.health()
    except (RouterError, OSError) as exc:
        return report_error(exc, stderr)
    state = health["state"]
    code = EXIT_FAILED if state.get("status") in ("refusing", "unreachable") else EXIT_OK
    if args.format == "json":
        stdout.write(json.dumps(health, indent=2, default=str) + "\n")
        return code
    if state.get("ok", True):
        verdict = "ok"
    else:
        status = state.get("status")
        verdict = {"degraded": "DEGRADED", "refusing": "REFUSING"}.get(status, "UNREACHABLE")
        verdict += f": {state['detail']}" if state.get("detail") else ""
    stdout.write(
        f"state: {state.get('backend')} ({verdict})"
        + (f", in use: {state['in_use']}" if state.get("in_use") else "")
        + "\n"
    )
    now = time.time()
    width = max(len(name) for name in health["models"])
    for name, m in health["models"].items():
        deployments = m.get("deployments") or {}
        if len(deployments) <= 1:
            stdout.write(f"{name:<{width}}  {m['provider']}: {', '.join(_health_parts(m, now))}\n")
        else:
            stdout.write(f"{name:<{width}}  {len(deployments)} deployments, {m['balance']}:\n")
            for dname, d in deployments.items():
                parts = [f"weight {d['weight']:g}", *_health_parts(d, now)]
                load = d.get("load") or {}
                if load.get("in_flight"):
                    parts.append(f"{load['in_flight']} in flight")
                stdout.write(f"  {dname:<{width}}  {d['provider']}: {', '.join(parts)}\n")
    return code


def _health_parts(m: dict[str, Any], now: float) -> list[str]:
    """One model's (or deployment's) breaker, holds, limits and availability, in words."""
    b = m["breaker"]
    parts = [f"breaker {b['state']}"]
    if b["state"] != "closed":
        parts.append(f"probe in {b['open_for']:.0f}s")
    if b["consecutive_failures"]:
        parts.append(f"{b['consecutive_failures']} failures in a row")
    if not m.get("holds_known", True):
        parts.append("holds unknown (state backend unreachable)")
    for label, key in (("Retry-After", "retry_after_until"), ("open", "open_until")):
        if m[key]:
            parts.append(f"{label} hold {max(m[key] - now, 0):.0f}s")
    if m["limits"]:
        parts.append("limits: " + "; ".join(m["limits"]))
    if not m["available"]:
        parts.append(f"unavailable: {m['reason']}")
    return parts


def cmd_report(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.spec import load_spec
    from router.telemetry.ledger import SQLiteLedger
    from router.telemetry.report import parse_since, summarize
    from router.telemetry.report_format import format_table, to_json

    path = args.ledger
    try:
        if path is None:
            spec = load_spec(args.config or default_config())
            ledger_cfg = spec.telemetry.get("ledger")
            path = ledger_cfg.get("path") if isinstance(ledger_cfg, dict) else None
            if path is None:
                raise RequestError(
                    "no ledger file: the spec keeps its ledger in memory (per process); "
                    "set telemetry.ledger.path or pass --ledger FILE"
                )
        since = parse_since(args.since) if args.since else None
        ledger = SQLiteLedger(path, readonly=True)
    except FileNotFoundError:
        stderr.write(f"router report: no ledger at {path}\n")
        return EXIT_USAGE
    except ValueError as exc:
        return report_error(RequestError(str(exc)), stderr)
    except (RouterError, OSError) as exc:
        return report_error(exc, stderr)
    try:
        report = summarize(ledger, since=since)
    finally:
        ledger.close()
    if args.format == "json":
        stdout.write(json.dumps(to_json(report), indent=2) + "\n")
    else:
        stdout.write(format_table(report) + "\n")
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.simulate import format_report, run_simulation, to_json

    try:
        rate = None if args.rate == "burst" else float(args.rate)
        report = run_simulation(
            args.config or default_config(),
            requests=args.requests,
            faults=args.faults,
            concurrency=args.concurrency,
            seed=args.seed,
            progress=stderr,
            force_progress=args.progress,
            mix=args.mix,
            stream_share=args.stream_share,
            rate=rate,
            model_latency=not args.no_model_latency,
            prompts=args.prompts,
        )
    except ConfigError as exc:
        stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except (ValueError, OSError) as exc:
        stderr.write(f"router simulate: {exc}\n")
        return EXIT_USAGE
    if args.format == "json":
        stdout.write(to_json(report) + "\n")  # already JSON text
    else:
        stdout.write(format_report(report) + "\n")
    return int(report.exit_code)
