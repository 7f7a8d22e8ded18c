"""What provider parameters cost a request: ``Router.acomplete`` end to end with the adapter
stubbed (no I/O: the engine's own CPU), on a two-model chain whose models declare
``service_tier`` and ``top_k``, for

- a call that sets no provider parameter (every call before this feature; the figure to
  compare with the same script run on an older checkout, which lacks the other rows);
- a call that sets two (``service_tier`` and ``top_k``, checked against both models);
- a call whose task sets one in the spec's ``params`` (merged, nothing checked per call).

    .venv/bin/python bench/bench_params.py            # best of 5 batches of 20,000 calls
    .venv/bin/python bench/bench_params.py --n 5000

Prints CPU µs per call (``time.process_time``), best of the batches.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from typing import Any

SPEC = """\
version: 1
providers:
  p: {type: openai, base_url: "http://127.0.0.1:9/v1", api_key_env: K, local: true%(decl)s}
models:
  a: {provider: p, id: a}
  b: {provider: p, id: b}
tasks:
  plain: {candidates: [a], fallback: [b]}
%(task)s"""
DECLARED = ", extra_params: {service_tier: , top_k: {type: integer, min: 0}}"
SPEC_PARAM = "  tiered: {candidates: [a], fallback: [b], params: {service_tier: flex}}\n"
MESSAGES = [{"role": "user", "content": "Summarize: the quick brown fox jumps over the lazy dog."}]


class _Stub:
    """An adapter that answers at once."""

    def __init__(self) -> None:
        from router.types import Response, Usage

        self.response = Response("ok", "stop", Usage(12, 8), "a", "a", "p", None, 0.0)

    def prepare(self) -> None:
        pass

    async def acomplete(self, request: Any) -> Any:
        return self.response

    def close(self) -> None:
        pass


async def _best(call: Any, n: int, batches: int) -> float:
    for _ in range(min(n, 500)):
        await call()
    best = float("inf")
    for _ in range(batches):
        c0 = time.process_time()
        for _ in range(n):
            await call()
        best = min(best, (time.process_time() - c0) / n * 1e6)
    return best


async def main(n: int, batches: int) -> None:
    from router import Router
    from router.specmodel import Params

    featured = "extra" in Params.__dataclass_fields__
    text = (
        SPEC % {"decl": DECLARED, "task": SPEC_PARAM}
        if featured
        else SPEC % {"decl": "", "task": ""}
    )
    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    stub = _Stub()
    router = Router.from_yaml(path, environ={"K": "sk-x"}, adapter_factory=lambda *_: stub)
    os.unlink(path)
    cases: dict[str, Any] = {
        "no provider parameter": lambda: router.acomplete("plain", messages=MESSAGES)
    }
    if featured:
        cases["two per call (service_tier, top_k)"] = lambda: router.acomplete(
            "plain", messages=MESSAGES, service_tier="flex", top_k=40
        )
        cases["one from the task's params"] = lambda: router.acomplete("tiered", messages=MESSAGES)
    for label, call in cases.items():
        print(f"{label:<40} {await _best(call, n, batches):7.1f} µs CPU/call")
    router.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000, help="calls per batch")
    ap.add_argument("--batches", type=int, default=5, help="batches; the best one is printed")
    args = ap.parse_args()
    asyncio.run(main(args.n, args.batches))
