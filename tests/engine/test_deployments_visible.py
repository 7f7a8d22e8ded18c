"""Deployments made visible: ``Router.deployments`` (what ``router explain`` prints), ``router
health`` per deployment, ``router simulate``'s spread, and the deployment's name in the
ledger, the event log and the metrics (never a key)."""

from __future__ import annotations

import json
import sqlite3
from io import StringIO
from pathlib import Path

import pytest

from router.cli import run
from router.sandbox import Sandbox
from router.telemetry.ledger import SCHEMA_VERSION, SQLiteLedger

from .helpers import PROVIDERS, MakeRouter

POOL = (
    PROVIDERS
    + """
models:
  chat:
    provider: oai
    id: sandbox-gpt
    pricing: {input: 1, output: 2}
    deployments:
      - {name: east, id: sandbox-east, weight: 3}
      - {name: west, id: sandbox-west, pricing: {input: 2, output: 4}}
      - {name: spare, id: sandbox-spare, weight: 0}
tasks:
  default: {candidates: [chat]}
"""
)


def cli(*argv: str) -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue() + err.getvalue()


def test_deployments_say_weights_shares_state_prices_and_the_choice(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(POOL, seed=1)
    rows = {d["name"]: d for d in router.deployments("chat")}
    assert [rows[n]["share"] for n in ("east", "west", "spare")] == [0.75, 0.25, 0.0]
    assert {n: d["state"] for n, d in rows.items()} == dict.fromkeys(rows, "ready")
    assert rows["west"]["pricing"] == {"input": 2, "output": 4}
    assert rows["east"]["pricing"] == {"input": 1, "output": 2}  # the model's
    chosen = [d for d in rows.values() if d["chosen"]]
    assert len(chosen) == 1 and chosen[0]["why"].startswith("weighted: drawn at random")

    sb.set_fault("429,retry-after=20", model="sandbox-east")
    sb.set_fault("429,retry-after=20", model="sandbox-west")
    response = router.complete("chat", prompt="hi", session="s1")
    assert response.deployment == "spare"  # the standby, once both others are held
    rows = {d["name"]: d for d in router.deployments("chat", session="s1")}
    assert rows["east"]["state"].startswith("held 20.0s")
    assert rows["spare"]["chosen"] and "sticky" in rows["spare"]["why"]


def test_health_and_explain_on_the_command_line_show_each_deployment(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "routes.yaml"
    config.write_text(POOL.replace("{openai}", sb.openai_base_url).replace("{anthropic}", sb.url))
    monkeypatch.setenv("SANDBOX_API_KEY", "sk-test")
    code, out = cli("health", "--config", str(config))
    assert code == 0
    assert "chat  3 deployments, weighted:" in out
    for name, weight in (("east", 3), ("west", 1), ("spare", 0)):
        assert f"  {name:<4}  oai: weight {weight}, breaker closed" in out
    code, out = cli("explain", "--config", str(config), "--task", "default", "--prompt", "x")
    assert code == 0
    assert "  chat: 3 deployments, balance: weighted" in out
    assert "prices differ between deployments" in out
    assert "this request would go to" in out
    code, out = cli(
        "explain", "--config", str(config), "--task", "default", "--prompt", "x",
        "--format", "json",
    )  # fmt: skip
    spread = json.loads(out)["deployments"]["chat"]
    assert [d["name"] for d in spread] == ["east", "west", "spare"]
    assert "sk-test" not in out


def test_simulate_reports_the_spread_per_deployment(tmp_path: Path) -> None:
    config = tmp_path / "routes.yaml"
    config.write_text(
        POOL.replace("{openai}", "http://127.0.0.1:9/v1").replace(
            "{anthropic}", "http://127.0.0.1:9"
        )
    )
    code, out = cli(
        "simulate", "--config", str(config), "--requests", "400", "--seed", "3",
        "--faults", "model:chat=p=0.05,500", "--format", "json",
    )  # fmt: skip
    assert code == 0, out
    spread = json.loads(out)["deployments"]["chat"]
    # Weights 3 : 1 (spare 0: only when both others are held or failing).
    assert spread["east"] / (spread["east"] + spread["west"]) == pytest.approx(0.75, abs=0.06)


def test_ledger_log_and_metrics_carry_the_deployment_name(
    make_router: MakeRouter, sb: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "usage.sqlite"
    spec = POOL + f"telemetry:\n  metrics: true\n  ledger: {{path: '{path}'}}\n"
    router = make_router(spec, seed=2)
    sb.set_fault("500", model="sandbox-east")
    served = [router.complete("chat", prompt="hi") for _ in range(6)]
    router.close()

    ledger = SQLiteLedger(path, readonly=True)
    requests = list(ledger.requests())
    assert [r.deployment for r in requests] == [r.deployment for r in served]
    tried = [a.deployment for r in requests for a in r.attempts]
    assert tried == [a.deployment for r in served for a in r.attempts]
    assert "east" in tried  # its failures are recorded under its name
    text = router.telemetry.metrics.exposition().decode()
    east_errors = sum(
        1 for r in served for a in r.attempts if a.deployment == "east" and a.error is not None
    )
    assert (
        f'router_deployment_attempts_total{{deployment="east",model="chat",outcome="error"}} '
        f"{float(east_errors)}" in text
    )
    assert 'router_breaker_open{model="chat/east"}' in text


def test_a_version_1_ledger_gains_the_deployment_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE requests (id INTEGER PRIMARY KEY, task TEXT NOT NULL, requested_task TEXT"
        " NOT NULL, outcome TEXT NOT NULL, model TEXT, provider TEXT, latency_s REAL NOT NULL,"
        " cost REAL, fallbacks INTEGER NOT NULL, cache_hit INTEGER NOT NULL, stream INTEGER"
        " NOT NULL, ts REAL NOT NULL);"
        "CREATE TABLE attempts (request_id INTEGER NOT NULL, seq INTEGER NOT NULL, task TEXT,"
        " model TEXT, provider TEXT, outcome TEXT, error_kind TEXT, status INTEGER,"
        " input_tokens INTEGER, output_tokens INTEGER, cached_input_tokens INTEGER, cost REAL,"
        " latency_s REAL, depth INTEGER, cache_hit INTEGER, ts REAL, error TEXT,"
        " PRIMARY KEY (request_id, seq));"
        "INSERT INTO requests VALUES (1, 't', 't', 'ok', 'm', 'p', 0.1, 0.0, 0, 0, 0, 1.0);"
        "PRAGMA user_version = 1;"
    )
    conn.close()
    assert [r.deployment for r in SQLiteLedger(path, readonly=True).requests()] == [None]
    writable = SQLiteLedger(path)
    assert [r.model for r in writable.requests()] == ["m"]
    writable.close()
    assert (
        sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    )  # upgraded to the current version


def test_the_graph_draws_each_deployments_stack(make_router: MakeRouter, sb: Sandbox) -> None:
    text = str(make_router(POOL).graph)
    assert "  chat  3 deployments, weighted:" in text
    assert "    east (oai/sandbox-east): load → breaker(closed) → adapter" in text
    assert "    west (oai/sandbox-west): load → breaker(closed) → adapter" in text


def test_simulate_sends_replicas_to_the_sandbox_not_their_own_hosts(tmp_path: Path) -> None:
    spec = (
        PROVIDERS.replace("{openai}", "http://127.0.0.1:9/v1").replace(
            "{anthropic}", "http://x.invalid"
        )
        + """
models:
  llama:
    provider: oai
    id: llama
    balance: least_busy
    base_urls: ["http://10.1.1.1:8000/v1", "http://10.1.1.2:8000/v1"]
    api_key_envs: [KEY_A, KEY_B]
tasks:
  default: {candidates: [llama]}
"""
    )
    config = tmp_path / "routes.yaml"
    config.write_text(spec)
    code, out = cli("simulate", "--config", str(config), "--requests", "50", "--format", "json")
    assert code == 2 and "lists its deployments twice" in out  # one form per model
    config.write_text(spec.replace("    api_key_envs: [KEY_A, KEY_B]\n", ""))
    code, out = cli("simulate", "--config", str(config), "--requests", "50", "--format", "json")
    assert code == 0, out
    assert set(json.loads(out)["deployments"]["llama"]) == {"oai-1", "oai-2"}
