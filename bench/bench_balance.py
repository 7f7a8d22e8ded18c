"""What spreading a model over its deployments costs per request (issue 11).

    .venv/bin/python bench/bench_balance.py            # ~20 s
    .venv/bin/python bench/bench_balance.py --n 50000

Prints two tables:

1. **Selection**: ``Pool.first(now)`` (what a request's walk calls once, when the model's turn
   comes: the strategy's choice; the others are ordered, ``Pool.rest``, only if that one
   fails) for a model of 8 deployments, per strategy, plus a session bound by sticky routing,
   the whole order, and the one-deployment path (a model without ``deployments`` never calls
   a strategy). CPU µs per call, best of 3 batches of N; the figures a strategy reads are
   in-process.
2. **Engine, stub adapter**: ``Router.acomplete`` end to end with every adapter replaced by a
   stub that answers at once (as ``bench_overhead.py``'s "engine, stub adapter" row), for the
   bench chain with its first model served by 1 deployment and by 8: everything the router
   does around the HTTP call, so the difference is what deployments add to a request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from random import Random
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bench_overhead import FAKE_KEY, MESSAGES, _per_call, _Stub, routes_yaml  # noqa: E402


def _targets(n: int) -> list[Any]:
    from router.nodes.load import Live
    from router.providers.registry import profile_of
    from router.routing.call import Target
    from router.specmodel import ModelSpec

    model = ModelSpec(name="m", provider="fake", id="m-1")
    out = []
    for i in range(n):
        live = Live()
        live.observe(0.5 + i / 10)
        live.booked("rpm", 100.0 + i, 60.0)
        out.append(
            Target(
                model,
                "fake",
                None,  # type: ignore[arg-type]
                profile_of("openai"),
                deployment=f"d{i}",
                key=f"m/d{i}",
                weight=1.0 + i % 3,
                live=live,
            )
        )
    return out


def _best(fn: Callable[[], Any], n: int) -> float:
    """CPU µs per call, best of 3 batches of ``n``."""
    for _ in range(min(n, 1000)):
        fn()
    best = float("inf")
    for _ in range(3):
        c0 = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - c0) / n * 1e6)
    return best


def selection(n: int) -> list[tuple[str, float]]:
    from router.routing.balance import STRATEGIES, Pool

    rows = []
    now = 100.0
    for name, strategy in STRATEGIES.items():
        pool = Pool("m", _targets(8), strategy, Random(1).random, name)
        rows.append((f"8 deployments, {name}", _best(lambda p=pool: p.first(now), n)))
    pool = Pool("m", _targets(8), STRATEGIES["weighted"], Random(1).random, "weighted")
    pool.bind("conversation-42", pool.targets[5])
    rows.append(
        (
            "8 deployments, weighted, sticky session",
            _best(lambda: pool.first(now, "conversation-42"), n),
        )
    )
    rows.append(
        ("8 deployments, weighted, whole order (first + rest)", _best(lambda: pool.order(now), n))
    )
    held = Pool("m", _targets(8), STRATEGIES["weighted"], Random(1).random, "weighted")
    for t in held.targets[:4]:
        t.live.hold(1e9)
    rows.append(("8 deployments, weighted, 4 held", _best(lambda: held.first(now), n)))
    single = Pool("m", _targets(1), STRATEGIES["weighted"], Random(1).random, "weighted")
    rows.append(("1 deployment, whole order", _best(lambda: single.order(now), n)))
    return rows


def _eight(text: str) -> str:
    """The bench chain with ``primary`` served by 8 deployments (8 base URLs)."""
    urls = ", ".join(f'"http://127.0.0.{i + 10}:9/v1"' for i in range(8))
    return text.replace(
        "    id: fake-model\n",
        f"    id: fake-model\n    base_urls: [{urls}]\n",
        1,
    )


async def engine(n: int) -> list[tuple[str, float]]:
    from router import Router

    rows = []
    for label, text in (
        ("1 deployment", routes_yaml("openai", "http://127.0.0.1:9")),
        ("8 deployments, weighted", _eight(routes_yaml("openai", "http://127.0.0.1:9"))),
        (
            "8 deployments, least_busy",
            _eight(routes_yaml("openai", "http://127.0.0.1:9")).replace(
                "    base_urls:", "    balance: least_busy\n    base_urls:", 1
            ),
        ),
    ):
        fd, path = tempfile.mkstemp(suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        stub = _Stub()
        r = Router.from_yaml(
            path, environ={"BENCH_FAKE_KEY": FAKE_KEY}, adapter_factory=lambda *_, stub=stub: stub
        )
        os.unlink(path)
        cpu, _ = await _per_call(lambda r=r: r.acomplete("summarize", messages=MESSAGES), n)
        served = {(await r.acomplete("summarize", messages=MESSAGES)).deployment for _ in range(64)}
        rows.append((f"{label} ({len(served)} reached)", cpu))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="calls per batch (selection)")
    ap.add_argument("--engine-n", type=int, default=5_000, help="calls per batch (engine)")
    a = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("| selection (Pool.first) | CPU µs/request |\n|---|---:|")
    for label, us in selection(a.n):
        print(f"| {label} | {us:.2f} |")
    print("\n| engine, stub adapter (Router.acomplete, memory) | CPU µs/request |\n|---|---:|")
    for label, us in asyncio.run(engine(a.engine_n)):
        print(f"| {label} | {us:.1f} |")


if __name__ == "__main__":
    main()
