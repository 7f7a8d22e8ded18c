"""models(), graph, explain(), loading errors and lazy SDK imports."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from router import ConfigError, RequestError, Router
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter

ROOT = Path(__file__).resolve().parents[2]

SPEC = (
    PROVIDERS
    + """
  other:
    type: anthropic
    base_url: "{anthropic}"
    api_key_env: OTHER_KEY
    local: true
models:
  gpt: {provider: oai, id: sandbox-gpt, pricing: {input: 1, output: 2}, context_window: 128000}
  claude: {provider: ant, id: sandbox-claude, pricing: {input: 3, output: 15}}
  ghost: {provider: oai, id: not-served-anywhere}
  keyed: {provider: other, id: sandbox-claude-haiku}
tasks:
  summarize: {candidates: [gpt, claude], fallback: [ghost]}
  chat: {candidates: [claude, keyed], fallback: [{task: summarize}]}
rules:
  - name: vip-first
    when: {tags: [vip]}
    candidates: [claude]
"""
)


def test_models_lists_every_model_with_its_availability(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    infos = {m.name: m for m in make_router(SPEC).models()}
    assert list(infos) == ["gpt", "claude", "ghost", "keyed"]
    gpt = infos["gpt"]
    assert (gpt.provider, gpt.id, gpt.context_window) == ("oai", "sandbox-gpt", 128000)
    assert gpt.capabilities == {"streaming"}
    assert all(infos[n].available and infos[n].reason is None for n in ("gpt", "claude", "ghost"))
    assert (infos["keyed"].available, infos["keyed"].reason) == (False, "OTHER_KEY is not set")
    assert all(m.listed_by_provider is None for m in infos.values())
    assert sb.stats["requests"] == 0


def test_models_remote_asks_each_available_provider_for_its_list(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    infos = {m.name: m for m in make_router(SPEC).models(remote=True)}
    assert infos["gpt"].listed_by_provider is True
    assert infos["claude"].listed_by_provider is True
    assert infos["ghost"].listed_by_provider is False  # the sandbox does not serve that id
    assert infos["keyed"].listed_by_provider is None  # its provider has no key: not asked
    assert sb.stats["requests"] == 2  # one model list per available provider


def test_graph_text_mentions_every_rule_task_and_model(make_router: MakeRouter) -> None:
    text = str(make_router(SPEC).graph)
    for name in ("vip-first", "summarize", "chat", "gpt", "claude", "ghost", "keyed"):
        assert name in text
    assert "fallback:   task:summarize" in text
    assert "sandbox-claude-haiku" in text


def test_graph_mermaid_has_a_node_for_every_task_and_model_and_the_edges(
    make_router: MakeRouter,
) -> None:
    mermaid = make_router(SPEC).graph.mermaid()
    assert mermaid.splitlines()[0] == "flowchart LR"
    for task in ("summarize", "chat"):
        assert f'task_{task}(["task: {task}"])' in mermaid
    for model in ("gpt", "claude", "ghost", "keyed"):
        assert f"model_{model}[" in mermaid
    assert "task_summarize --> model_gpt" in mermaid
    assert "task_chat -.->|fallback| task_summarize" in mermaid
    assert "rule_vip_first -->|candidate| model_claude" in mermaid


def test_explain_returns_the_plan_and_sends_nothing(make_router: MakeRouter, sb: Sandbox) -> None:
    plan = make_router(SPEC).explain("chat", prompt="Hello there.")
    assert plan.task.name == "chat" and plan.rule is None
    assert plan.models == ("claude", "gpt", "ghost")
    assert {c.model: c.skipped for c in plan.skipped} == {"keyed": "OTHER_KEY is not set"}
    assert sb.requests == [] and sb.stats["requests"] == 0


def test_explain_takes_the_same_arguments_as_a_call(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(SPEC)
    plan = router.explain(
        "summarize", [{"role": "user", "content": "Hi."}], tags=["vip"], max_tokens=10
    )
    assert plan.rule is not None and plan.rule.name == "vip-first"
    assert plan.models == ("claude",)  # the rule's candidates confine: fallback ghost is out
    with pytest.raises(RequestError):
        router.explain("summarize", prompt="Hi.", api_key="sk-x")
    assert sb.stats["requests"] == 0


def test_from_yaml_refuses_an_invalid_spec_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "version: 1\nproviders: {}\nmodels: {}\ntasks:\n  t: {candidates: [nope]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        Router.from_yaml(path, environ={})
    assert len(info.value.diagnostics) > 1


def test_sdks_load_when_the_router_is_built_and_never_for_import_or_planning() -> None:
    """``import router`` loads no SDK; a Router built with ``preload=False`` (the CLI's
    planning commands) plans without one; a default Router loads each usable provider's SDK
    while it is built, so no call does (on an event loop, that import would stall it)."""
    code = textwrap.dedent(
        """
        import sys
        import router
        SDKS = ("openai", "anthropic", "httpx2")
        env = {"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"}
        loaded = [m for m in SDKS if m in sys.modules]
        r = router.Router.from_yaml("configs/routes.yaml", environ=env, preload=False)
        r.explain("summarize", prompt="Hello.")
        r.models()
        str(r.graph)
        loaded += [m for m in SDKS if m in sys.modules]
        print(",".join(loaded) or "none")
        router.Router.from_yaml("configs/routes.yaml", environ=env)
        print(",".join(m for m in SDKS if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["none", "openai,anthropic,httpx2"], done.stderr


def test_one_router_serves_many_threads_and_event_loops(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    """The Router docstring promises thread- and asyncio-safety: one instance, shared."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    router = make_router(
        PROVIDERS
        + """
models:
  a: {provider: oai, id: a, limits: {requests_per_minute: 100000}}
  b: {provider: ant, id: b}
tasks:
  t: {candidates: [a], fallback: [b], cache: {enabled: true}, params: {temperature: 0}}
"""
    )

    def sync_calls(i: int) -> list[str]:
        return [router.complete("t", prompt=f"Thread {i} call {j}.").model for j in range(10)]

    def async_calls(i: int) -> list[str]:
        async def run() -> list[str]:
            calls = [router.acomplete("t", prompt=f"Loop {i} call {j}.") for j in range(10)]
            return [r.model for r in await asyncio.gather(*calls)]

        return asyncio.run(run())

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(sync_calls, i) for i in range(4)]
        futures += [pool.submit(async_calls, i) for i in range(4)]
        answered = [model for f in futures for model in f.result()]
    assert len(answered) == 80 and set(answered) == {"a"}
    assert len(sb.requests) == 80
