"""What reaches a provider is what the spec says: its base_url, its key, its headers, and the
SDK's own descriptive headers; nothing the SDKs would pick up from the environment or the disk
on their own (organisation, project, admin and webhook keys, custom headers, auth tokens,
credential profiles under $HOME, base URLs).

Every such variable is set to a canary value, $HOME points at a directory holding an
Anthropic credentials profile, and requests go through the real Router (sync, async, stream,
async stream) to sandboxes that record what arrived, headers included."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from router import Router
from router.sandbox import Sandbox

CANARY = "canary9f3e"
SPEC_KEY = "sk-spec-key-0123456789"

#: Everything both SDKs read from the environment when an argument is left out.
CANARY_ENV = {
    "OPENAI_API_KEY": f"sk-{CANARY}-openai-api-key",
    "OPENAI_ADMIN_KEY": f"sk-admin-{CANARY}",
    "OPENAI_ORG_ID": f"org-{CANARY}",
    "OPENAI_PROJECT_ID": f"proj_{CANARY}",
    "OPENAI_WEBHOOK_SECRET": f"whsec_{CANARY}",
    "OPENAI_BASE_URL": f"http://127.0.0.1:9/{CANARY}/v1",
    "OPENAI_CUSTOM_HEADERS": f"X-Env-Openai: {CANARY}\nAuthorization: Bearer {CANARY}",
    "ANTHROPIC_API_KEY": f"sk-ant-{CANARY}",
    "ANTHROPIC_AUTH_TOKEN": f"token-{CANARY}",
    "ANTHROPIC_CUSTOM_HEADERS": f"X-Env-Anthropic: {CANARY}\nanthropic-beta: {CANARY}",
    "ANTHROPIC_WEBHOOK_SIGNING_KEY": f"whsec_{CANARY}",
    "ANTHROPIC_BASE_URL": f"http://127.0.0.1:9/{CANARY}",
    "ANTHROPIC_WORKSPACE_ID": f"wrkspc_{CANARY}",
    "ANTHROPIC_ORGANIZATION_ID": f"org-{CANARY}",
    "ANTHROPIC_PROFILE": "default",
}

#: What the SDKs send on their own that describes the software, not the user: the transport
#: headers, the SDK's User-Agent and x-stainless-* facts (language, SDK version, OS family,
#: architecture, Python implementation and version, async or not, retry count, timeout), and
#: the Anthropic API version.
SDK_HEADERS = {
    "host",
    "accept",
    "accept-encoding",
    "connection",
    "content-length",
    "content-type",
    "user-agent",
    "anthropic-version",
    "x-stainless-lang",
    "x-stainless-package-version",
    "x-stainless-os",
    "x-stainless-arch",
    "x-stainless-runtime",
    "x-stainless-runtime-version",
    "x-stainless-async",
    "x-stainless-retry-count",
    "x-stainless-read-timeout",
    "x-stainless-timeout",
}

SPEC = """
version: 1
providers:
  oai:
    type: openai
    base_url: "{keyed}/v1"
    api_key_env: SPEC_KEY
    local: true
    headers: {{X-Team: routing}}
  ant:
    type: anthropic
    base_url: "{keyed}"
    api_key_env: SPEC_KEY
    local: true
    headers: {{X-Team: routing}}
  compat:
    type: openai_compatible
    base_url: "{open}/v1"
    local: true
    headers: {{X-Team: routing}}
models:
  gpt: {{provider: oai, id: sandbox-gpt}}
  claude: {{provider: ant, id: sandbox-claude}}
  local: {{provider: compat, id: sandbox-gpt-mini}}
tasks:
  gpt: {{candidates: [gpt]}}
  claude: {{candidates: [claude]}}
  local: {{candidates: [local]}}
defaults:
  retry: {{attempts: 1}}
"""


def _profile(home: Path) -> None:
    """An Anthropic credentials profile where the SDK looks for one: ~/.config/anthropic."""
    base = home / ".config" / "anthropic"
    (base / "configs").mkdir(parents=True)
    (base / "credentials").mkdir()
    config = {
        "authentication": {"type": "user_oauth"},
        "workspace_id": f"wrkspc_{CANARY}",
        "base_url": f"https://{CANARY}.example.com",
    }
    (base / "configs" / "default.json").write_text(json.dumps(config))
    (base / "active_config").write_text("default")
    secret = base / "credentials" / "default.json"
    secret.write_text(json.dumps({"version": "1.0", "access_token": f"oauth-{CANARY}"}))
    secret.chmod(0o600)


@pytest.fixture(scope="module")
def keyed() -> Iterator[Sandbox]:
    """Answers only requests that carry the spec's key (a 401 otherwise)."""
    with Sandbox(api_key=SPEC_KEY) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def open_sb() -> Iterator[Sandbox]:
    """A keyless local server, as an openai_compatible provider often is."""
    with Sandbox(keyless=True) as sandbox:
        yield sandbox


@pytest.fixture
def spec_path(
    keyed: Sandbox, open_sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The spec, with every canary variable set and $HOME holding a credentials profile."""
    keyed.reset()
    open_sb.reset()
    home = tmp_path / "home"
    _profile(home)
    monkeypatch.setenv("HOME", str(home))
    for name, value in CANARY_ENV.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "routes.yaml"
    path.write_text(SPEC.format(keyed=keyed.url, open=open_sb.url))
    return path


@pytest.fixture
def router(spec_path: Path) -> Iterator[Router]:
    with Router.from_yaml(spec_path, environ={"SPEC_KEY": SPEC_KEY}) as built:
        yield built


async def _async_calls(router: Router, task: str) -> str:
    answer = (await router.acomplete(task, prompt="Hi.")).content
    async for _ in router.astream(task, prompt="Hi."):
        pass
    return answer


@pytest.mark.parametrize("task", ["gpt", "claude", "local"])
def test_only_the_spec_reaches_the_provider_whatever_the_environment_holds(
    router: Router, keyed: Sandbox, open_sb: Sandbox, task: str
) -> None:
    assert router.complete(task, prompt="Hi.").content
    assert "".join(c.delta for c in router.stream(task, prompt="Hi."))
    assert asyncio.run(_async_calls(router, task))

    sandbox = open_sb if task == "local" else keyed
    requests = sandbox.requests
    assert [(r.stream, r.status) for r in requests] == [
        (False, 200),
        (True, 200),
        (False, 200),
        (True, 200),
    ]
    for recorded in requests:
        headers = recorded.headers
        assert CANARY not in json.dumps([recorded.raw_path, headers, recorded.body])
        unexpected = set(headers) - SDK_HEADERS - {"x-team", "authorization"}
        assert not unexpected, f"headers the spec did not set: {sorted(unexpected)}"
        assert headers["x-team"] == "routing"
        # The keyed sandbox answered, so the key sent was the spec's; a keyless provider
        # sends no Authorization at all (not a placeholder).
        assert ("authorization" in headers) == (task != "local")


def test_the_sdks_own_tracing_neither_records_prompts_nor_sends_trace_headers(
    spec_path: Path, keyed: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an OpenTelemetry SDK configured and ANTHROPIC_OPEN_TELEMETRY_* asking for content,
    the anthropic SDK would put the prompt on its spans and a traceparent on the request.
    Its tracing is off: the router's own spans (no text) are the ones."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)  # the global, for this test only
    monkeypatch.setenv("ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE", "content")
    prompt = f"A private question {CANARY}."

    with (
        Router.from_yaml(spec_path, environ={"SPEC_KEY": SPEC_KEY}) as router,
        provider.get_tracer("app").start_as_current_span("app.request"),
    ):
        assert router.complete("claude", prompt=prompt).content
        assert "".join(c.delta for c in router.stream("claude", prompt=prompt))

    spans = exporter.get_finished_spans()
    assert {s.instrumentation_scope.name for s in spans if s.instrumentation_scope} <= {
        "app",
        "router",
    }
    assert CANARY not in json.dumps([dict(s.attributes or {}) for s in spans], default=str)
    assert all("traceparent" not in r.headers for r in keyed.requests)
