"""What the gateway's HTTP server stack costs per request, against LiteLLM's proxy (issue 13).

    .venv/bin/python bench/bench_gateway.py --targets gateway,litellm   # ~7 min on 2 cores
    .venv/bin/python bench/bench_gateway.py --targets gateway,uvicorn-raw --memory-requests 0

Every target is one server process (one worker, so one core at most) in front of the same
cheap fake upstream (``bench/fakeserver.py``, an OpenAI-wire server on a raw asyncio
protocol). For each target:

* **req/s at saturation**: ``wrk -t1 -c32`` POSTing a chat completion for ``--duration`` s;
* **server CPU µs/req**: the server's user+sys CPU (all its processes and threads, from
  /proc) over that window ÷ requests;
* **added p50/p99 at a fixed rate**: an open-loop client (``gateway_load.paced``) sending
  ``--rate`` requests/s (300 by default) for ``--duration`` s, each request's latency counted
  from when it was due, through the target, minus the same run straight at the fake upstream;
* **TTFT**: ``--streams`` streamed requests one at a time, time to the first SSE bytes;
* **RSS** of the server's process tree after 10,000 requests in all, and after
  ``--memory-requests`` (100,000) for ``--memory-targets`` (the gateway by default).

Targets: ``null-*`` answer a canned JSON without the router (the server alone);
``uvicorn-raw``/``uvicorn-starlette``/``granian-raw`` call ``Router.acomplete`` from a minimal
raw-ASGI or Starlette app (the stack under the router); ``gateway`` is ``router serve`` itself
(``--no-auth`` on 127.0.0.1, access log on); ``litellm`` is LiteLLM's proxy
(``litellm --config ... --num_workers 1``, no master key, no database, logging at ERROR) from
``--litellm`` (default ``bench/.venv-litellm/bin/litellm``, see bench/README.md).

Needs ``wrk`` (Debian package ``wrk``) and the ``gateway`` extra plus granian and starlette
for the comparison targets (``pip install granian starlette``); a missing one skips its
targets and says so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import gateway_load

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BODY = {"model": "chat", "messages": [{"role": "user", "content": "Say something short."}]}
ROUTES = """version: 1
providers:
  fake:
    type: openai
    base_url: {upstream}/v1
    api_key_env: BENCH_FAKE_KEY
    local: true
models:
  fast:
    provider: fake
    id: fake-model
    pricing: {{input: 0.15, output: 0.60}}
    capabilities: [streaming, tools, json]
tasks:
  chat:
    candidates: [fast]
"""
LITELLM_CONFIG = """model_list:
  - model_name: chat
    litellm_params:
      model: openai/fake-model
      api_base: {upstream}/v1
      api_key: sk-bench
litellm_settings:
  set_verbose: false
  json_logs: false
general_settings: {{}}
"""
LITELLM_ENV = {
    # no master key, no database: the proxy's default open mode, refused unless permitted
    "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the price list at start
    "LITELLM_LOG": "ERROR",
    "LITELLM_MODE": "PRODUCTION",  # no .env loading
}
TARGETS = (
    "null-uvicorn",
    "null-granian",
    "uvicorn-raw",
    "uvicorn-starlette",
    "granian-raw",
    "gateway",
    "litellm",
)
CANNED = json.dumps(
    {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
    }
).encode()


# =============================================================================================
# The minimal apps (imported by the servers through this file's module path)
# =============================================================================================

_ROUTER: list[Any] = []  # the server process's Router, made at startup


def _get_router() -> Any:
    if not _ROUTER:
        from router import Router

        _ROUTER.append(Router.from_yaml(os.environ["BENCH_ROUTES"]))
    return _ROUTER[0]


async def _read(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _reply(send: Any, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if os.environ.get("BENCH_APP") != "null":
                _get_router()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def raw_app(scope: Any, receive: Any, send: Any) -> None:
    """A raw ASGI app: the body parsed, ``acomplete`` called, the answer rendered."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    body = json.loads(await _read(receive))
    if os.environ.get("BENCH_APP") == "null":
        await _reply(send, CANNED)
        return
    response = await _get_router().acomplete(body["model"], body["messages"])
    out = {
        "id": response.raw_id,
        "object": "chat.completion",
        "model": response.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": response.content},
                "finish_reason": response.finish_reason,
            }
        ],
    }
    await _reply(send, json.dumps(out).encode())


def starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        response = await _get_router().acomplete(body["model"], body["messages"])
        return JSONResponse(
            {
                "id": response.raw_id,
                "object": "chat.completion",
                "model": response.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": response.content},
                        "finish_reason": response.finish_reason,
                    }
                ],
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        _get_router()
        yield

    return Starlette(
        routes=[Route("/v1/chat/completions", chat, methods=["POST"])], lifespan=lifespan
    )


def serve(stack: str, app: str, port: int) -> None:
    """Runs in the server subprocess."""
    os.environ["BENCH_APP"] = app
    if stack == "uvicorn":
        import uvicorn

        target: Any = starlette_app() if app == "starlette" else raw_app
        uvicorn.run(
            target,
            host="127.0.0.1",
            port=port,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_level="warning",
        )
    else:
        from pathlib import Path

        from granian import Granian

        Granian(
            "bench_gateway:raw_app",
            address="127.0.0.1",
            port=port,
            interface="asgi",  # type: ignore[arg-type]
            workers=1,
            runtime_threads=1,
            loop="uvloop",  # type: ignore[arg-type]
            log_access=False,
            log_level="warning",  # type: ignore[arg-type]
            working_dir=Path(HERE),
        ).serve()


# =============================================================================================
# The orchestrator
# =============================================================================================


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listening on {port} after {timeout} s")


def _children(pid: int) -> list[int]:
    out = [pid]
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                for child in f.read().split():
                    out += _children(int(child))
    return out


def cpu_seconds(pid: int) -> float:
    """User+sys CPU of ``pid`` and every descendant (granian runs its worker as a child)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _children(pid):
        with contextlib.suppress(OSError), open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


@contextlib.contextmanager
def upstream() -> Iterator[str]:
    p = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "fakeserver.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert p.stdout is not None
    line = p.stdout.readline()
    if not line.startswith("READY"):
        p.kill()
        raise SystemExit(f"fakeserver did not start: {line!r}")
    try:
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        p.terminate()
        p.wait(10)


@contextlib.contextmanager
def target_server(target: str, routes: str, litellm: str) -> Iterator[tuple[int, int]]:
    """Start ``target``; yield (port, pid)."""
    port = free_port()
    env = dict(os.environ, BENCH_ROUTES=routes, BENCH_FAKE_KEY="sk-bench")
    env["PYTHONPATH"] = os.pathsep.join([HERE, ROOT, env.get("PYTHONPATH", "")])
    timeout = 30.0
    if target == "gateway":
        cmd = [sys.executable, "-c", "from router.cli import main; main()", "serve"]
        cmd += ["--config", routes, "--port", str(port), "--no-auth"]
    elif target == "litellm":
        config = os.path.join(os.path.dirname(routes), "litellm.yaml")
        cmd = [litellm, "--config", config, "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--num_workers", "1"]
        env = dict(os.environ, **LITELLM_ENV)
        timeout = 120.0  # it imports for 10-20 s
    else:
        stack, _, app = target.partition("-")
        if stack == "null":
            stack, app = app, "null"
        elif app == "starlette":
            pass
        else:
            app = "raw"
        cmd = [sys.executable, __file__, "--serve", stack, "--app", app, "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        wait_port(port, proc, timeout)
        yield port, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` and every descendant, MiB."""
    total = 0
    for p in _children(pid):
        with contextlib.suppress(OSError), open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if m is None:
        raise ValueError(f"cannot read a wrk duration {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(url: str, conns: int, seconds: float, script: str) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{conns}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            script,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p = {q: _ms(v) for q, v in re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M)}
    return {
        "rps": rps,
        "requests": total,
        "p50": p["50"],
        "p99": p["99"],
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": 1 if errors else 0,
    }


def measure(
    url: str, pid: int | None, args: argparse.Namespace, script: str, target: str = ""
) -> dict[str, float]:
    port = urllib.parse.urlsplit(url).port or 80
    served = wrk(url, 8, 1, script)["requests"]  # warm-up
    before = cpu_seconds(pid) if pid else 0.0
    sat = wrk(url, args.connections, args.duration, script)
    used = cpu_seconds(pid) - before if pid else 0.0
    lat = gateway_load.paced(port, BODY, args.rate, args.duration)
    streams = gateway_load.ttft(port, BODY, args.streams)
    served += sat["requests"] + lat["requests"] + streams["requests"]
    out = {
        "rps": sat["rps"],
        "cpu_us": used / max(sat["requests"], 1) * 1e6,
        "paced_rps": lat["rate"],
        "p50": lat["p50"],
        "p99": lat["p99"],
        "ttft_p50": streams["ttft_p50"],
        "ttft_p99": streams["ttft_p99"],
        "failed": sat["non2xx"] + lat["failed"] + streams["failed"] + sat["socket_errors"],
    }
    if pid is None:
        return out
    big = args.memory_requests if target in args.memory_targets.split(",") else 0
    for mark in sorted({10_000, big} - {0}):
        while served < mark * 0.99:  # wrk runs for a time, not a count: slices until there
            seconds = min(60.0, max(1.0, (mark - served) / max(sat["rps"], 1.0)))
            run = wrk(url, args.connections, seconds, script)
            served += run["requests"]
            out["failed"] += run["non2xx"] + run["socket_errors"]
        out[f"rss_{mark}"] = rss_mib(pid)
        out[f"served_{mark}"] = served
    return out


def _available(target: str, litellm: str) -> str | None:
    """Why ``target`` cannot run here, or None."""
    if target == "litellm":
        ok = os.access(litellm, os.X_OK)
        return None if ok else f"no LiteLLM proxy at {litellm} (see --litellm)"
    needs = {"granian": "granian", "starlette": "starlette", "uvicorn": "uvicorn"}
    for word, module in needs.items():
        if word in target:
            try:
                __import__(module)
            except ImportError:
                return f"{module} is not installed"
    if target == "gateway":
        try:
            __import__("uvicorn")
        except ImportError:
            return "the gateway extra is not installed"
    return None


def report(results: dict[str, Any], args: argparse.Namespace, load: tuple[float, ...]) -> None:
    direct = results["upstream (direct)"]
    end = os.getloadavg()
    big = args.memory_requests
    print(
        f"\nsaturation: wrk -t1 -c{args.connections}; latency: open loop at {args.rate:g}/s "
        f"(32 connections); {args.duration:g} s each; TTFT: {args.streams} streams one at a "
        f"time; one server worker. Load average 1/5/15 min: {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f} at start, {end[0]:.2f} {end[1]:.2f} {end[2]:.2f} at end."
    )
    print(
        "| target | req/s (saturation) | server CPU µs/req | paced req/s | p50 ms | p99 ms "
        f"| added p50 ms | added p99 ms | TTFT p50 ms | TTFT p99 ms | RSS 10k MiB "
        f"| RSS {big // 1000}k MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        if "skipped" in r:
            print(f"| {name} | skipped: {r['skipped']} |" + " |" * 10)
            continue
        added = name != "upstream (direct)"
        a50 = f"{r['p50'] - direct['p50']:.2f}" if added else ""
        a99 = f"{r['p99'] - direct['p99']:.2f}" if added else ""
        cpu = f"{r['cpu_us']:,.0f}" if added else ""
        rss = [f"{r[k]:.1f}" if k in r else "" for k in ("rss_10000", f"rss_{big}")]
        fails = f" ({r['failed']:.0f} failed)" if r["failed"] else ""
        print(
            f"| {name}{fails} | {r['rps']:,.0f} | {cpu} | {r['paced_rps']:,.0f} | {r['p50']:.2f} "
            f"| {r['p99']:.2f} | {a50} | {a99} | {r['ttft_p50']:.2f} | {r['ttft_p99']:.2f} "
            f"| {rss[0]} | {rss[1]} |"
        )
    gateway, litellm = results.get("gateway", {}), results.get("litellm", {})
    if "rps" in gateway and "rps" in litellm:
        print(
            f"\ngateway ÷ LiteLLM proxy: {gateway['rps'] / litellm['rps']:.1f}× the requests/s "
            f"at saturation, {litellm['cpu_us'] / gateway['cpu_us']:.1f}× the requests per "
            "CPU-second (target: at least 5×)"
        )
    for name, r in results.items():
        if f"rss_{big}" in r and "rss_10000" in r and big > 10_000:
            growth = (r[f"rss_{big}"] / r["rss_10000"] - 1) * 100
            print(f"{name}: RSS {growth:+.1f}% from 10,000 to {big:,} requests (target ±5%)")
    if args.json:
        print(json.dumps(results, indent=2))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma-separated targets")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per timed run")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections at saturation")
    ap.add_argument("--rate", type=float, default=300, help="requests/s of the latency runs")
    ap.add_argument("--streams", type=int, default=500, help="streamed requests timed for TTFT")
    ap.add_argument(
        "--memory-requests",
        type=int,
        default=100_000,
        help="RSS is read after 10,000 requests, and after this many for --memory-targets",
    )
    ap.add_argument(
        "--memory-targets",
        default="gateway",
        help="targets driven to --memory-requests (LiteLLM's proxy needs ~30 min for 100,000)",
    )
    ap.add_argument(
        "--litellm",
        default=os.path.join(HERE, ".venv-litellm", "bin", "litellm"),
        help="the LiteLLM proxy's CLI (a venv with litellm and its proxy extra)",
    )
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--app", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.app, args.port)
        return 0
    if shutil.which("wrk") is None:
        print("bench_gateway: needs wrk (apt-get install wrk)", file=sys.stderr)
        return 2
    results: dict[str, Any] = {}
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, upstream() as up:
        routes = os.path.join(tmp, "routes.yaml")
        with open(routes, "w") as f:
            f.write(ROUTES.format(upstream=up))
        with open(os.path.join(tmp, "litellm.yaml"), "w") as f:
            f.write(LITELLM_CONFIG.format(upstream=up))
        script = os.path.join(tmp, "post.lua")
        post = (
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(BODY))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        with open(script, "w") as f:
            f.write(post)
        direct = up + "/v1/chat/completions"
        results["upstream (direct)"] = measure(direct, None, args, script)
        for target in args.targets.split(","):
            why = _available(target, args.litellm)
            if why is not None:
                results[target] = {"skipped": why}
                continue
            with target_server(target, routes, args.litellm) as (port, pid):
                results[target] = measure(
                    f"http://127.0.0.1:{port}/v1/chat/completions", pid, args, script, target
                )
    report(results, args, load)
    return 0


if __name__ == "__main__":
    sys.exit(main())
