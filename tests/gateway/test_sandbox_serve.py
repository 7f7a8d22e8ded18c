"""`router serve --sandbox`: any spec served keys-free on an in-process sandbox (reloads
included), and the demo's gateway step (scripts/demo_gateway.sh: a curl and an SDK call)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import anthropic
import httpx2
import openai
import pytest

from .helpers import Gateway, wait_for

ROOT = Path(__file__).resolve().parents[2]
ASK = [{"role": "user", "content": "The sky is blue today. It may rain later."}]
PROVIDER_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY_2")


def _keys_free() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in PROVIDER_KEYS}


def test_serve_sandbox_serves_the_example_spec_keys_free_and_reloads_on_its_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PROVIDER_KEYS:
        monkeypatch.delenv(name, raising=False)
    spec = tmp_path / "routes.yaml"
    shutil.copy(ROOT / "configs" / "routes.yaml", spec)
    gw = Gateway(spec, tmp_path / "serve.log", "--sandbox", "--no-auth", keys=None)
    try:
        with openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0) as c:
            r = c.chat.completions.create(model="summarize", messages=ASK)
            assert r.choices[0].message.content.startswith("Summary: ")
            chunks = list(c.chat.completions.create(model="chat", messages=ASK, stream=True))
            assert chunks[-1].choices[0].finish_reason == "stop"
        with anthropic.Anthropic(base_url=gw.url, api_key="unused", max_retries=0) as a:
            m = a.messages.create(model="code", max_tokens=200, messages=ASK)
            assert m.content[0].type == "text" and m.stop_reason == "end_turn"
        # A reload runs the new spec on the same sandbox.
        spec.write_text(spec.read_text() + "\n# touched\n")
        gw.proc.send_signal(signal.SIGHUP)
        wait_for(
            lambda: httpx2.get(gw.url + "/readyz").json()["config"]["generation"] == 2, "reload"
        )
        with openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0) as c:
            assert c.chat.completions.create(model="summarize", messages=ASK).choices
    finally:
        assert gw.stop() == 0
    assert "sk-" not in gw.log.read_text()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the demo shows curl")
def test_the_demo_shows_the_gateway_answering_curl_and_the_sdk_keys_free() -> None:
    env = _keys_free()
    env["ROUTER"] = str(Path(sys.executable).with_name("router"))
    env["PYTHON"] = sys.executable
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo_gateway.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "--sandbox --no-auth (keys-free)" in out
    assert out.count("answer: Summary: ") == 2  # the curl's, then the SDK's
    assert "x-router-task: summarize" in out and "x-router-model: mini" in out
