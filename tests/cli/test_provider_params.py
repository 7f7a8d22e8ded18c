"""`router explain --param` and `router validate` on provider parameters: which models get
which fields (names only, never values), in words and as JSON; the declarations checked."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest

from router.cli import run

SPEC = """\
version: 1
providers:
  oai: {type: openai, api_key_env: OPENAI_API_KEY, extra_params: [service_tier, user]}
  ant: {type: anthropic, api_key_env: ANTHROPIC_API_KEY}
models:
  gpt: {provider: oai, id: gpt-4o-mini}
  claude: {provider: ant, id: claude-haiku-4-5, extra_params: [top_k, metadata.user_id]}
tasks:
  chat: {candidates: [gpt], fallback: [claude], params: {service_tier: flex}}
"""


def call(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = run(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "routes.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_explain_says_which_model_gets_which_field(spec: Path) -> None:
    argv = ["--task", "chat", "--prompt", "hi", "--param", "top_k=40"]
    code, out, err = call("explain", "--config", str(spec), *argv, "--param", "user=alice")
    assert code == 0, err
    assert "provider parameters:\n" in out
    assert "  gpt: gets service_tier, user; drops top_k (not declared)" in out
    assert "  claude: gets top_k; drops service_tier, user (not declared)" in out
    assert "alice" not in out and "flex" not in out


def test_explain_json_lists_them(spec: Path) -> None:
    argv = ["--task", "chat", "--prompt", "hi", "--format", "json"]
    code, out, err = call("explain", "--config", str(spec), *argv)
    assert code == 0, err
    assert json.loads(out)["provider_params"] == {
        "gpt": {"sent": ["service_tier"], "dropped": []},
        "claude": {"sent": [], "dropped": ["service_tier"]},
    }


def test_explain_refuses_a_value_no_model_takes(spec: Path) -> None:
    argv = ["--task", "chat", "--prompt", "hi", "--param", "top_k=-1"]
    code, _, err = call("explain", "--config", str(spec), *argv)
    assert code != 0
    assert "top_k: -1 is not an integer >= 0 (as model 'claude' takes it)" in err


def test_validate_reports_a_param_no_model_of_the_task_declares(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(SPEC.replace("service_tier: flex", "metadata.user_id: u1"), "utf-8")
    path.write_text(path.read_text("utf-8").replace("fallback: [claude], ", ""), "utf-8")
    code, out, err = call("validate", str(path))
    assert code != 0
    assert "'metadata.user_id' is set, but no model it reaches (gpt) declares it" in out + err
    assert "declared by claude" in out + err
