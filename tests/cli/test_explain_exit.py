"""`router explain` says in its exit status whether the request would be served: 0 when the
chain has a model, 1 when it is empty (the plan, with every model's reason, is still printed)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from router.cli import run

SPEC = """\
version: 1
providers:
  oai: {type: openai, api_key_env: OPENAI_API_KEY}
models:
  tiny: {provider: oai, id: tiny, context_window: 64, max_output_tokens: 16}
tasks:
  chat: {candidates: [tiny]}
"""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_an_empty_chain_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    spec = tmp_path / "routes.yaml"
    spec.write_text(SPEC)
    argv = ["explain", "--config", str(spec), "--task", "chat", "--format", fmt, "--prompt"]
    out, err = io.StringIO(), io.StringIO()
    assert run([*argv, "hi"], out, err) == 0
    out, err = io.StringIO(), io.StringIO()
    assert run([*argv, "word " * 500], out, err) == 1
    assert "tiny" in out.getvalue()  # the plan says why
    assert err.getvalue() == "router explain: no model of task 'chat' can take this request\n"
