"""What the guardrails cost on the request path: the engine with its adapter stubbed (no I/O), so
the figures are the router's own work, without guardrails and with ``pii`` + ``secrets``.

    .venv/bin/python bench/bench_guardrails_path.py                 # ~1 min on 2 cores
    .venv/bin/python bench/bench_guardrails_path.py --baseline-src /tmp/base   # + the base

Cases (``Router.acomplete``, ``Router.complete``, and ``astream`` of a 20-chunk answer):

- ``no guardrails``: a spec naming none: what every router without guardrails pays. With
  ``--baseline-src DIR`` the same case also runs in fresh processes on this tree and on the
  code in DIR (the commit before the guardrails ran on the request path: ``git archive 6280a5c
  router | tar -x -C /tmp/base``), alternated ``--rounds`` times, medians shown (the hooks
  bench's worker: its "no hooks" spec has no guardrails either);
- ``guardrails on another task``: the spec names guardrails, the task called has none;
- ``no guardrails, 4 KB request`` and ``pii + secrets, 4 KB request``: a typical chat request
  (the median-sized one of bench_guardrails.py's generator: 4 messages, 4,0xx characters, one
  e-mail address), masked on the way out; the answer (and each stream) holds two placeholders
  to restore, one split over three chunks;
- ``the check alone``: ``Guardrails.check`` on the same messages, outside the engine.

Each figure is the best of 3 batches of N calls: CPU µs per call (``time.process_time``, all
threads of the process) and wall µs per call.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The hooks bench's measure, stub, router and baseline comparison: its "no hooks" case is a
# spec with neither hooks nor guardrails, the same as "no guardrails" here.
from bench_hooks import (  # noqa: E402
    SPEC,
    _per_sync_call,
    _router,
    _Stub,
    compare,
    measure_row,
    options,
    table,
)

GUARDED = (
    SPEC + "  guarded: {candidates: [primary], fallback: [backup], guardrails: [pii, secrets]}\n"
)


def typical_request() -> list[dict[str, str]]:
    """The median-sized request of bench_guardrails.py's generator, with one e-mail address."""
    from bench_guardrails import chat_request

    rng = random.Random(7)
    found = sorted(
        (chat_request(rng) for _ in range(301)), key=lambda ms: sum(len(m.text) for m in ms)
    )
    out = [{"role": m.role, "content": m.text} for m in found[150]]
    out[-1]["content"] += " Write to ana.lopez@example.com about it."
    return out


class _Masked(_Stub):
    """The stub's answers with two placeholders to restore (one split over three chunks in
    the stream): what the answer to a masked request holds."""

    def __init__(self) -> None:
        from dataclasses import replace

        from router.types import Chunk

        super().__init__()
        self.response = replace(self.response, content="Sure: <EMAIL_1> and <EMAIL_1> again.")
        words = [f" w{i}" for i in range(14)] + [" <", "EMAIL_1", ">", " and", " <EMAIL_1>"]
        chunks = [Chunk(delta=w, model="primary", provider="fake") for w in words]
        last = Chunk(delta=".", model="primary", provider="fake", finish_reason="stop")
        self.chunks = [*chunks, last]


async def measure(n: int) -> list[dict[str, Any]]:
    guarded = _router(GUARDED, None, _Masked())
    typical = typical_request()
    return [
        await measure_row("no guardrails", _router(SPEC, None), "plain", n),
        await measure_row("guardrails on another task", guarded, "plain", n),
        await measure_row("no guardrails, 4 KB request", _router(SPEC, None), "plain", n, typical),
        await measure_row("pii + secrets, 4 KB request", guarded, "guarded", n, typical),
        _check_alone(typical, n),
    ]


def _check_alone(typical: list[dict[str, str]], n: int) -> dict[str, Any]:
    from router.guardrails import Guardrails, Pii, Secrets
    from router.messages import coerce_messages

    guardrails = Guardrails([Pii(), Secrets()])
    messages = coerce_messages(typical)
    cpu, wall = _per_sync_call(lambda: guardrails.check(messages), n)
    return {
        "case": "pii + secrets, the check alone",
        "complete_cpu_us": cpu,
        "complete_wall_us": wall,
    }


def main() -> None:
    args = options(__doc__ or "", "no guardrails").parse_args()
    started = time.perf_counter()
    rows = asyncio.run(measure(args.n))
    if args.baseline_src:
        rows[1:1] = compare(args.baseline_src, args.n, args.rounds, label="no guardrails")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, N={args.n}")
    print(table(rows))
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
