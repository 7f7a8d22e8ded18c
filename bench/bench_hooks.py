"""What hooks cost per request: the engine with its adapter stubbed (no I/O), so the figures are
the router's own work, without hooks and with one trivial hook of each kind.

    .venv/bin/python bench/bench_hooks.py                       # ~1 min on 2 cores
    .venv/bin/python bench/bench_hooks.py --baseline-src /work/main   # + main, no hooks

Cases (``Router.acomplete`` and ``Router.complete``, and ``astream`` of a 20-chunk answer):

- ``no hooks``: a spec without hooks, a Router given none: what every router without hooks
  pays. With ``--baseline-src DIR`` the same case also runs in fresh processes on this tree
  and on the code in DIR (e.g. the commit before hooks existed: ``git archive BASE router |
  tar -x -C /tmp/base``), alternated ``--rounds`` times, medians shown: the difference is
  what hooks cost a router that does not use them;
- ``hooks registered, none on the task``: the spec names a hook on another task;
- ``one sync before hook`` (a plain ``def``: a worker thread per call), ``one async before
  hook`` (an ``async def`` on the loop; on ``complete``, a private loop in a worker thread),
  ``one sync before+after hook``; on streams ``one sync after_chunk hook`` (a thread hop per
  chunk), ``one async after_chunk hook`` and ``one inline sync after_chunk hook``
  (``Hook.inline``: on the event loop, no thread hop).

Each figure is the best of 3 batches of N calls: CPU µs per call (``time.process_time``, all
threads of the process) and wall µs per call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The same measure (best of 3 batches) and the same stubbed answer as the overhead bench.
from bench_overhead import _per_call, _stub_response  # noqa: E402

MESSAGES = [{"role": "user", "content": "Summarize: the quick brown fox jumps over the lazy dog."}]

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
HOOKED = SPEC + "  hooked: {candidates: [primary], fallback: [backup], hooks: [h]}\n"


class _Stub:
    """An adapter that answers at once: a Response, or a stream of 20 chunks."""

    def __init__(self) -> None:
        from router.types import Chunk

        self.response = _stub_response()
        words = [Chunk(delta=f" w{i}", model="primary", provider="fake") for i in range(19)]
        last = Chunk(delta=".", model="primary", provider="fake", finish_reason="stop")
        self.chunks = [*words, last]

    def prepare(self) -> None:
        pass

    def complete(self, request: Any) -> Any:
        return self.response

    async def acomplete(self, request: Any) -> Any:
        return self.response

    async def astream(self, request: Any) -> AsyncIterator[Any]:
        for chunk in self.chunks:
            yield chunk


def _router(spec: str, hooks: dict[str, object] | None, stub: Any = None) -> Any:
    from router import Router

    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(spec)
    stub = stub if stub is not None else _Stub()
    options: dict[str, Any] = {"adapter_factory": lambda *_: stub}
    if hooks is not None:
        options["hooks"] = hooks
    try:
        return Router.from_yaml(path, environ={"BENCH_KEY": "sk-bench"}, **options)
    finally:
        os.unlink(path)


def _per_sync_call(fn: Callable[[], Any], n: int) -> tuple[float, float]:
    for _ in range(min(n, 200)):
        fn()
    best_cpu = best_wall = float("inf")
    for _ in range(3):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            fn()
        best_cpu = min(best_cpu, (time.process_time() - c0) / n * 1e6)
        best_wall = min(best_wall, (time.perf_counter() - w0) / n * 1e6)
    return best_cpu, best_wall


def _hooks() -> dict[str, dict[str, object]]:
    """The trivial hooks measured, by case."""

    def before(ctx: Any) -> None:
        return None

    async def abefore(ctx: Any) -> None:
        return None

    class Both:
        def before(self, ctx: Any) -> None:
            return None

        def after(self, ctx: Any, response: Any) -> None:
            return None

    class Chunks:
        def after_chunk(self, ctx: Any, chunk: Any) -> None:
            return None

    class AChunks:
        async def after_chunk(self, ctx: Any, chunk: Any) -> None:
            return None

    class InlineChunks(Chunks):
        inline = True

    return {
        "one sync before hook": {"h": before},
        "one async before hook": {"h": abefore},
        "one sync before+after hook": {"h": Both()},
        "one sync after_chunk hook": {"h": Chunks()},
        "one async after_chunk hook": {"h": AChunks()},
        "one inline sync after_chunk hook": {"h": InlineChunks()},
    }


async def _drain(router: Any, task: str, messages: Any = MESSAGES) -> None:
    async for _ in router.astream(task, messages=messages):
        pass


async def measure_row(
    case: str, router: Any, task: str, n: int, messages: Any = MESSAGES
) -> dict[str, Any]:
    """One case: ``acomplete``, ``complete`` and a drained ``astream``, CPU and wall µs."""
    cpu, wall = await _per_call(lambda: router.acomplete(task, messages=messages), n)
    scpu, swall = _per_sync_call(lambda: router.complete(task, messages=messages), n)
    stream_cpu, stream_wall = await _per_call(lambda: _drain(router, task, messages), n // 2)
    return {
        "case": case,
        "acomplete_cpu_us": cpu,
        "acomplete_wall_us": wall,
        "complete_cpu_us": scpu,
        "complete_wall_us": swall,
        "astream_cpu_us": stream_cpu,
        "astream_wall_us": stream_wall,
    }


async def measure(n: int, baseline_only: bool = False) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    async def row(case: str, router: Any, task: str) -> None:
        rows.append(await measure_row(case, router, task, n))

    await row("no hooks", _router(SPEC, None), "plain")
    if baseline_only:
        return rows
    hooks = _hooks()
    await row(
        "hooks registered, none on the task",
        _router(HOOKED, hooks["one sync before hook"]),
        "plain",
    )
    for case in ("one sync before hook", "one async before hook", "one sync before+after hook"):
        await row(case, _router(HOOKED, hooks[case]), "hooked")
    chunked = ("one sync after_chunk hook", "one async after_chunk hook")
    for case in (*chunked, "one inline sync after_chunk hook"):
        router = _router(HOOKED, hooks[case])
        cpu, wall = await _per_call(lambda router=router: _drain(router, "hooked"), n // 2)
        rows.append({"case": case + " (20 chunks)", "astream_cpu_us": cpu, "astream_wall_us": wall})
    return rows


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


def compare(baseline: str, n: int, rounds: int, label: str = "no hooks") -> list[dict[str, Any]]:
    """``no hooks`` (a spec with neither hooks nor guardrails: ``label`` names it) on this
    tree and on ``baseline``, in fresh processes, alternated ``rounds`` times (so the
    machine's drift falls on both alike): the median of each."""
    here = os.path.dirname(HERE)
    runs: dict[str, list[dict[str, Any]]] = {here: [], baseline: []}
    for _ in range(rounds):
        for src, found in runs.items():
            found.append(_worker(src, n))
    rows = []
    for src, found in runs.items():
        keys = [k for k in found[0] if k.endswith("_us")]
        row: dict[str, Any] = {k: statistics.median(r[k] for r in found) for k in keys}
        row["case"] = f"{label}, {'this tree' if src == here else src} (median of {rounds})"
        rows.append(row)
    return rows


def options(doc: str, case: str) -> argparse.ArgumentParser:
    """``--n``, ``--baseline-src`` (which measures ``case`` on another checkout too) and
    ``--rounds``."""
    p = argparse.ArgumentParser(description=doc.split("\n\n", maxsplit=1)[0])
    p.add_argument("--n", type=int, default=2000, help="calls per batch (default 2000)")
    p.add_argument(
        "--baseline-src",
        metavar="DIR",
        help=f"also measure '{case}' on the router package in DIR (another checkout), "
        "alternating fresh processes with this tree's",
    )
    p.add_argument("--rounds", type=int, default=5, help="alternations for --baseline-src")
    return p


def main() -> None:
    p = options(__doc__ or "", "no hooks")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(measure(args.n, baseline_only=True))))
        return
    rows = asyncio.run(measure(args.n))
    if args.baseline_src:
        rows[1:1] = compare(args.baseline_src, args.n, args.rounds)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, N={args.n}")
    print(table(rows))


if __name__ == "__main__":
    main()
