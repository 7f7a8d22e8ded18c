"""The acceptance proof: a limit holds under 1,000 concurrent callers, in one process (threads
and asyncio tasks, fake clock, both backends) and across four processes sharing one Redis."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from router.state import StateBackend

from .helpers import FakeClock, RedisServer, fire, windows_ok

#: "60 per minute", paced: interval = 60 / 60 s, burst 1 (see router/state/gcra.py).
PER_MINUTE_60 = {"cost": 1, "interval": 1.0, "burst": 1}
WORKER = Path(__file__).with_name("gcra_worker.py")


def test_a_thousand_threads_get_60_per_minute_over_a_simulated_two_minutes(
    backend: StateBackend, clock: FakeClock
) -> None:
    admitted: list[float] = []
    refused: list[tuple[float, float]] = []

    def call() -> tuple[float, float]:
        now = clock.now  # the main thread moves the clock only between batches
        return now, backend.acquire("rpm", **PER_MINUTE_60, now=now)

    start = clock.now
    with ThreadPoolExecutor(32) as pool:
        batches = [fire(pool, 1000, call)]  # 1,000 at one instant
        while clock.now < start + 120:
            clock.advance(0.25)
            batches.append(fire(pool, 8, call))  # and a steady stream afterwards
    for now, wait in (result for batch in batches for result in batch):
        (admitted.append(now) if wait == 0.0 else refused.append((now, wait)))

    assert sum(1 for t in admitted if t == start) == 1
    assert windows_ok(admitted, width=60.0, limit=60)
    # Exactly one call per whole second got through, and every other caller was told how
    # long to wait: until the next whole second.
    assert admitted == [start + s for s in range(121)]
    assert all(wait > 0 for _, wait in refused)
    for now, wait in refused:
        assert now + wait == pytest.approx(start + int(now - start) + 1)


def test_a_thousand_tasks_at_one_instant_admit_exactly_the_burst(
    backend: StateBackend, clock: FakeClock
) -> None:
    async def main() -> list[float]:
        try:
            calls = (
                backend.aacquire("rpm", cost=1, interval=1.0, burst=5, now=clock.now)
                for _ in range(1000)
            )
            return list(await asyncio.gather(*calls))
        finally:
            await backend.aclose()

    waits = asyncio.run(main())
    assert waits.count(0.0) == 5
    assert all(w > 0 for w in waits if w != 0.0)


def test_four_processes_sharing_redis_admit_exactly_the_burst(
    redis_server: RedisServer, redis_client: object
) -> None:
    env = {
        **os.environ,
        "STATE_URL": redis_server.url,
        "STATE_PREFIX": "test:procs:",
        "STATE_CALLERS": "250",
        "PYTHONPATH": os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")]),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER)],
            env={**env, "STATE_STYLE": style},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for style in ("threads", "asyncio", "threads", "asyncio")
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line == "ready\n", proc.communicate(timeout=10)[1]
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=30) for proc in procs]
    finally:
        for proc in procs:
            proc.kill() if proc.poll() is None else None
    for proc, (_, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr
    reports = [json.loads(out) for out, _ in outputs]

    # 1,000 calls on each limit, all within far less than one 60 s interval.
    assert sum(r["wide"]["admitted"] for r in reports) == 60
    assert sum(r["narrow"]["admitted"] for r in reports) == 1
    for name in ("wide", "narrow"):
        waits = [w for r in reports for w in r[name]["refused_waits"]]
        assert len(waits) == 1000 - (60 if name == "wide" else 1)
        assert all(0 < w <= 60.0 for w in waits)
