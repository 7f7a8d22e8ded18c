"""Deployments on shared state: four processes (and two routers in one) on one real Redis
share each deployment's limits, holds and breaker openings, keyed per deployment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from router import Router
from router.sandbox import Sandbox

from .helpers import RedisServer

WORKER = Path(__file__).with_name("deployment_worker.py")
KEYS = 6


def routes(sb: Sandbox, tmp_path: Path, prefix: str, deployments: str) -> Path:
    path = tmp_path / "routes.yaml"
    path.write_text(
        f"""\
version: 1
providers:
  oai: {{type: openai, base_url: "{sb.openai_base_url}", api_key_env: SANDBOX_API_KEY, local: true}}
models:
  chat:
    provider: oai
    id: sandbox-gpt
    deployments:
{deployments}
  spare: {{provider: oai, id: sandbox-gpt-mini}}
tasks:
  default: {{candidates: [chat], fallback: [spare], retry: {{attempts: 1}}}}
state: {{backend: redis, url_env: REDIS_URL, key_prefix: "{prefix}", connect_timeout: 10}}
""",
        encoding="utf-8",
    )
    return path


def test_four_processes_share_each_deployments_limit_exactly(
    redis_server: RedisServer, redis_client: object, sb: Sandbox, tmp_path: Path
) -> None:
    # Six keys of one model, each allowed one request a minute (one slot, the next in 60 s,
    # far after the run): across the four processes exactly one request reaches each key, and
    # every other request is served by the fallback model.
    deployments = "\n".join(
        f'      - {{name: k{i}, base_url: "{sb.fault_url(f"delay={i}")}/v1",'
        f" limits: {{requests_per_minute: 1}}}}"
        for i in range(KEYS)
    )
    path = routes(sb, tmp_path, "test:deployments:", deployments)
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "ROUTES": str(path),
        "CALLS": "30",
        "PYTHONPATH": os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")]),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER)],
            env={**env, "STYLE": style},
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
        outputs = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            proc.kill() if proc.poll() is None else None
    for proc, (_, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr
    served: Counter[str] = Counter()
    for out, _ in outputs:
        served.update(json.loads(out))

    assert served == {**{f"chat/k{i}": 1 for i in range(KEYS)}, "spare/oai": 120 - KEYS}
    reached = Counter(r.raw_path.split("/")[2] for r in sb.requests)
    assert all(reached[f"delay={i}"] == 1 for i in range(KEYS))


def test_a_hold_and_an_opening_on_one_deployment_are_seen_by_another_router(
    redis_server: RedisServer, redis_client: object, sb: Sandbox, tmp_path: Path
) -> None:
    held, down, fine = (sb.fault_url(f) + "/v1" for f in ("429,retry-after=30", "503", "delay=0"))
    deployments = (
        f'      - {{name: held, weight: 100, base_url: "{held}"}}\n'
        f'      - {{name: down, weight: 100, base_url: "{down}"}}\n'
        f'      - {{name: fine, base_url: "{fine}"}}'
    )
    path = routes(sb, tmp_path, "test:shared-holds:", deployments)
    text = path.read_text().replace("models:\n", "defaults: {breaker: {failures: 1}}\nmodels:\n")
    path.write_text(text)
    environ = {"REDIS_URL": redis_server.url, "SANDBOX_API_KEY": "sk-test"}
    with Router.from_yaml(path, environ=environ) as first:
        tried = set()
        while tried != {"held", "down"}:  # until both bad deployments have been tried once
            response = first.complete("default", prompt="hi")
            assert response.deployment == "fine"
            tried |= {a.deployment for a in response.attempts if a.error is not None}
    sent = len(sb.requests)
    with Router.from_yaml(path, environ=environ) as second:
        for _ in range(10):
            response = second.complete("default", prompt="hi")
            assert response.deployment == "fine"
        # The new router sent nothing to either: each was refused locally once (the shared
        # hold, the shared opening), then not chosen at all.
        assert len(sb.requests) == sent + 10
        health = second.health()["models"]["chat"]["deployments"]
        assert health["held"]["retry_after_until"] is not None
        assert health["down"]["open_until"] is not None
