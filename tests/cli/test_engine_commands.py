"""`router explain` (golden files), `complete`, `models`, `graph` and `demo`, through run()."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest

from router.cli import run
from router.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
ROUTES = ROOT / "configs" / "routes.yaml"
GOLDEN = ROOT / "tests" / "golden"
KEYS = {
    "OPENAI_API_KEY": "sk-test-openai",
    "ANTHROPIC_API_KEY": "sk-test-anthropic",
    "ANTHROPIC_API_KEY_2": "sk-test-anthropic-2",
}
LONG = "word " * 500_000  # ~625k estimated tokens: beyond every window


def call(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"golden {name} differs (UPDATE_GOLDEN=1 rewrites it)"


EXPLAIN_CASES = {
    "explain_summarize.txt": ["--task", "summarize", "--prompt", "Summarize this short note."],
    "explain_chat.txt": ["--task", "chat", "--prompt", "Hello there."],
    "explain_code.txt": ["--task", "code", "--prompt", "Write a parser."],
    "explain_extract.txt": ["--task", "extract", "--prompt", "Name: Ada. Born: 1815."],
    "explain_unknown_task.txt": ["--task", "translate", "--prompt", "Bonjour."],
    "explain_private_tag.txt": ["--task", "summarize", "--prompt", "Secret.", "--tag", "private"],
    "explain_premium.txt": ["--task", "chat", "--prompt", "Hi.", "--meta", "tier=premium"],
    "explain_streamed.txt": ["--task", "extract", "--prompt", "x", "--stream"],
}


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize("golden", sorted(EXPLAIN_CASES))
def test_explain_routes_yaml_matches_golden(golden: str) -> None:
    code, out, err = call("explain", "--config", str(ROUTES), *EXPLAIN_CASES[golden])
    assert code == 0, err
    check_golden(golden, out)


CLOUD_MODELS = ("gpt-4o-mini", "gpt-4o", "claude-haiku", "claude-sonnet")


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize("task", ["code", "chat", "summarize", "extract", "translate"])
def test_explain_private_tag_never_lists_a_cloud_model_in_routes_yaml(task: str) -> None:
    code, out, err = call(
        "explain", "--config", str(ROUTES), "--task", task, "--tag", "private", "--prompt", "x"
    )
    assert code == 0, err
    assert [m for m in CLOUD_MODELS if m in out] == []
    assert "1.  llama-local" in out


@pytest.mark.usefixtures("keys")
def test_explain_private_code_in_routes_yaml_matches_golden() -> None:
    argv = ["--task", "code", "--tag", "private", "--prompt", "Review this private diff."]
    code, out, err = call("explain", "--config", str(ROUTES), *argv)
    assert code == 0, err
    check_golden("explain_private_code.txt", out)


@pytest.mark.usefixtures("keys")
def test_explain_json_names_the_confinement_set() -> None:
    argv = ["--task", "chat", "--tag", "private", "--prompt", "x", "--format", "json"]
    code, out, _ = call("explain", "--config", str(ROUTES), *argv)
    assert code == 0
    plan = json.loads(out)
    assert (plan["rule"], plan["confined"]) == ("private-data", ["llama-local"])
    assert [c["model"] for c in plan["chain"]] == ["llama-local"]


CONFINEMENT = GOLDEN / "confinement.yaml"
# Each golden shows a confining rule holding through one way a chain continues: the models
# it would have reached are listed as skipped, "outside rule ...", never in the chain.
CONFINED_CASES = {
    # the task's direct fallbacks
    "explain_confined_task_fallbacks.txt": ["--task", "chat", "--tag", "private"],
    # a {task: NAME} fallback, whose chain continues through its own fallbacks
    "explain_confined_task_chain.txt": ["--task", "code", "--tag", "private"],
    # an unknown task served by the default task, which falls back through two tasks
    "explain_confined_default_task.txt": ["--task", "translate", "--tag", "private"],
    # route_to in the same rule as the candidates
    "explain_confined_route_to.txt": ["--task", "chat", "--tag", "review"],
    # only: the task's candidates and fallbacks inside the set, in their order
    "explain_confined_only.txt": ["--task", "chat", "--tag", "on-prem"],
    # on_budget: cheapest narrows to the cheapest model inside the confinement
    "explain_confined_cheapest.txt": ["--task", "frugal", "--tag", "vetted"],
    # no rule: extract requires json, also of the models it reaches through task 'general'
    "explain_extract_json_through_task_fallback.txt": ["--task", "extract"],
}


@pytest.mark.usefixtures("keys")
@pytest.mark.parametrize("golden", sorted(CONFINED_CASES))
def test_explain_confinement_holds_through_every_fallback_path(golden: str) -> None:
    argv = [*CONFINED_CASES[golden], "--prompt", "Keep this here."]
    code, out, err = call("explain", "--config", str(CONFINEMENT), *argv)
    assert code == 0, err
    check_golden(golden, out)
    chain = out.split("chain (tried in order):\n", 1)[1].split("\nskipped:", 1)[0]
    tried = [line.split()[1] for line in chain.splitlines() if line.strip()[:1].isdigit()]
    confined = next((ln for ln in out.splitlines() if ln.startswith("confined:")), None)
    if confined is not None:  # every model tried is one the rule allows
        allowed = confined.removeprefix("confined:").split("(")[0].replace(",", " ").split()
        assert tried and set(tried) <= set(allowed)


@pytest.mark.usefixtures("keys")
def test_explain_huge_input_follows_the_rule_to_long_context(tmp_path: Path) -> None:
    messages = tmp_path / "messages.json"
    messages.write_text(json.dumps([{"role": "user", "content": "word " * 100_000}]))
    code, out, _ = call(
        "explain", "--config", str(ROUTES), "--task", "summarize", "--messages", str(messages)
    )
    assert code == 0
    check_golden("explain_huge_input.txt", out)


def test_explain_without_keys_plans_as_if_set_and_names_the_unset_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ("explain", "--config", str(ROUTES), "--task", "summarize", "--prompt", "x")
    for name in KEYS:
        monkeypatch.delenv(name, raising=False)
    code, out, err = call(*argv)
    assert code == 0
    assert err == (
        "note: OPENAI_API_KEY, ANTHROPIC_API_KEY, ANTHROPIC_API_KEY_2 are not set: planned as if "
        "set (a call now "
        "would skip the models that need them)\n"
    )
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    assert call(*argv) == (0, out, "")  # the same plan as with the keys, and no note


@pytest.mark.usefixtures("keys")
def test_explain_json_format() -> None:
    code, out, _ = call(
        "explain", "--config", str(ROUTES), "--task", "chat", "--prompt", "hi", "--format", "json"
    )
    assert code == 0
    plan = json.loads(out)
    assert plan["task"] == "chat"
    assert [c["model"] for c in plan["chain"]] == [
        "gpt-4o-mini",
        "claude-haiku",
        "gpt-4o",
        "claude-sonnet",
    ]
    assert plan["chain"][0]["score"] <= plan["chain"][1]["score"]


@pytest.mark.usefixtures("keys")
def test_explain_unknown_task_without_default_is_a_usage_error(tmp_path: Path) -> None:
    spec = tmp_path / "routes.yaml"
    spec.write_text((ROOT / "configs" / "minimal.yaml").read_text().replace("default:", "chat:"))
    code, _, err = call("explain", "--config", str(spec), "--task", "nope", "--prompt", "x")
    assert code == 2
    assert "unknown task 'nope'; known tasks: chat" in err


def test_explain_invalid_config_exits_one_with_every_error(tmp_path: Path) -> None:
    spec = tmp_path / "routes.yaml"
    spec.write_text("version: 1\nproviders: {}\nmodels: {}\ntasks: {}\n")
    code, _, err = call("explain", "--config", str(spec), "--task", "x", "--prompt", "y")
    assert code == 1
    assert "3 errors in the routing spec" in err


# --- complete, against the sandbox ------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def demo_config(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    sandbox.reset()
    monkeypatch.setenv("SANDBOX_API_KEY", "sk-sandbox")
    text = (
        (ROOT / "configs" / "demo.yaml")
        .read_text()
        .replace("127.0.0.1:8765", f"127.0.0.1:{sandbox.port}")
        # The CLI runs in real time: no same-model retries, so no backoff sleeps.
        .replace("\ndefaults:\n", "\ndefaults:\n  retry: {attempts: 1}\n")
    )
    path = tmp_path / "demo.yaml"
    path.write_text(text)
    return path


def test_complete_streams_the_answer_and_reports_model_tokens_cost(demo_config: Path) -> None:
    code, out, err = call(
        "complete",
        "--config",
        str(demo_config),
        "--task",
        "summarize",
        "The first sentence is here. Second.",
    )
    assert code == 0, err
    assert out.startswith("Summary: The first sentence is here.") and out.endswith("\n")
    assert err.startswith("[mini (gpt-4o-mini via sandbox-openai) · ")
    assert " out tokens · $0.0000" in err and "mini:ok]" in err


def test_complete_no_stream_after_a_fallback(demo_config: Path, sandbox: Sandbox) -> None:
    sandbox.script("503", times=1, model="gpt-4o-mini")
    code, out, err = call(
        "complete", "--config", str(demo_config), "--task", "summarize", "--no-stream", "Hi. There."
    )
    assert code == 0, err
    assert out == "Summary: Hi.\n" or out.startswith("Summary:")
    assert "mini:ProviderUnavailable → haiku:ok]" in err


def test_complete_cut_stream_exits_one(demo_config: Path, sandbox: Sandbox) -> None:
    sandbox.script("cut=2", times=1, model="gpt-4o-mini")
    code, out, err = call(
        "complete", "--config", str(demo_config), "--task", "summarize", "One two three four. Five."
    )
    assert code == 1
    assert out.startswith("Summary")
    assert "was cut after it had started" in err


def test_complete_all_failed_exits_one_listing_attempts(
    demo_config: Path, sandbox: Sandbox
) -> None:
    sandbox.set_fault("500")
    code, _, err = call("complete", "--config", str(demo_config), "--task", "summarize", "x. y.")
    assert code == 1
    assert "every model in the chain failed (3 attempts)" in err


def test_complete_needs_a_prompt(demo_config: Path) -> None:
    code, _, err = call("complete", "--config", str(demo_config), "--task", "summarize")
    assert code == 2
    assert "give the prompt" in err


def test_models_and_graph(demo_config: Path) -> None:
    code, out, _ = call("models", "--config", str(demo_config), "--remote")
    assert code == 0
    assert "mini" in out and "available · listed by provider" in out
    code, out, _ = call("graph", "--config", str(demo_config))
    assert code == 0
    assert "summarize [priority cost]" in out and "sonnet" in out
    code, out, _ = call("graph", "--config", str(demo_config), "--mermaid")
    assert out.startswith("flowchart LR")


def test_demo_runs_keys_free_and_shows_each_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("SANDBOX_API_KEY", raising=False)
    code, out, err = call("demo")
    assert code == 0, err
    assert "1. validated configs/demo.yaml" in out
    assert "attempts: haiku (ProviderUnavailable) → mini (ok)" in out
    assert "rule: vip-quality · chain: sonnet, haiku, mini" in out
    assert "StreamInterrupted, not a clean stop: partial text 'Summary: The'" in out
    assert "total cost of the demo's answers: $0.0" in out


def test_health_shows_breakers_limits_and_state(demo_config: Path) -> None:
    code, out, _ = call("health", "--config", str(demo_config))
    assert code == 0
    assert out.splitlines()[0] == "state: memory (ok)"
    assert "mini" in out and "breaker closed" in out
    code, out, _ = call("health", "--config", str(demo_config), "--format", "json")
    health = json.loads(out)
    assert health["models"]["sonnet"]["breaker"]["state"] == "closed"
    assert health["state"]["backend"] == "memory"
    assert health["state"]["status"] == "ok"


def test_simulate_routes_yaml_with_first_candidates_failing_loses_nothing() -> None:
    code, out, _ = call(
        "simulate", "--config", str(ROUTES), "--requests", "200", "--faults", "first=500,p=0.3"
    )
    assert code == 0
    assert "no request lost (200 of 200 answered)" in out


def test_simulate_exits_one_when_requests_are_lost() -> None:
    code, out, _ = call(
        "simulate", "--config", str(ROUTES), "--requests", "20", "--faults", "all=500"
    )
    assert code == 1
    assert "lost" in out


def test_simulate_unknown_model_fault_is_a_usage_error() -> None:
    code, _, err = call(
        "simulate", "--config", str(ROUTES), "--requests", "5", "--faults", "model:nope=500"
    )
    assert code == 2
    assert "nope" in err


def test_report_without_a_ledger_file_explains(tmp_path: Path) -> None:
    code, _, err = call("report", "--ledger", str(tmp_path / "none.sqlite"))
    assert code == 2
    assert "no ledger at" in err
    code, _, err = call("report", "--config", str(ROUTES))
    assert code == 2
    assert "set telemetry.ledger.path or pass --ledger FILE" in err
