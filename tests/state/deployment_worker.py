"""One of the processes of the shared-deployments test (run by test_deployments_shared.py, not
by pytest): builds a Router from ``ROUTES`` (its state on Redis at ``REDIS_URL``), says
"ready", waits for "go" on stdin, then sends ``CALLS`` concurrent requests (``STYLE``: threads
or asyncio) and prints, as JSON, which deployment (or fallback model) answered each.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from router import Router


def main() -> None:
    environ = {"REDIS_URL": os.environ["REDIS_URL"], "SANDBOX_API_KEY": "sk-test"}
    router = Router.from_yaml(os.environ["ROUTES"], environ=environ)
    calls = int(os.environ["CALLS"])
    router.health()  # connect to Redis before the start line
    print("ready", flush=True)
    sys.stdin.readline()

    def one(_: int) -> str:
        r = router.complete("default", prompt="hi")
        return f"{r.model}/{r.deployment}"

    async def many() -> list[str]:
        answers = await asyncio.gather(
            *(router.acomplete("default", prompt="hi") for _ in range(calls))
        )
        await router.aclose()
        return [f"{r.model}/{r.deployment}" for r in answers]

    if os.environ["STYLE"] == "threads":
        with ThreadPoolExecutor(16) as pool:
            served = list(pool.map(one, range(calls)))
    else:
        served = asyncio.run(many())
    print(json.dumps(Counter(served)), flush=True)
    router.close()


if __name__ == "__main__":
    main()
