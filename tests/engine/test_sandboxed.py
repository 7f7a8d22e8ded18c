"""Any spec run keys-free on the in-process sandbox: ``Router.from_yaml(path, sandbox=True)``.

The spec is the repository's own configs/routes.yaml (openai, anthropic and a local
openai_compatible provider), through the real SDKs over real HTTP to the sandbox."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from pathlib import Path

import pytest

from router.engine.router import Router
from router.engine.sandboxed import DUMMY_KEY, sandbox_changes
from router.errors import ConfigError, RequestError
from router.sandbox import Sandbox
from router.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
ROUTES = ROOT / "configs" / "routes.yaml"
CANARY = "sk-canary-9QzX4mT7wP2rL8vN"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_every_provider_type_answers_on_the_sandbox_without_keys() -> None:
    with Router.from_yaml(ROUTES, environ={}, sandbox=True) as router:
        assert router.sandbox is not None
        openai = router.complete("extract", prompt="Name: Ada. Born: 1815.")
        anthropic = router.complete("code", prompt="Write a parser.")
        local = router.complete("summarize", prompt="A private note.", tags=["private"])
        recorded = [(r.api, r.path, r.model) for r in router.sandbox.requests]

    assert (openai.provider, anthropic.provider, local.provider) == ("openai", "anthropic", "local")
    assert all(r.content for r in (openai, anthropic, local))
    assert recorded == [
        ("openai", "/v1/chat/completions", "gpt-4o-mini"),
        ("anthropic", "/v1/messages", "claude-sonnet-4-5"),
        ("openai", "/v1/chat/completions", "llama3.1:8b"),
    ]


def test_real_keys_in_the_environment_are_never_sent() -> None:
    # A sandbox that accepts only the dummy key: a real key sent would be refused (401).
    environ = {"OPENAI_API_KEY": CANARY, "ANTHROPIC_API_KEY": CANARY}
    with (
        Sandbox(api_key=DUMMY_KEY) as sb,
        Router.from_yaml(ROUTES, environ=environ, sandbox=sb) as router,
    ):
        r = router.complete("chat", prompt="Hello.")
        streamed = "".join(c.delta for c in router.stream("code", prompt="Hi."))
        assert [a.outcome for a in r.attempts] == ["ok"]
        assert streamed
        assert all(CANARY not in str(req.headers) for req in sb.requests)


def test_nothing_but_the_providers_addresses_changes() -> None:
    spec = load_spec(ROUTES, environ={})
    with Router(spec, sandbox=True) as router:
        assert router.sandbox is not None
        run = router.spec
        assert (run.models, run.tasks, run.rules, run.defaults, run.budgets) == (
            spec.models,
            spec.tasks,
            spec.rules,
            spec.defaults,
            spec.budgets,
        )
        for name, provider in spec.providers.items():
            moved = run.providers[name]
            assert moved.base_url is not None
            assert moved.base_url.startswith(router.sandbox.url)
            assert dataclasses.replace(
                moved, base_url=provider.base_url, api_key_env=provider.api_key_env
            ) == (provider)
        assert (
            router.explain("chat", prompt="x").chain
            == Router(
                spec, environ={"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"}, preload=False
            )
            .explain("chat", prompt="x")
            .chain
        )


def test_redis_state_and_a_ledger_file_stay_out_of_a_sandbox_run(tmp_path: Path) -> None:
    ledger = tmp_path / "usage.sqlite"
    spec_file = tmp_path / "routes.yaml"
    text = ROUTES.read_text().replace(
        "state:\n  backend: memory ", "state:\n  url_env: REDIS_URL\n  backend: redis "
    )
    spec_file.write_text(text + f"telemetry: {{ledger: {{path: {ledger}}}}}\n")
    spec = load_spec(spec_file, environ={})
    assert sandbox_changes(spec) == [
        "state in memory instead of redis (REDIS_URL not needed)",
        "the usage ledger in memory (its file is not written)",
    ]
    with Router.from_yaml(spec_file, environ={}, sandbox=True) as router:
        router.complete("chat", prompt="Hello.")
        assert router.health()["state"]["backend"] == "memory"
        assert len(router.telemetry.ledger) == 1
    assert not ledger.exists()


def test_close_stops_the_sandbox_the_router_started() -> None:
    router = Router.from_yaml(ROUTES, environ={}, sandbox=True)
    assert router.sandbox is not None
    port = router.sandbox.port
    router.complete("chat", prompt="Hello.")
    router.close()
    assert not _listening(port)
    router.close()  # twice is fine


def test_aclose_stops_it_too() -> None:
    async def main() -> int:
        async with Router.from_yaml(ROUTES, environ={}, sandbox=True) as router:
            assert router.sandbox is not None
            r = await router.acomplete("summarize", prompt="One. Two.")
            assert r.content
            return router.sandbox.port

    port = asyncio.run(main())
    assert not _listening(port)


def test_a_sandbox_passed_in_stays_the_callers() -> None:
    with Sandbox() as sb:
        with Router.from_yaml(ROUTES, environ={}, sandbox=sb) as router:
            assert router.sandbox is sb
            sb.script("503", times=1, model="gpt-4o-mini")  # faults scripted as usual
            r = router.complete("summarize", prompt="Hi. There.")
            assert [a.outcome for a in r.attempts] == ["error", "ok"]
        assert _listening(sb.port)


def test_a_sandbox_option_of_the_wrong_type_is_a_request_error() -> None:
    spec = load_spec(ROUTES, environ={})
    with pytest.raises(RequestError, match="sandbox must be True, False or") as caught:
        Router(spec, sandbox="yes")  # type: ignore[arg-type]
    assert caught.value.argument == "sandbox"


def test_header_variables_get_dummy_values_too(tmp_path: Path) -> None:
    spec_file = tmp_path / "routes.yaml"
    spec_file.write_text(
        "version: 1\n"
        "providers:\n"
        "  gw:\n"
        "    type: openai_compatible\n"
        "    base_url: https://gateway.example.com/v1\n"
        "    headers: {X-Team: {env: TEAM_ID}}\n"
        "models:\n"
        "  m: {provider: gw, id: some-model}\n"
        "tasks:\n"
        "  default: {candidates: [m]}\n"
    )
    with Router.from_yaml(spec_file, environ={}, sandbox=True) as router:
        assert router.sandbox is not None
        r = router.complete("anything", prompt="Hello.")
        (sent,) = router.sandbox.requests
    assert r.provider == "gw"
    assert sent.headers.get("x-team") == "router-sandbox-dummy-value"


def test_from_yaml_require_env_refuses_a_spec_whose_key_is_unset() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY") as caught:
        Router.from_yaml(ROUTES, environ={}, require_env=True)
    assert {d.code for d in caught.value.diagnostics} == {"env-unset"}
    assert all(d.file == str(ROUTES) for d in caught.value.diagnostics)
