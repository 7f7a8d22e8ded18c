"""Presets of named OpenAI-compatible hosts, and the cloud provider types, as the spec loader
sees them: what a preset fills (and what overrides it), the checks (with did-you-mean), the
notes about what the environment must hold, the README's preset table against the data, and
such a spec run keys-free on the sandbox through the real SDK clients."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from router.engine.router import Router
from router.providers.presets import PRESETS
from router.sandbox import Sandbox
from router.spec import load_spec, validate_bytes

ROOT = Path(__file__).resolve().parents[2]


def spec_text(providers: str, model_provider: str = "p", model_id: str = "m-1") -> bytes:
    return (
        "version: 1\nproviders:\n"
        + textwrap.indent(textwrap.dedent(providers).strip("\n"), "  ")
        + f"\nmodels:\n  m: {{provider: {model_provider}, id: '{model_id}'}}\n"
        "tasks:\n  chat: {candidates: [m]}\n"
    ).encode()


def errors(raw: bytes, **env: str) -> list[str]:
    report = validate_bytes(raw, environ=env)
    return [f"{d.path}: {d.message} | {d.hint}" for d in report.errors]


def test_a_preset_fills_the_host_and_its_key_variable() -> None:
    raw = spec_text("p: {type: openai_compatible, preset: groq}")
    report = validate_bytes(raw, environ={"GROQ_API_KEY": "k"})
    assert report.ok, report.diagnostics
    assert report.spec is not None
    p = report.spec.providers["p"]
    assert (p.preset, p.base_url, p.api_key_env, p.local) == (
        "groq",
        "https://api.groq.com/openai/v1",
        "GROQ_API_KEY",
        False,
    )


def test_a_local_preset_implies_local_and_is_not_flagged() -> None:
    report = validate_bytes(spec_text("p: {type: openai_compatible, preset: ollama}"), environ={})
    assert report.ok and not report.warnings, report.diagnostics
    assert report.spec is not None
    p = report.spec.providers["p"]
    assert (p.base_url, p.api_key_env, p.local) == ("http://localhost:11434/v1", None, True)


def test_fields_written_on_the_provider_override_the_preset() -> None:
    raw = spec_text(
        """
        p:
          type: openai_compatible
          preset: gemini
          api_key_env: GOOGLE_API_KEY
          base_url: https://gemini-proxy.example.com/v1beta/openai
          headers: {X-Team: search}
        """
    )
    spec = load_spec_bytes(raw, GOOGLE_API_KEY="k")
    p = spec.providers["p"]
    assert p.api_key_env == "GOOGLE_API_KEY"
    assert p.base_url == "https://gemini-proxy.example.com/v1beta/openai"
    assert dict(p.headers) == {"X-Team": "search"}


def load_spec_bytes(raw: bytes, **env: str):  # type: ignore[no-untyped-def]
    report = validate_bytes(raw, environ=env)
    assert report.ok and report.spec is not None, report.diagnostics
    return report.spec


def test_an_unknown_preset_is_an_error_with_did_you_mean() -> None:
    (found,) = errors(spec_text("p: {type: openai_compatible, preset: grok}"))
    assert "$.providers.p.preset" in found and "did you mean 'groq'" in found


def test_a_preset_belongs_to_openai_compatible_only() -> None:
    found = errors(spec_text("p: {type: openai, preset: groq, api_key_env: K}"), K="k")
    assert found and all("$.providers.p" in f for f in found)
    assert any("openai_compatible" in f for f in found), found


def test_openai_compatible_needs_a_base_url_or_a_preset() -> None:
    (found,) = errors(spec_text("p: {type: openai_compatible}"))
    assert "base_url" in found


@pytest.mark.parametrize(
    ("provider", "words"),
    [
        (
            "p: {type: azure_openai, base_url: 'https://r.openai.azure.com', api_key_env: K}",
            "api_version",
        ),
        ("p: {type: azure_openai, api_version: '2024-10-21', api_key_env: K}", "base_url"),
        (
            "p: {type: azure_openai, base_url: 'https://r.openai.azure.com', api_version: v}",
            "api_key_env",
        ),
        ("p: {type: openai, api_key_env: K, api_version: '2024-10-21'}", "azure_openai"),
        ("p: {type: anthropic, api_key_env: K, region: us-east-1}", "anthropic_bedrock"),
        ("p: {type: anthropic_bedrock, project: x}", "anthropic_vertex"),
        ("p: {type: anthropic_bedrock, token_env: T}", "azure_openai"),
        ("p: {type: anthropic_bedrok}", "did you mean 'anthropic_bedrock'"),
    ],
)
def test_the_cloud_types_fields_are_checked(provider: str, words: str) -> None:
    found = errors(spec_text(provider), K="k", T="t")
    assert found and any(words in f for f in found), found


def test_the_cloud_types_validate_with_what_they_need() -> None:
    raw = spec_text(
        """
        p:
          type: azure_openai
          base_url: https://r.openai.azure.com
          api_version: '2024-10-21'
          token_env: AZ_TOKEN
        b: {type: anthropic_bedrock, region: us-east-1}
        v: {type: anthropic_vertex, region: global, project: proj}
        """
    )
    report = validate_bytes(raw, environ={"AZ_TOKEN": "t"})
    assert report.ok and not report.warnings, report.diagnostics
    assert report.spec is not None
    v = report.spec.providers["v"]
    assert (v.type, v.region, v.project) == ("anthropic_vertex", "global", "proj")


def test_notes_name_what_the_environment_must_hold() -> None:
    raw = spec_text(
        """
        p: {type: openai_compatible, preset: mistral}
        b: {type: anthropic_bedrock}
        v: {type: anthropic_vertex, region: us-east5}
        """
    )
    notes = [(d.path, d.message) for d in validate_bytes(raw, environ={}).notes]
    assert (
        "$.providers.p.preset",
        "environment variable MISTRAL_API_KEY (the API key of "
        "provider 'p', from preset mistral) is not set",
    ) in notes
    assert any(
        p == "$.providers.b.type" and "no region" in m and "AWS_REGION" in m for p, m in notes
    )
    assert any(p == "$.providers.v.type" and "no project" in m for p, m in notes)
    assert not any(p == "$.providers.v.type" and "no region" in m for p, m in notes)
    quiet = validate_bytes(
        raw,
        environ={
            "MISTRAL_API_KEY": "k",
            "AWS_REGION": "eu-west-1",
            "ANTHROPIC_VERTEX_PROJECT_ID": "x",
        },
    )
    assert not quiet.notes


def test_the_readme_preset_table_and_the_schema_agree_with_the_data() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("### Named OpenAI-compatible hosts", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| `(\S+)` \| (.+?) \| (.*?) \|$", section, re.M)
    table = {name: (title, url, key, local) for name, title, url, key, local in rows}
    expected = {
        p.name: (
            p.title,
            p.base_url,
            f"`{p.api_key_env}`" if p.api_key_env else "— (none needed; `api_key_env` adds one)",
            "`local: true`" if p.local else "",
        )
        for p in PRESETS.values()
    }
    assert table == expected
    schema = json.loads((ROOT / "schemas" / "routes.schema.json").read_text("utf-8"))
    assert schema["$defs"]["provider"]["properties"]["preset"]["enum"] == list(PRESETS)


def test_cloud_types_and_a_preset_answer_on_the_sandbox_without_keys() -> None:
    raw = spec_text(
        """
        az:
          type: azure_openai
          base_url: https://r.openai.azure.com
          api_version: '2024-10-21'
          api_key_env: AZURE_KEY
        bedrock: {type: anthropic_bedrock, region: us-east-1}
        vertex: {type: anthropic_vertex}
        groq: {type: openai_compatible, preset: groq}
        """,
        model_provider="az",
        model_id="gpt-4o-prod",
    ).replace(
        b"tasks:",
        b"  c1: {provider: bedrock, id: 'anthropic.claude-haiku-4-5-20251001-v1:0'}\n"
        b"  c2: {provider: vertex, id: 'claude-haiku-4-5@20251001'}\n"
        b"  g: {provider: groq, id: llama-3.3-70b-versatile}\n"
        b"tasks:\n  bedrock: {candidates: [c1]}\n  vertex: {candidates: [c2]}\n"
        b"  groq: {candidates: [g]}\n",
    )
    spec = load_spec_bytes(raw)
    with Router(spec, environ={}, sandbox=True) as router:
        assert router.sandbox is not None
        for task in ("chat", "bedrock", "vertex", "groq"):
            assert router.complete(task, prompt="Hello there.").content
            assert "".join(c.delta for c in router.stream(task, prompt="Hello there."))
        paths = [r.path for r in router.sandbox.requests]
    assert paths[0] == "/openai/deployments/gpt-4o-prod/chat/completions"
    assert paths[2] == "/model/anthropic.claude-haiku-4-5-20251001-v1:0/invoke"
    assert paths[3].endswith("/invoke-with-response-stream")
    assert paths[4].endswith("/models/claude-haiku-4-5@20251001:rawPredict")
    assert paths[6] == "/v1/chat/completions"


def test_load_spec_reads_a_preset_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_bytes(spec_text("p: {type: openai_compatible, preset: lmstudio}"))
    assert load_spec(path, environ={}).providers["p"].base_url == "http://localhost:1234/v1"


def test_bedrock_signs_with_credentials_from_the_routers_environment() -> None:
    """No sandbox mode: the spec's own provider, SigV4 with static credentials passed in the
    Router's environ (never os.environ), against a sandbox that wants that access key id."""
    with Sandbox(api_key="AKIAROUTERTEST000001") as sb:
        raw = spec_text(
            f"b: {{type: anthropic_bedrock, base_url: '{sb.url}', local: true}}",
            model_provider="b",
            model_id="anthropic.claude-haiku-4-5-20251001-v1:0",
        )
        environ = {
            "AWS_ACCESS_KEY_ID": "AKIAROUTERTEST000001",
            "AWS_SECRET_ACCESS_KEY": "router-test-secret-0123456789abcdef",
            "AWS_REGION": "us-west-2",
        }
        spec = load_spec_bytes(raw, **environ)
        with Router(spec, environ=environ) as router:
            assert router.complete("chat", prompt="Hello there.").content
            assert "".join(c.delta for c in router.stream("chat", prompt="Hello there."))
        signed = sb.requests[-1].headers
    assert "x-amz-date" in signed and signed["authorization"] == "***"
