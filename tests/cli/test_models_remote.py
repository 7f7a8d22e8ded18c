"""`router models --remote` asks each provider for its list (the sandbox's /v1/models here) and
says per model whether it is listed, or why the provider could not be asked."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from router.cli import run
from router.sandbox import Sandbox


def test_each_model_is_listed_or_not_or_says_why_not(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SB_KEY", "sk-sandbox")
    monkeypatch.delenv("UNSET_KEY", raising=False)
    spec = tmp_path / "routes.yaml"
    spec.write_text(
        f"""\
version: 1
providers:
  sb:
    type: openai_compatible
    base_url: "{sb.openai_base_url}"
    api_key_env: SB_KEY
    local: true
  broken:
    type: openai_compatible
    base_url: "{sb.fault_url("500")}/v1"
    api_key_env: SB_KEY
    local: true
  nokey: {{type: openai, api_key_env: UNSET_KEY}}
models:
  listed: {{provider: sb, id: sandbox-gpt}}
  unlisted: {{provider: sb, id: no-such-model}}
  failing: {{provider: broken, id: sandbox-gpt}}
  keyless: {{provider: nokey, id: gpt-4o}}
tasks:
  default: {{candidates: [listed, unlisted, failing, keyless]}}
"""
    )
    out, err = io.StringIO(), io.StringIO()
    assert run(["models", "--config", str(spec), "--remote"], out, err) == 0, err.getvalue()
    rows = {line.split()[0]: line for line in out.getvalue().splitlines()}
    assert rows["listed"].endswith("available · listed by provider")
    assert rows["unlisted"].endswith("available · NOT listed by provider")
    assert "· provider's list could not be read (provider unavailable: " in rows["failing"]
    assert "500" in rows["failing"] or "unavailable" in rows["failing"]
    assert (
        "· provider's list not asked (UNSET_KEY is not set)" in rows["keyless"]
        and "UNSET_KEY" in rows["keyless"]
    )
    # Without --remote nobody is asked.
    out = io.StringIO()
    assert run(["models", "--config", str(spec)], out, io.StringIO()) == 0
    assert "provider" not in out.getvalue().replace("provider: ", "")
