"""A provider whose SDK cannot be imported is a ConfigError that names the provider and what
to install, never a raw ImportError: when the Router is built (it loads the SDKs then), or,
built with ``preload=False`` (the CLI), on the first call, where the chain moves on past that
model as for any call-time configuration problem.

The import fails for real: a child interpreter puts None in ``sys.modules`` for the package
before anything imports it (Python's own way to make an import fail)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

SPEC = """
version: 1
providers:
  oai:
    type: openai
    base_url: "http://127.0.0.1:9/v1"
    api_key_env: KEY
    local: true
  ant:
    type: anthropic
    base_url: "http://127.0.0.1:9"
    api_key_env: KEY
    local: true
  compat:
    type: openai_compatible
    base_url: "http://127.0.0.1:9/v1"
    local: true
models:
  gpt: {provider: oai, id: gpt}
  claude: {provider: ant, id: claude}
  local: {provider: compat, id: local}
tasks:
  gpt: {candidates: [gpt]}
  claude: {candidates: [claude]}
  local: {candidates: [local]}
"""

CHILD = """
import json, sys
for name in sys.argv[3:]:
    sys.modules[name] = None  # importing it now raises ModuleNotFoundError
from router import Router

def seen(exc):
    return {
        "type": type(exc).__name__,
        "mro": [c.__name__ for c in type(exc).__mro__],
        "text": str(exc),
        "members": [seen(e) for e in getattr(exc, "exceptions", ())],
        "detached": exc.__cause__ is None and exc.__context__ is None,
    }

out = {}
try:
    router = Router.from_yaml(sys.argv[1], environ={"KEY": "sk-test"}, preload=True)
    out["built"] = None
except Exception as exc:
    out["built"] = seen(exc)
router = Router.from_yaml(sys.argv[1], environ={"KEY": "sk-test"}, preload=False)
try:
    router.complete(sys.argv[2], prompt="Hi.")
except Exception as exc:
    out["call"] = seen(exc)
print(json.dumps(out))
"""


CLOUD_SPEC = """
version: 1
providers:
  bedrock:
    {type: anthropic_bedrock, region: us-east-1, base_url: "http://127.0.0.1:9", local: true}
  vertex:
    type: anthropic_vertex
    region: us-east5
    project: p
    base_url: "http://127.0.0.1:9/v1"
    local: true
models:
  b: {provider: bedrock, id: "anthropic.claude-haiku-4-5-20251001-v1:0"}
  v: {provider: vertex, id: "claude-haiku-4-5@20251001"}
tasks:
  bedrock: {candidates: [b]}
  vertex: {candidates: [v]}
"""


def _run(tmp_path: Path, task: str, *blocked: str, spec_text: str = SPEC) -> dict[str, Any]:
    spec = tmp_path / "routes.yaml"
    spec.write_text(spec_text)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(spec), task, *blocked],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(
    ("blocked", "task", "first", "provider", "install"),
    [
        ("anthropic", "claude", "ant", "ant", "pip install anthropic"),
        ("openai", "gpt", "oai", "oai", "pip install openai"),
        ("openai", "local", "oai", "compat", "pip install openai"),
        ("httpx2", "claude", "oai", "ant", "pip install anthropic"),  # both SDKs need it
    ],
)
def test_a_provider_whose_sdk_cannot_be_imported_is_a_config_error(
    tmp_path: Path, blocked: str, task: str, first: str, provider: str, install: str
) -> None:
    result = _run(tmp_path, task, blocked)

    built = result["built"]  # building the Router loads every usable provider's SDK
    assert "ConfigError" in built["mro"] and built["type"] == "ProviderConfigError"
    assert built["text"].startswith(f"{first}: provider type ")  # the first that needs it
    assert f"import of {blocked} halted" in built["text"]
    assert built["detached"]
    # preload=False: the first call says it, as the one attempt of its chain
    call = result["call"]
    assert call["type"] == "AllModelsFailed"
    [attempt] = call["members"]
    assert attempt["type"] == "ProviderConfigError" and attempt["detached"]
    assert attempt["text"].startswith(f"{provider}: provider type ")
    assert f"import of {blocked} halted" in attempt["text"]
    assert attempt["text"].endswith(f"install it: {install}")


def test_an_adapter_module_that_cannot_be_imported_is_a_config_error(tmp_path: Path) -> None:
    """What a future provider behind an optional extra gives when its module's imports fail."""
    result = _run(tmp_path, "claude", "router.providers.anthropic")

    built = result["built"]
    assert built["type"] == "ProviderConfigError" and built["detached"]
    assert built["text"].startswith("ant: provider type 'anthropic' cannot be used")
    assert "install the package that provides 'router.providers.anthropic'" in built["text"]
    [attempt] = result["call"]["members"]
    assert attempt["type"] == "ProviderConfigError"


@pytest.mark.parametrize(
    ("blocked", "task", "extra"),
    [("boto3", "bedrock", "bedrock"), ("google.auth", "vertex", "vertex")],
)
def test_a_cloud_provider_without_its_extra_names_the_extra(
    tmp_path: Path, blocked: str, task: str, extra: str
) -> None:
    """SigV4 (boto3) and Application Default Credentials (google-auth) are optional extras."""
    result = _run(tmp_path, task, blocked, spec_text=CLOUD_SPEC)

    built = result["built"]
    assert built["type"] == "ProviderConfigError" and built["detached"]
    assert built["text"].startswith(f"{task}: provider type 'anthropic_{task}' needs ")
    assert built["text"].endswith(f"install it: pip install 'declarative-llm-router[{extra}]'")
    [attempt] = result["call"]["members"]
    assert attempt["type"] == "ProviderConfigError"
    assert f"declarative-llm-router[{extra}]" in attempt["text"]
