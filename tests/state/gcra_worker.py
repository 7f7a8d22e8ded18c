"""One of the processes of the cross-process limit test (run by test_concurrency.py, not by
pytest): connects, says "ready", waits for "go" on stdin, then makes ``STATE_CALLERS``
concurrent acquire() calls on each of two limits and prints what it saw as JSON.

Environment: STATE_URL, STATE_PREFIX, STATE_CALLERS, STATE_STYLE ("threads" or "asyncio").
Limits use the Redis server's TIME (no ``now``): processes share no fake clock.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from router.state.redis import RedisBackend

#: "60 per hour, all of it at once" and "1 per minute": both far longer than the run.
LIMITS = {"wide": {"interval": 60.0, "burst": 60}, "narrow": {"interval": 60.0, "burst": 1}}


def main() -> None:
    # A generous timeout: this test is about exactness, and a loaded CI machine can take a
    # while to open a hundred connections at once.
    backend = RedisBackend(
        os.environ["STATE_URL"], key_prefix=os.environ["STATE_PREFIX"], connect_timeout=10.0
    )
    callers = int(os.environ["STATE_CALLERS"])
    style = os.environ["STATE_STYLE"]
    backend.health()  # connect before the start line, so that all processes start together
    print("ready", flush=True)
    sys.stdin.readline()

    def call(name: str) -> float:
        return backend.acquire(name, cost=1, **LIMITS[name])

    async def acall(name: str) -> float:
        return await backend.aacquire(name, cost=1, **LIMITS[name])

    async def agather() -> list[tuple[str, float]]:
        names = [name for name in LIMITS for _ in range(callers)]
        waits = await asyncio.gather(*(acall(name) for name in names))
        await backend.aclose()
        return list(zip(names, waits, strict=True))

    if style == "threads":
        names = [name for name in LIMITS for _ in range(callers)]
        with ThreadPoolExecutor(32) as pool:
            results = list(zip(names, pool.map(call, names), strict=True))
    else:
        results = asyncio.run(agather())
    report = {
        name: {
            "admitted": sum(1 for n, w in results if n == name and w == 0.0),
            "refused_waits": [w for n, w in results if n == name and w != 0.0],
        }
        for name in LIMITS
    }
    print(json.dumps(report), flush=True)
    backend.close()


if __name__ == "__main__":
    main()
