"""How many Redis commands one gateway request costs, per kind of caller (issue 13, "Redis
sizing per 1,000 requests/s"): counted by the server (``INFO commandstats``), not estimated.

    .venv/bin/python bench/bench_redis_per_request.py            # ~15 s
    .venv/bin/python bench/bench_redis_per_request.py --requests 2000

Starts a redis-server on a free port, the sandbox as the upstream, and one ``router serve``
whose spec keeps its state on that Redis (a model with an rpm limit and a breaker, as a
production spec has). Then, for each caller — a static key (``ROUTER_GATEWAY_KEYS``), a team
key without limits, a team key with rpm + tpm + daily and monthly budgets — sends
``--requests`` sequential chat completions and prints the commands the server ran per
request: round trips (scripts and MGETs), commands (those inside scripts included, as
``INFO commandstats`` counts them) and the server's CPU time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from gateway.helpers import GATEWAY_KEY, Gateway, write_routes
from state.helpers import RedisServer

from router.sandbox import Sandbox

ADMIN = "admin-key-0123456789abcdef"
BODY = {"model": "chat", "messages": [{"role": "user", "content": "The sky is blue today."}]}


def commandstats(server: RedisServer) -> dict[str, float]:
    """Calls per command (scripts' inner commands included), plus the server's CPU seconds
    (``_cpu``) and the round trips it served (``_calls``: commands a client sent)."""
    client = server.client()
    try:
        stats = client.info("commandstats")
        cpu = client.info("cpu")
        calls = client.info("stats")["total_commands_processed"]
    finally:
        client.close()
    out: dict[str, float] = {n.removeprefix("cmdstat_"): v["calls"] for n, v in stats.items()}
    out["_cpu"] = float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])
    out["_calls"] = float(calls)
    return out


def measure(server: RedisServer, gw: Gateway, key: str, n: int) -> dict[str, float]:
    with httpx2.Client(headers={"Authorization": f"Bearer {key}"}) as http:
        http.post(gw.url + "/v1/chat/completions", json=BODY)  # warm: scripts loaded
        before = commandstats(server)
        for _ in range(n):
            answer = http.post(gw.url + "/v1/chat/completions", json=BODY)
            assert answer.status_code == 200, answer.text
        after = commandstats(server)
    per = {
        c: (after[c] - before.get(c, 0)) / n
        for c in sorted(after)
        if c not in ("info", "_cpu", "_calls") and after[c] != before.get(c, 0)
    }
    per["_cpu_us"] = (after["_cpu"] - before["_cpu"]) / n * 1e6
    return per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per caller")
    args = parser.parse_args()
    server = RedisServer().start()
    try:
        with Sandbox() as sb, tempfile.TemporaryDirectory() as tmp:
            config = write_routes(sb, Path(tmp) / "routes.yaml")
            text = config.read_text().replace(
                "    pricing: {input: 0.15, output: 0.60}\n",
                "    pricing: {input: 0.15, output: 0.60}\n"
                "    limits: {requests_per_minute: 1000000}\n",
                1,
            )
            text += "state:\n  backend: redis\n  url_env: GW_STATE_URL\n"
            config.write_text(text)
            env = {"GW_STATE_URL": server.url, "ROUTER_ADMIN_KEY": ADMIN}
            gw = Gateway(config, Path(tmp) / "serve.log", "--no-access-log", env=env)
            try:
                admin = {"Authorization": f"Bearer {ADMIN}"}
                plain = httpx2.post(
                    gw.url + "/admin/keys", json={"name": "plain"}, headers=admin
                ).json()["key"]
                limited = httpx2.post(
                    gw.url + "/admin/keys",
                    json={
                        "name": "limited",
                        "rpm": 1_000_000,
                        "tpm": 100_000_000,
                        "daily_usd": 1000,
                        "monthly_usd": 10000,
                    },
                    headers=admin,
                ).json()["key"]
                for label, key in (
                    ("static key", GATEWAY_KEY),
                    ("team key, no limits", plain),
                    ("team key, rpm+tpm+daily+monthly", limited),
                ):
                    per = measure(server, gw, key, args.requests)
                    cpu = per.pop("_cpu_us")
                    total = sum(per.values())
                    # Round trips: each script (EVALSHA) and MGET is one; the GETs and SETs
                    # counted are mostly inside scripts (the record's GET is 1 per 0.5 s).
                    trips = per.get("evalsha", 0) + per.get("mget", 0)
                    detail = ", ".join(f"{c} {v:.2f}" for c, v in per.items())
                    print(
                        f"{label:<34} {trips:4.2f} round trips, {total:5.2f} commands, "
                        f"{cpu:5.1f} µs Redis CPU per request  ({detail})"
                    )
            finally:
                gw.stop()
    finally:
        server.stop()
    print(
        f"({args.requests} sequential requests per caller; commands include those run by scripts)"
    )


if __name__ == "__main__":
    main()
