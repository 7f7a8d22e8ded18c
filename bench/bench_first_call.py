"""How long the event loop stalls during the first call of each provider (issue 9, item 5).

    .venv/bin/python bench/bench_first_call.py             # 5 fresh processes per provider
    .venv/bin/python bench/bench_first_call.py --reps 9 --providers openai,anthropic

The orchestrator runs the sandbox (on a thread of its own process) and, for each provider type
and repetition, a fresh worker process (``--worker TYPE --url URL``) that:

1. builds ``Router.from_yaml`` with one model on that provider (timed: ``build ms``);
2. in ``asyncio.run``, starts a ticker coroutine (``await asyncio.sleep(0)`` in a loop, taking
   the time at every wake-up) and awaits the first ``acomplete``: the longest gap between two
   ticks while the call runs is the loop's worst stall (``first call``); then a second call
   (``warm call``), the floor: a tick is never shorter than a trip around the loop;
3. runs ``asyncio.run`` a second time with the same Router and measures its first call the same
   way (``new loop``): a new loop needs a client of its own.

Then, in another fresh process per provider and repetition, ``--calls`` calls (1,000) at
``--concurrency`` (32) through a new Router, the first calls included: the p50/p99 latency of
a call from the moment it could start (the run's start for the first ``--concurrency`` calls,
then the end of the call whose slot it takes) to its answer, so calls held up behind a stalled
loop count their wait.

Each figure is the median over the repetitions, with the worst in brackets. Nothing else runs
in the worker process, so a gap is the router's own work on the loop thread.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

MESSAGES = [{"role": "user", "content": "Summarize: the quick brown fox jumps over the lazy dog."}]
KEY = "sk-bench-first-call"
PROVIDERS = ("openai", "anthropic", "openai_compatible")


def spec_text(kind: str, url: str) -> str:
    base = url if kind == "anthropic" else url + "/v1"
    return f"""
version: 1
providers:
  p:
    type: {kind}
    base_url: "{base}"
    api_key_env: BENCH_KEY
    local: true
models:
  m: {{provider: p, id: m1}}
tasks:
  summarize: {{candidates: [m]}}
"""


# -- worker ---------------------------------------------------------------------------------
async def _stall_during(call: Any) -> tuple[float, float]:
    """(the longest gap between two ticks of a ticker coroutine while ``call`` runs, the
    call's own duration), in seconds."""
    worst = 0.0
    running = True

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while running:
            await asyncio.sleep(0)
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # the ticker is running before the call starts
    start = time.perf_counter()
    await call()
    took = time.perf_counter() - start
    running = False
    await task
    return worst, took


def _router(kind: str, url: str) -> tuple[Any, float]:
    from router import Router

    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(spec_text(kind, url))
    start = time.perf_counter()
    router = Router.from_yaml(path, environ={"BENCH_KEY": KEY})
    build = time.perf_counter() - start
    os.unlink(path)
    return router, build


def burst_worker(kind: str, url: str, calls: int, concurrency: int) -> dict[str, float]:
    router, _ = _router(kind, url)
    latencies: list[float] = []

    async def main() -> None:
        gate = asyncio.Semaphore(concurrency)
        free = collections.deque([time.perf_counter()] * concurrency)  # when each slot freed

        async def one() -> None:
            async with gate:
                start = free.popleft()
                await router.acomplete("summarize", messages=MESSAGES)
                end = time.perf_counter()
                latencies.append(end - start)
                free.append(end)

        await asyncio.gather(*(one() for _ in range(calls)))
        await router.aclose()

    asyncio.run(main())
    cuts = statistics.quantiles(latencies, n=100)
    return {"p50": cuts[49], "p99": cuts[98]}


def worker(kind: str, url: str) -> dict[str, float]:
    router, build = _router(kind, url)

    def call() -> Any:
        return router.acomplete("summarize", messages=MESSAGES)

    async def first_loop() -> tuple[float, float, float]:
        first, took = await _stall_during(call)
        warm, _ = await _stall_during(call)
        return first, took, warm

    async def second_loop() -> float:
        stall, _ = await _stall_during(call)
        await router.aclose()
        return stall

    first, took, warm = asyncio.run(first_loop())
    again = asyncio.run(second_loop())
    router.close()
    return {"build": build, "first": first, "first_call": took, "warm": warm, "new_loop": again}


# -- orchestrator ---------------------------------------------------------------------------
def _fmt(values: list[float]) -> str:
    med = statistics.median(values) * 1000
    return f"{med:,.1f} [{max(values) * 1000:,.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--providers", default=",".join(PROVIDERS))
    parser.add_argument("--calls", type=int, default=1000, help="0: no burst run")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--burst", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.burst:
            result = burst_worker(args.worker, args.url, args.calls, args.concurrency)
        else:
            result = worker(args.worker, args.url)
        print(json.dumps(result))
        return

    from router.sandbox import Sandbox

    kinds = [k for k in args.providers.split(",") if k]
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    bursts: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}

    def run(kind: str, *extra: str) -> dict[str, float]:
        argv = [sys.executable, __file__, "--worker", kind, "--url", url, *extra]
        out = subprocess.run(argv, capture_output=True, text=True, check=True)
        result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
        return result

    with Sandbox(api_key=KEY) as sb:
        url = sb.openai_base_url.removesuffix("/v1")
        for _ in range(args.reps):
            for kind in kinds:
                rows[kind].append(run(kind))
                if args.calls:
                    burst = ("--burst", "--calls", str(args.calls))
                    bursts[kind].append(run(kind, *burst, "--concurrency", str(args.concurrency)))
    print(f"worst event-loop stall, ms: median [max] of {args.reps} fresh processes per provider\n")
    print(
        "| provider | Router build | first call: loop stall | first call took | "
        "warm call: loop stall | 2nd asyncio.run, first call: loop stall |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for kind, results in rows.items():
        cols = [
            _fmt([r[k] for r in results])
            for k in ("build", "first", "first_call", "warm", "new_loop")
        ]
        print(f"| {kind} | " + " | ".join(cols) + " |")
    if args.calls:
        print(
            f"\n{args.calls:,} calls at concurrency {args.concurrency} in a fresh process, "
            "first calls included: latency ms, median [max] over the repetitions\n"
        )
        print("| provider | p50 | p99 |\n|---|---:|---:|")
        for kind, results in bursts.items():
            p50, p99 = (_fmt([r[k] for r in results]) for k in ("p50", "p99"))
            print(f"| {kind} | {p50} | {p99} |")


if __name__ == "__main__":
    main()
