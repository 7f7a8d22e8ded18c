"""What a request costs the client: raw SDKs, `router` and LiteLLM against a local fake server.

    .venv/bin/python bench/bench_overhead.py                 # the full run (~4 min on 2 cores)
    .venv/bin/python bench/bench_overhead.py --quick         # one repetition, fewer requests
    .venv/bin/python bench/bench_overhead.py --litellm-python /tmp/venv-litellm/bin/python

The orchestrator starts ``bench/fakeserver.py`` once, then runs every (repetition × target ×
mode × concurrency) in a fresh worker subprocess, repetitions interleaved (and the target order
rotated) so drift of the machine spreads over all targets. A worker sets its client up, checks
one answer, warms up at the measured concurrency, then measures a window of N calls driven by
C asyncio tasks:

- client CPU µs/req: ``getrusage(RUSAGE_SELF)`` user+sys over the window (plus 0.2 s after it,
  so background work is counted) divided by N — the headline figure;
- req/s (N / window wall time), p50/p99 latency; the server's own CPU per request (from its
  ``/stats``), which must stay far below the clients'.

Targets (``--targets``): ``openai`` and ``anthropic`` (the raw async SDK clients, the floors),
``router-openai`` and ``router-anthropic`` (``Router.acomplete`` / ``Router.astream`` on a
two-model chain of that provider: cache off, rate limiter on with a limit it never reaches,
breakers on, no fault), and ``litellm`` (LiteLLM's Router on the same chain, run with the
interpreter of a separate venv: ``--litellm-python`` or ``$LITELLM_PYTHON``, default
``bench/.venv-litellm/bin/python``; skipped when there is none).

Also measured: ``import router`` (median of 5 fresh processes, and RSS), and the resilience
nodes' cost per call (limiter, cache hit, breaker; on memory, and on Redis with ``--redis-url``
or a ``redis-server`` started on a free port), and the engine's cost with the HTTP call stubbed.

Worker mode (internal): ``bench_overhead.py --worker TARGET --url URL ...``. The worker code
imports only the standard library at module level, so it runs in any venv.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MESSAGES = [{"role": "user", "content": "Summarize: the quick brown fox jumps over the lazy dog."}]
EXPECT = "fake completion"
FAKE_KEY = "sk-bench-fake"
TARGETS = ("openai", "anthropic", "router-openai", "router-anthropic", "litellm")
#: Which raw SDK each target is compared with.
BASELINE = {"router-openai": "openai", "router-anthropic": "anthropic", "litellm": "openai"}
#: LiteLLM costs 5-10x more per call: fewer calls give the same precision in less time.
SLOW = {"litellm": 4}

ROUTES = """\
version: 1
description: bench chain ({api}); the fallback never fires (no fault)
providers:
  fake:
    type: {api}
    base_url: {base}
    api_key_env: BENCH_FAKE_KEY
    local: true
    limits: {{requests_per_minute: 100000000}}   # the limiter runs, and never refuses
models:
  primary:
    provider: fake
    id: {model}
    pricing: {{input: 0.15, output: 0.60}}
    capabilities: [streaming]
  backup:
    provider: fake
    id: {model}-backup
    pricing: {{input: 0.15, output: 0.60}}
    capabilities: [streaming]
tasks:
  summarize:
    candidates: [primary]
    fallback: [backup]
"""

Call = Callable[[], Awaitable[str]]


def routes_yaml(api: str, url: str) -> str:
    base = url + "/v1" if api == "openai" else url
    model = "fake-model" if api == "openai" else "claude-fake"
    return ROUTES.format(api=api, base=base, model=model)


# =============================================================================================
# Worker: one target, one mode, one concurrency
# =============================================================================================


async def _raw_openai(url: str, stream: bool) -> tuple[Call, Any]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url + "/v1", api_key=FAKE_KEY, max_retries=0)
    create = client.chat.completions.create

    async def call() -> str:
        r = await create(model="fake-model", messages=MESSAGES)
        return r.choices[0].message.content or ""

    async def call_stream() -> str:
        s = await create(
            model="fake-model",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        parts = []
        async for ch in s:
            if ch.choices and ch.choices[0].delta.content:
                parts.append(ch.choices[0].delta.content)
        return "".join(parts)

    return (call_stream if stream else call), client.close


async def _raw_anthropic(url: str, stream: bool) -> tuple[Call, Any]:
    from anthropic import AsyncAnthropic

    client = AsyncAnthropic(base_url=url, api_key=FAKE_KEY, max_retries=0)
    create = client.messages.create

    async def call() -> str:
        m = await create(model="claude-fake", max_tokens=256, messages=MESSAGES)
        return m.content[0].text

    async def call_stream() -> str:
        s = await create(model="claude-fake", max_tokens=256, messages=MESSAGES, stream=True)
        parts = []
        async for ev in s:
            if ev.type == "content_block_delta" and ev.delta.type == "text_delta":
                parts.append(ev.delta.text)
        return "".join(parts)

    return (call_stream if stream else call), client.close


async def _router(api: str, url: str, stream: bool) -> tuple[Call, Any]:
    from router import Router

    fd, path = tempfile.mkstemp(suffix=".yaml", prefix="bench-routes-")
    with os.fdopen(fd, "w") as f:
        f.write(routes_yaml(api, url))
    try:
        r = Router.from_yaml(path, environ={"BENCH_FAKE_KEY": FAKE_KEY})
    finally:
        os.unlink(path)

    async def call() -> str:
        res = await r.acomplete("summarize", messages=MESSAGES)
        return res.content

    async def call_stream() -> str:
        parts = []
        async for chunk in r.astream("summarize", messages=MESSAGES):
            parts.append(chunk.delta)
        return "".join(parts)

    return (call_stream if stream else call), r.aclose


async def _litellm(url: str, stream: bool) -> tuple[Call, Any]:
    import litellm
    from litellm import Router

    litellm.suppress_debug_info = True
    base = url + "/v1"
    model_list = [
        {
            "model_name": "primary",
            "litellm_params": {"model": "openai/fake-model", "api_base": base, "api_key": FAKE_KEY},
        },
        {
            "model_name": "backup",
            "litellm_params": {
                "model": "openai/fake-model-backup",
                "api_base": base,
                "api_key": FAKE_KEY,
            },
        },
    ]
    router = Router(model_list=model_list, fallbacks=[{"primary": ["backup"]}])

    async def call() -> str:
        r = await router.acompletion(model="primary", messages=MESSAGES)
        return str(r.choices[0].message.content)

    async def call_stream() -> str:
        s = await router.acompletion(model="primary", messages=MESSAGES, stream=True)
        parts = []
        async for ch in s:
            if ch.choices and ch.choices[0].delta.content:
                parts.append(ch.choices[0].delta.content)
        return "".join(parts)

    async def close() -> None:
        return None

    return (call_stream if stream else call), close


async def make_call(target: str, url: str, stream: bool) -> tuple[Call, Any]:
    if target == "openai":
        return await _raw_openai(url, stream)
    if target == "anthropic":
        return await _raw_anthropic(url, stream)
    if target in ("router-openai", "router-anthropic"):
        return await _router(target.split("-", 1)[1], url, stream)
    if target == "litellm":
        return await _litellm(url, stream)
    raise SystemExit(f"unknown target {target!r}")


async def run_batch(call: Call, n: int, conc: int) -> tuple[list[float], list[str]]:
    lat = [0.0] * n
    errors: list[str] = []
    nxt = 0
    pc = time.perf_counter

    async def worker() -> None:
        nonlocal nxt
        while nxt < n:
            i = nxt
            nxt += 1
            t0 = pc()
            try:
                await call()
            except Exception as e:
                errors.append(f"{type(e).__name__}: {e}"[:300])
            lat[i] = pc() - t0

    await asyncio.gather(*(worker() for _ in range(min(conc, n))))
    return lat, errors


def cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def server_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/stats", timeout=5) as r:
        stats: dict[str, Any] = json.loads(r.read())
        return stats


def pct(sorted_vals: list[float], q: float) -> float:
    k = min(len(sorted_vals) - 1, max(0, round(q * (len(sorted_vals) - 1))))
    return sorted_vals[k]


def versions(target: str) -> dict[str, str]:
    from importlib import metadata

    names = {
        "openai": ["openai", "httpx2"],
        "anthropic": ["anthropic", "httpx2"],
        "litellm": ["litellm", "openai", "httpx"],
    }.get(target, ["openai", "anthropic", "httpx2"])
    out = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(Exception):
            out[name] = metadata.version(name)
    return out


async def worker_main(a: argparse.Namespace) -> dict[str, Any]:
    head = {"target": a.worker, "mode": "stream" if a.stream else "json", "conc": a.concurrency}
    try:
        call, close = await make_call(a.worker, a.url, a.stream)
    except ImportError as e:
        return {**head, "skipped": f"ImportError: {e}"}
    first = await call()
    if EXPECT not in first:
        return {**head, "failed": f"unexpected first answer: {first!r}"[:300]}
    await run_batch(call, a.warmup, a.concurrency)
    await asyncio.sleep(0.2)
    s0 = server_stats(a.url)
    c0, w0 = cpu_s(), time.perf_counter()
    lat, errors = await run_batch(call, a.n, a.concurrency)
    w1 = time.perf_counter()
    await asyncio.sleep(0.2)  # background work caused by the window (logging tasks...) counts
    c1 = cpu_s()
    s1 = server_stats(a.url)
    out = await close()
    if asyncio.iscoroutine(out):
        await out
    lat.sort()
    served = max(1, s1["requests"] - s0["requests"] - 1)  # minus the /stats call itself
    return {
        **head,
        "n": a.n,
        "cpu_us": (c1 - c0) / a.n * 1e6,
        "rps": a.n / (w1 - w0),
        "p50_ms": pct(lat, 0.5) * 1e3,
        "p99_ms": pct(lat, 0.99) * 1e3,
        "errors": len(errors),
        "error_samples": errors[:3],
        "server_us": (s1["cpu_s"] - s0["cpu_s"]) / served * 1e6,
        "new_connections": s1["connections"] - s0["connections"] - 1,
        "versions": versions(a.worker),
    }


# =============================================================================================
# Node costs: the resilience nodes and the engine around a stub adapter (router's venv)
# =============================================================================================


def _stub_response() -> Any:
    from router.types import Response, Usage

    return Response(
        content="This is a fake completion.",
        finish_reason="stop",
        usage=Usage(12, 8),
        model="primary",
        model_id="fake-model",
        provider="fake",
        cost=None,
        latency_s=0.0,
    )


class _Stub:
    """An adapter (or inner node) that answers at once, without I/O."""

    def __init__(self) -> None:
        self.response = _stub_response()

    def prepare(self) -> None:  # nothing to import or build
        pass

    async def acomplete(self, request: Any) -> Any:
        return self.response


async def _per_call(fn: Callable[[], Awaitable[Any]], n: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per awaited call, best of 3 batches."""
    for _ in range(min(n, 200)):
        await fn()
    best_cpu = best_wall = float("inf")
    for _ in range(3):
        c0, w0 = time.process_time(), time.perf_counter()
        for _ in range(n):
            await fn()
        best_cpu = min(best_cpu, (time.process_time() - c0) / n * 1e6)
        best_wall = min(best_wall, (time.perf_counter() - w0) / n * 1e6)
    return best_cpu, best_wall


async def node_costs(n: int, redis_url: str | None) -> list[dict[str, Any]]:
    from router.nodes.breaker import BreakerNode, CircuitBreaker
    from router.nodes.cache import CacheNode
    from router.nodes.limiter import LimiterNode, limits_for
    from router.specmodel import BreakerPolicy, Limits
    from router.state import make_backend
    from router.types import Message, Request

    request = Request(
        model="primary",
        model_id="fake-model",
        provider="fake",
        messages=(Message("user", MESSAGES[0]["content"]),),
        max_tokens=256,
        temperature=0.0,
        cache_ttl=3600.0,
        cache_namespace="summarize",
    )
    backends = [("memory", make_backend("memory"))]
    if redis_url:
        backends.append(("redis", make_backend("redis", url=redis_url, key_prefix="bench:")))
    rows = []
    inner = _Stub()
    base_cpu, _ = await _per_call(lambda: inner.acomplete(request), n)
    for name, backend in backends:
        limits = limits_for("provider", "fake", Limits(requests_per_minute=100_000_000))
        limits += limits_for("model", "primary", Limits(tokens_per_minute=1_000_000_000))
        nodes = {
            "limiter (rpm + tpm)": LimiterNode(
                inner, backend, limits, model="primary", provider="fake", estimate=lambda r: 300
            ),
            "cache hit": CacheNode(inner, backend),
            "breaker (closed: check + record)": BreakerNode(
                inner,
                CircuitBreaker("primary", BreakerPolicy()),
                backend,
                model="primary",
                provider="fake",
            ),
        }
        for label, node in nodes.items():
            cpu, wall = await _per_call(lambda node=node: node.acomplete(request), n)
            rows.append({"node": label, "backend": name, "cpu_us": cpu - base_cpu, "wall_us": wall})
        await backend.aclose()
    return rows


async def engine_cost(n: int) -> list[dict[str, Any]]:
    """Router.acomplete end to end with the adapters stubbed: the engine's own cost."""
    from router import Router

    rows = []
    for api in ("openai", "anthropic"):
        fd, path = tempfile.mkstemp(suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            f.write(routes_yaml(api, "http://127.0.0.1:9"))
        stub = _Stub()
        r = Router.from_yaml(
            path, environ={"BENCH_FAKE_KEY": FAKE_KEY}, adapter_factory=lambda *_, stub=stub: stub
        )
        os.unlink(path)
        cpu, wall = await _per_call(lambda r=r: r.acomplete("summarize", messages=MESSAGES), n)
        rows.append(
            {
                "node": f"engine, stub adapter ({api} chain)",
                "backend": "memory",
                "cpu_us": cpu,
                "wall_us": wall,
            }
        )
    return rows


# =============================================================================================
# Orchestrator
# =============================================================================================


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(py: str) -> tuple[subprocess.Popen[str], str]:
    p = subprocess.Popen(
        [py, os.path.join(HERE, "fakeserver.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None
    line = p.stdout.readline()
    if not line.startswith("READY"):
        p.kill()
        raise SystemExit(f"fakeserver did not start: {line!r}")
    return p, f"http://127.0.0.1:{int(line.split()[1])}"


@contextlib.contextmanager
def redis_server(url: str | None, wanted: bool) -> Any:
    """The Redis to measure the nodes on: the given URL, or a throwaway redis-server."""
    if url or not wanted:
        yield url
        return
    exe = shutil.which("redis-server")
    if exe is None:
        yield None
        return
    port = free_port()
    p = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        p.terminate()
        p.wait(5)


def child_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(k, None)
    env.update(
        {
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no download of the cost map at import
            "LITELLM_LOG": env.get("LITELLM_LOG", "ERROR"),
            "OPENAI_API_KEY": FAKE_KEY,
            "ANTHROPIC_API_KEY": FAKE_KEY,
            "PYTHONPATH": ROOT + os.pathsep + env.get("PYTHONPATH", ""),
        }
    )
    return env


def run_worker(py: str, args: list[str], url: str, timeout: float) -> dict[str, Any]:
    cmd = [py, os.path.abspath(__file__), "--url", url, *args]
    try:
        cp = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(url),
            cwd=ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"failed": f"timeout after {timeout:.0f}s"}
    lines = [ln for ln in cp.stdout.splitlines() if ln.startswith(("{", "["))]
    if cp.returncode != 0 or not lines:
        return {"failed": f"rc={cp.returncode}: {(cp.stderr or cp.stdout)[-600:]}"}
    out: dict[str, Any] = json.loads(lines[-1]) if lines[-1][0] == "{" else {"rows": lines[-1]}
    return out


def measure_import(py: str, stmt: str, reps: int, env: dict[str, str]) -> dict[str, Any]:
    """``stmt`` (``import X``) timed inside fresh processes, and their peak RSS after it."""
    code = (
        f"import time,resource,sys\nt=time.perf_counter()\n{stmt}\n"
        "d=time.perf_counter()-t\n"
        "sys.stdout.write('%r %r' % (d, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))"
    )
    module = stmt
    run: dict[str, Any] = {"env": env, "cwd": ROOT, "capture_output": True, "text": True}
    subprocess.run([py, "-c", stmt], check=False, **run)  # warms the .pyc files
    times, rss = [], []
    for _ in range(reps):
        cp = subprocess.run([py, "-c", code], check=False, **run)
        if cp.returncode != 0:
            return {"module": module, "skipped": cp.stderr.strip().splitlines()[-1][:200]}
        t, r = cp.stdout.split()
        times.append(float(t) * 1e3)
        rss.append(int(r) / 1024)
    return {
        "module": module,
        "ms": statistics.median(times),
        "ms_all": times,
        "rss_mb": statistics.median(rss),
    }


def spread(vals: list[float]) -> tuple[float, float, float]:
    return statistics.median(vals), min(vals), max(vals)


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def summarize(results: list[dict[str, Any]]) -> tuple[str, dict[tuple[str, str, int], float]]:
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    notes = []
    for r in results:
        if "skipped" in r or "failed" in r:
            why = r.get("skipped") or r.get("failed")
            notes.append(f"- {r.get('target')} {r.get('mode')} c={r.get('conc')}: {why}")
            continue
        groups.setdefault((r["target"], r["mode"], r["conc"]), []).append(r)
    med = {k: spread([r["cpu_us"] for r in rs])[0] for k, rs in groups.items()}
    lines = [
        "| target | mode | conc | client CPU µs/req (median [min–max]) | vs | ratio "
        "| req/s | p50 ms | p99 ms | server µs/req | new conns | errors |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    order = {t: i for i, t in enumerate(TARGETS)}
    for key in sorted(groups, key=lambda k: (k[1], k[2], order.get(k[0], 99))):
        target, mode, conc = key
        rs = groups[key]
        cpu = spread([r["cpu_us"] for r in rs])
        base = BASELINE.get(target)
        ratio, vs = "", ""
        if base and (base, mode, conc) in med:
            vs = f"raw {base}"
            ratio = f"{cpu[0] / med[base, mode, conc]:.2f}×"
        cell = f"{fmt_int(cpu[0])} [{fmt_int(cpu[1])}–{fmt_int(cpu[2])}]"
        lines.append(
            f"| {target} | {mode} | {conc} | {cell}"
            f" | {vs} | {ratio} | {fmt_int(statistics.median(r['rps'] for r in rs))}"
            f" | {statistics.median(r['p50_ms'] for r in rs):.2f}"
            f" | {statistics.median(r['p99_ms'] for r in rs):.2f}"
            f" | {statistics.median(r['server_us'] for r in rs):.0f}"
            f" | {statistics.median(r['new_connections'] for r in rs):.0f}"
            f" | {sum(r['errors'] for r in rs)} |"
        )
    extra = []
    for mode in ("json", "stream"):
        for conc in sorted({k[2] for k in med}):
            a, b = med.get(("router-openai", mode, conc)), med.get(("litellm", mode, conc))
            if a and b:
                extra.append(f"- router-openai vs litellm ({mode}, c={conc}): {a / b:.2f}×")
    text = "\n".join(lines)
    if extra:
        text += "\n\n" + "\n".join(extra)
    if notes:
        text += "\n\nNot measured:\n" + "\n".join(notes)
    return text, med


TARGETS_CHECK = [
    ("router-openai", "json", "openai", 1.00),
    ("router-anthropic", "json", "anthropic", 1.05),
    ("router-openai", "stream", "openai", 1.05),
    ("router-anthropic", "stream", "anthropic", 1.05),
]


def verdicts(med: dict[tuple[str, str, int], float], imports: list[dict[str, Any]]) -> str:
    out = []
    concs = sorted({k[2] for k in med})
    for target, mode, base, limit in TARGETS_CHECK:
        for conc in concs:
            a, b = med.get((target, mode, conc)), med.get((base, mode, conc))
            if a and b:
                ok = "PASS" if a / b <= limit else "FAIL"
                out.append(
                    f"- {target} {mode} c={conc}: {a / b:.2f}× raw {base} (≤ {limit:.2f}×) {ok}"
                )
    for mode in ("json", "stream"):
        for conc in concs:
            a, b = med.get(("router-openai", mode, conc)), med.get(("litellm", mode, conc))
            if a and b:
                ok = "PASS" if a / b <= 0.20 else "FAIL"
                out.append(f"- router-openai {mode} c={conc}: {a / b:.2f}× litellm (≤ 0.20×) {ok}")
    for im in imports:
        if im.get("module") in ("import router", "from router import Router") and "ms" in im:
            ok = "PASS" if im["ms"] <= 150 and im["rss_mb"] <= 40 else "FAIL"
            out.append(
                f"- `{im['module']}`: {im['ms']:.0f} ms, {im['rss_mb']:.1f} MB RSS "
                f"(≤ 150 ms, ≤ 40 MB) {ok}"
            )
    return "\n".join(out)


def orchestrate(a: argparse.Namespace) -> int:
    t_start = time.perf_counter()
    if a.quick:
        a.reps, a.n, a.warmup, a.import_reps = 1, 500, 100, 3
    targets = [t.strip() for t in a.targets.split(",") if t.strip()]
    concs = [int(c) for c in a.concurrency.split(",")]
    modes = {"json": [False], "stream": [True], "both": [False, True]}[a.mode]
    py = sys.executable
    litellm_py = (
        a.litellm_python
        or os.environ.get("LITELLM_PYTHON")
        or os.path.join(HERE, ".venv-litellm", "bin", "python")
    )
    if "litellm" in targets and not os.path.exists(litellm_py):
        print(f"litellm: skipped (no interpreter at {litellm_py})", flush=True)
        targets.remove("litellm")
        litellm_py = ""
    srv, url = start_server(py)
    results: list[dict[str, Any]] = []
    imports: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    try:
        for rep in range(a.reps):
            k = rep % len(targets)
            for target in targets[k:] + targets[:k]:
                for stream in modes:
                    for conc in concs:
                        n = a.n // SLOW.get(target, 1) // (2 if stream else 1)
                        warm = max(20, a.warmup // SLOW.get(target, 1))
                        args = ["--worker", target, "--n", str(n), "--warmup", str(warm)]
                        args += ["--concurrency", str(conc)] + (["--stream"] if stream else [])
                        wpy = litellm_py if target == "litellm" else py
                        r = run_worker(wpy, args, url, a.timeout)
                        r.setdefault("target", target)
                        r.setdefault("mode", "stream" if stream else "json")
                        r.setdefault("conc", conc)
                        r["rep"] = rep
                        results.append(r)
                        if "cpu_us" in r:
                            print(
                                f"[rep {rep}] {target:16s} {r['mode']:6s} c={conc:<3d} "
                                f"cpu={r['cpu_us']:7.0f} µs/req rps={r['rps']:6.0f} "
                                f"p50={r['p50_ms']:6.2f} p99={r['p99_ms']:6.2f} ms "
                                f"srv={r['server_us']:.0f} err={r['errors']} "
                                f"new_conns={r['new_connections']}",
                                flush=True,
                            )
                        else:
                            print(f"[rep {rep}] {target} c={conc}: {r}", flush=True)
        if not a.no_import:
            env = child_env(url)
            for stmt in ("import router", "from router import Router", "import openai"):
                imports.append(measure_import(py, stmt, a.import_reps, env))
            imports.append(measure_import(py, "import anthropic", a.import_reps, env))
            if litellm_py and "litellm" in targets:
                imports.append(measure_import(litellm_py, "import litellm", 3, env))
            for im in imports:
                print(f"[import] {im}", flush=True)
        if not a.no_nodes:
            with redis_server(a.redis_url, not a.no_redis) as redis_url:
                args = ["--nodes", "--n", str(a.node_n)]
                if redis_url:
                    args += ["--redis-url", redis_url]
                r = run_worker(py, args, url, a.timeout)
                nodes = json.loads(r["rows"]) if "rows" in r else []
                if not nodes:
                    print(f"[nodes] {r}", flush=True)
    finally:
        srv.terminate()
        srv.wait(5)
    table, med = summarize(results)
    report = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; {a.reps} rep(s), N={a.n} json / {a.n // 2} stream "
        f"(LiteLLM: a quarter of that), warm-up {a.warmup}.",
    ]
    vers: dict[str, str] = {}
    for r in results:
        for name, v in r.get("versions", {}).items():
            other = r["target"] == "litellm" and name != "litellm"
            vers[f"{name} (litellm venv)" if other else name] = v
    if vers:
        report.append("Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(vers.items())))
    report += ["", table]
    if imports:
        report += [
            "",
            "| statement (fresh process) | ms (median) | runs ms | RSS after it MB |",
            "|---|---:|---|---:|",
        ]
        for im in imports:
            if "ms" in im:
                runs = ", ".join(f"{t:.0f}" for t in im["ms_all"])
                report.append(
                    f"| `{im['module']}` | {im['ms']:.0f} | {runs} | {im['rss_mb']:.1f} |"
                )
            else:
                report.append(f"| {im['module']} | skipped: {im.get('skipped')} | | |")
    if nodes:
        report += [
            "",
            "| per-call cost | backend | CPU µs/call | wall µs/call |",
            "|---|---|---:|---:|",
        ]
        for row in nodes:
            report.append(
                f"| {row['node']} | {row['backend']} | {row['cpu_us']:.1f} | {row['wall_us']:.1f} |"
            )
    verdict = verdicts(med, imports)
    if verdict:
        report += ["", "Targets:", verdict]
    elapsed = time.perf_counter() - t_start
    report += ["", f"(benchmark wall time {elapsed:.0f} s)"]
    text = "\n".join(report)
    print("\n" + text)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        with open(os.path.join(a.out, f"overhead-{stamp}.md"), "w") as f:
            f.write(text + "\n")
        with open(os.path.join(a.out, f"overhead-{stamp}.json"), "w") as f:
            json.dump({"results": results, "imports": imports, "nodes": nodes}, f, indent=1)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--targets", default=",".join(TARGETS), help="comma list of " + ", ".join(TARGETS)
    )
    ap.add_argument("--concurrency", default="1,64")
    ap.add_argument("--mode", choices=["json", "stream", "both"], default="both")
    ap.add_argument(
        "--n", type=int, default=1500, help="measured calls per json run (stream: half)"
    )
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 rep, N=500: about a minute")
    ap.add_argument("--litellm-python", help="python of a venv with litellm (else $LITELLM_PYTHON)")
    ap.add_argument("--redis-url", help="measure the nodes on this Redis too")
    ap.add_argument("--no-redis", action="store_true", help="don't start a redis-server")
    ap.add_argument("--no-import", action="store_true")
    ap.add_argument("--no-nodes", action="store_true")
    ap.add_argument("--import-reps", type=int, default=5)
    ap.add_argument("--node-n", type=int, default=5000)
    ap.add_argument("--timeout", type=float, default=240)
    ap.add_argument("--out", default=os.path.join(HERE, "results"), help="'' to write nothing")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--nodes", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--stream", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        a.concurrency = int(a.concurrency)
        print(json.dumps(asyncio.run(worker_main(a))), flush=True)
        return 0
    if a.nodes:

        async def both() -> list[dict[str, Any]]:
            return await node_costs(a.n, a.redis_url) + await engine_cost(a.n)

        print(json.dumps(asyncio.run(both())), flush=True)
        return 0
    return orchestrate(a)


if __name__ == "__main__":
    sys.exit(main())
