"""Past one machine: three `router serve` processes sharing one real redis-server, then a
real Redis Cluster of three masters (both started here, one per parameter). A team key's rpm
and budget hold exactly across the replicas, a revocation reaches all of them within a
second, and a Redis outage does what the spec's `state.on_unavailable` says (fail_closed on
the single server: 503, nothing sent upstream; fail_open on the cluster: a key already seen
keeps being served)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from state.helpers import RedisClusterServers, RedisServer

from router.cli import run
from router.sandbox import Sandbox

from .helpers import GATEWAY_KEY, Gateway, wait_for, write_routes

ADMIN = "admin-key-0123456789abcdef"
ASK = [{"role": "user", "content": "The sky is blue today."}]


@dataclass
class Replicas:
    kind: str
    mode: str  # the spec's state.on_unavailable
    server: RedisServer | RedisClusterServers
    gateways: list[Gateway]

    def logs(self) -> str:
        """Every replica's log (access lines, warnings): never a key."""
        return "".join(gw.log.read_text(encoding="utf-8") for gw in self.gateways)


@pytest.fixture(scope="module", params=["redis", "cluster"])
def replicas(
    request: pytest.FixtureRequest,
    sandbox_server: Sandbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Replicas]:
    tmp = Path(tmp_path_factory.mktemp(request.param))
    server: RedisServer | RedisClusterServers
    if request.param == "redis":
        server, mode = RedisServer().start(), "fail_closed"
    else:
        server, mode = RedisClusterServers(tmp).start(), "fail_open"
    config = write_routes(sandbox_server, tmp / "routes.yaml")
    with config.open("a", encoding="utf-8") as spec:
        spec.write(
            "state:\n  backend: redis\n  url_env: GW_STATE_URL\n"
            f"  on_unavailable: {mode}\n  key_prefix: 'gw:'\n"
        )
    env = {"GW_STATE_URL": server.url, "ROUTER_ADMIN_KEY": ADMIN}
    with ThreadPoolExecutor(3) as pool:
        starting = [
            pool.submit(Gateway, config, tmp / f"replica-{i}.log", env=env) for i in range(3)
        ]
    gateways = [f.result() for f in starting if f.exception() is None]
    if len(gateways) < 3:  # stop what did start, then report why one did not
        for gw in gateways:
            gw.stop()
        server.stop()
        next(f for f in starting if f.exception() is not None).result()
    yield Replicas(request.param, mode, server, gateways)
    for gw in gateways:
        gw.stop()
    server.stop()


def create(gw: Gateway, **settings: Any) -> dict[str, Any]:
    answer = httpx2.post(
        gw.url + "/admin/keys", json=settings, headers={"Authorization": f"Bearer {ADMIN}"}
    )
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def call(gw: Gateway, key: str) -> tuple[int, Any]:
    """One chat call through the OpenAI SDK: (200, the completion) or (status, error body)."""
    with openai.OpenAI(base_url=gw.url + "/v1", api_key=key, max_retries=0) as c:
        try:
            return 200, c.chat.completions.create(model="chat", messages=ASK)
        except openai.APIStatusError as exc:
            return exc.status_code, exc.body


def test_a_keys_rpm_holds_exactly_across_replicas(replicas: Replicas, sb: Sandbox) -> None:
    gws = replicas.gateways
    key = create(gws[0], name="paced", rpm=4)["key"]
    statuses = [call(gws[i % 3], key)[0] for i in range(9)]
    assert sorted(statuses) == [200] * 4 + [429] * 5
    assert len(sb.requests) == 4


def test_a_keys_budget_holds_exactly_across_replicas(replicas: Replicas, sb: Sandbox) -> None:
    gws = replicas.gateways
    with httpx2.Client() as http:
        answer = http.post(
            gws[0].url + "/v1/chat/completions",
            json={"model": "chat", "messages": ASK},
            headers={"Authorization": f"Bearer {GATEWAY_KEY}"},
        )
    cost = float(answer.headers["x-router-cost-usd"])
    assert cost > 0
    # A budget of 2.5 calls: the third call starts under it (2 spent), the fourth does not.
    key = create(gws[1], name="frugal", daily_usd=2.5 * cost)["key"]
    results = [call(gws[i % 3], key) for i in range(6)]
    assert [status for status, _ in results] == [200, 200, 200, 429, 429, 429]
    assert all(body["code"] == "budget_exceeded" for _, body in results[3:])
    assert len(sb.requests) == 1 + 3


def test_a_revocation_reaches_every_replica_within_a_second(
    replicas: Replicas, sb: Sandbox
) -> None:
    gws = replicas.gateways
    made = create(gws[0], name="leaving")
    for gw in gws:  # every replica has the record in its cache
        assert call(gw, made["key"])[0] == 200
    revoked = httpx2.post(
        f"{gws[2].url}/admin/keys/{made['id']}/revoke",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    assert revoked.status_code == 200
    start = time.monotonic()
    seen: dict[int, float] = {}
    while len(seen) < 3 and time.monotonic() - start < 5.0:  # a bound, not a measurement
        for i, gw in enumerate(gws):
            if i not in seen:
                status, body = call(gw, made["key"])
                if status == 401:
                    assert body["code"] == "revoked_api_key"
                    seen[i] = time.monotonic() - start
    assert sorted(seen) == [0, 1, 2]
    # Each replica re-reads a record it holds after 0.5 s: within a second everywhere.
    assert max(seen.values()) < 1.0, seen


def test_router_keys_manages_the_shared_store(
    replicas: Replicas, sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GW_STATE_URL", replicas.server.url)
    config = ["--config", str(replicas.gateways[0].config)]

    def keys(*argv: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        assert run(["keys", *argv, *config], out, err) == 0, err.getvalue()
        return out.getvalue()

    made = json.loads(keys("create", "--name", "from-cli", "--daily-usd", "5", "--json"))
    assert [call(gw, made["key"])[0] for gw in replicas.gateways] == [200, 200, 200]
    listed = json.loads(keys("list", "--json"))["data"]
    mine = next(k for k in listed if k["id"] == made["id"])
    assert mine["spent"]["daily"] > 0 and mine["status"] == "active"
    rotated = json.loads(keys("rotate", made["id"], "--json"))
    keys("revoke", made["id"])
    for gw in replicas.gateways:
        wait_for(lambda gw=gw: call(gw, rotated["key"])[0] == 401, "the revocation", 5.0)
    assert made["key"] not in replicas.logs()


def test_a_redis_outage_follows_on_unavailable(replicas: Replicas, sb: Sandbox) -> None:
    gws = replicas.gateways
    key = create(gws[0], name="steady")["key"]
    for gw in gws:
        assert call(gw, key)[0] == 200
    sent = len(sb.requests)
    replicas.server.stop()
    for gw in gws:
        status, body = call(gw, key)
        if replicas.mode == "fail_closed":
            assert status == 503 and body["code"] == "state_unavailable", body
        else:  # fail_open: the last known record, per-process limits
            assert status == 200
    if replicas.mode == "fail_closed":
        assert len(sb.requests) == sent  # nothing went upstream
    else:
        assert len(sb.requests) == sent + 3
