"""What the guardrails cost on the request path: the engine with its adapter stubbed (no I/O), so
the figures are the router's own work, without guardrails and with ``pii`` + ``secrets``.

    .venv/bin/python bench/bench_guardrails_path.py                 # ~1 min on 2 cores
    .venv/bin/python bench/bench_guardrails_path.py --baseline-src /tmp/base   # + the base

Cases (``Router.acomplete``, ``Router.complete``, and ``astream`` of a 20-chunk answer):

- ``no guardrails``: a spec naming none: what every router without guardrails pays. With
  ``--baseline-src DIR`` the same case also runs in fresh processes on this tree and on the
  code in DIR (the commit before the guardrails ran on the request path: ``git archive 6280a5c
  router | tar -x -C /tmp/base``), alternated ``--rounds`` times, medians shown;
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

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The same measure and stubbed answer as the overhead and hooks benches.
from bench_hooks import _per_sync_call  # noqa: E402
from bench_overhead import _per_call, _stub_response  # noqa: E402

SHORT = [{"role": "user", "content": "Summarize: the quick brown fox jumps over the lazy dog."}]

SPEC = """\
version: 1
providers:
  fake: {type: openai, base_url: "http://127.0.0.1:9/v1", api_key_env: BENCH_KEY, local: true}
models:
  primary: {provider: fake, id: fake-model, capabilities: [streaming]}
  backup: {provider: fake, id: fake-backup, capabilities: [streaming]}
tasks:
  plain: {candidates: [primary], fallback: [backup]}
"""
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
    median = found[150]
    out = [{"role": m.role, "content": m.text} for m in median]
    out[-1]["content"] += " Write to ana.lopez@example.com about it."
    return out


class _Stub:
    """An adapter that answers at once, with two placeholders in its answer (one split over
    three chunks in the stream): what a masked request's answer holds."""

    def __init__(self) -> None:
        from dataclasses import replace

        from router.types import Chunk

        self.response = replace(_stub_response(), content="Sure: <EMAIL_1> and <EMAIL_1> again.")
        words = [f" w{i}" for i in range(14)] + [" <", "EMAIL_1", ">", " and", " <EMAIL_1>"]
        chunks = [Chunk(delta=w, model="primary", provider="fake") for w in words]
        last = Chunk(delta=".", model="primary", provider="fake", finish_reason="stop")
        self.chunks = [*chunks, last]

    def prepare(self) -> None:
        pass

    def complete(self, request: Any) -> Any:
        return self.response

    async def acomplete(self, request: Any) -> Any:
        return self.response

    async def astream(self, request: Any) -> AsyncIterator[Any]:
        for chunk in self.chunks:
            yield chunk


def _router(spec: str) -> Any:
    from router import Router

    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(spec)
    stub = _Stub()
    try:
        return Router.from_yaml(
            path, environ={"BENCH_KEY": "sk-bench"}, adapter_factory=lambda *_: stub
        )
    finally:
        os.unlink(path)


async def _drain(router: Any, task: str, messages: Any) -> None:
    async for _ in router.astream(task, messages=messages):
        pass


async def measure(n: int, baseline_only: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    async def row(case: str, router: Any, task: str, messages: Any) -> None:
        cpu, wall = await _per_call(lambda: router.acomplete(task, messages=messages), n)
        scpu, swall = _per_sync_call(lambda: router.complete(task, messages=messages), n)
        stream_cpu, stream_wall = await _per_call(lambda: _drain(router, task, messages), n // 2)
        rows.append(
            {
                "case": case,
                "acomplete_cpu_us": cpu,
                "acomplete_wall_us": wall,
                "complete_cpu_us": scpu,
                "complete_wall_us": swall,
                "astream_cpu_us": stream_cpu,
                "astream_wall_us": stream_wall,
            }
        )

    await row("no guardrails", _router(SPEC), "plain", SHORT)
    if baseline_only:
        return rows
    guarded = _router(GUARDED)
    await row("guardrails on another task", guarded, "plain", SHORT)
    typical = typical_request()
    await row("no guardrails, 4 KB request", _router(SPEC), "plain", typical)
    await row("pii + secrets, 4 KB request", guarded, "guarded", typical)
    rows.append(_check_alone(typical, n))
    return rows


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


def _fmt(v: Any) -> str:
    return f"{v:,.1f}" if isinstance(v, float) else "—"


def table(rows: list[dict[str, Any]]) -> str:
    cols = ("acomplete", "complete", "astream")
    head = "| case | " + " | ".join(f"{c} CPU µs | {c} wall µs" for c in cols) + " |"
    out = [head, "|---|" + "---:|" * (2 * len(cols))]
    for r in rows:
        cells = [_fmt(r.get(f"{c}_{k}_us")) for c in cols for k in ("cpu", "wall")]
        out.append(f"| {r['case']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def _worker(src: str, n: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(src)}
    out = subprocess.run(
        [sys.executable, __file__, "--worker", "--n", str(n)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    [row] = json.loads(out.stdout)
    return dict(row)


def compare(baseline: str, n: int, rounds: int) -> list[dict[str, Any]]:
    """``no guardrails`` on this tree and on ``baseline``, in fresh processes, alternated
    ``rounds`` times (the machine's drift falls on both alike): the median of each."""
    here = os.path.dirname(HERE)
    runs: dict[str, list[dict[str, Any]]] = {here: [], baseline: []}
    for _ in range(rounds):
        for src, found in runs.items():
            found.append(_worker(src, n))
    rows = []
    for src, found in runs.items():
        keys = [k for k in found[0] if k.endswith("_us")]
        row: dict[str, Any] = {k: statistics.median(r[k] for r in found) for k in keys}
        row["case"] = f"no guardrails, {'this tree' if src == here else src} (median of {rounds})"
        rows.append(row)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=2000, help="calls per batch (default 2000)")
    p.add_argument(
        "--baseline-src",
        metavar="DIR",
        help="also measure 'no guardrails' on the router package in DIR (another checkout), "
        "alternating fresh processes with this tree's",
    )
    p.add_argument("--rounds", type=int, default=5, help="alternations for --baseline-src")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(measure(args.n, baseline_only=True))))
        return
    started = time.perf_counter()
    rows = asyncio.run(measure(args.n))
    if args.baseline_src:
        rows[1:1] = compare(args.baseline_src, args.n, args.rounds)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, N={args.n}")
    print(table(rows))
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
