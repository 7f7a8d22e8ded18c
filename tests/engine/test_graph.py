"""`router graph` shows what is true: a cache only on the models a caching task can reach, and
the fallbacks each rule leaves in place."""

from __future__ import annotations

from pathlib import Path

from router.engine.router import Router

SPEC = """\
version: 1
providers:
  oai: {type: openai, api_key_env: OPENAI_API_KEY}
models:
  small: {provider: oai, id: small}
  large: {provider: oai, id: large}
  local: {provider: oai, id: local}
  other: {provider: oai, id: other}
tasks:
  summarize:
    candidates: [small]
    fallback: [local]
    cache: {enabled: true, ttl: 600}
  chat:
    candidates: [large]
    fallback: [local, other]
  long:
    candidates: [other]
rules:
  - name: private
    when: {tags: [private]}
    candidates: [local]
  - name: no-local
    when: {task: chat}
    exclude: [local]
  - name: big
    when: {min_input_tokens: 100000}
    route_to: long
"""


def _graph(tmp_path: Path) -> list[str]:
    path = tmp_path / "routes.yaml"
    path.write_text(SPEC)
    with Router.from_yaml(path, environ={"OPENAI_API_KEY": "k"}, preload=False) as router:
        return str(router.graph).splitlines()


def test_the_cache_is_shown_only_where_a_caching_task_reaches(tmp_path: Path) -> None:
    lines = _graph(tmp_path)
    stacks = {line.split()[0]: line for line in lines if "→ adapter" in line}
    # summarize caches: its candidate, its fallback, and the model a rule may confine it to.
    assert "cache(for summarize) → breaker" in stacks["small"]
    assert "cache(for summarize) → breaker" in stacks["local"]
    # chat and long do not cache: no cache layer on the models only they reach.
    assert "cache" not in stacks["large"] and "cache" not in stacks["other"]
    assert "    cache:      on, 600s" in lines


def test_each_rule_shows_the_fallbacks_it_leaves(tmp_path: Path) -> None:
    lines = _graph(tmp_path)
    text = "\n".join(lines)
    assert (
        "  1. private: candidates local\n     fallbacks: none (confined to its candidates)" in text
    )
    assert "  2. no-local: exclude local\n     fallbacks left: chat → other" in text
    assert "  3. big: route_to long\n     fallbacks left: long → (none)" in text
