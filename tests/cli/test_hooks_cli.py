"""The command line and a spec naming hooks: `validate` notes the names, `explain` lists the
hooks a request passes (importing nothing), `complete` runs the hooks `--hooks` registers
and refuses to start without them. (`router serve --hooks`: tests/gateway/test_hooks.py.)"""

from __future__ import annotations

import json
import textwrap
from io import StringIO
from pathlib import Path

import pytest

from router.cli import run

SPEC = """\
version: 1
providers:
  oai: {type: openai, api_key_env: OPENAI_API_KEY}
models:
  mini: {provider: oai, id: gpt-4o-mini, capabilities: [streaming]}
  local: {provider: oai, id: local-model, capabilities: [streaming]}
defaults:
  hooks: [audit]
tasks:
  chat: {candidates: [mini, local], hooks: [mask]}
rules:
  - name: private
    when: {tags: [private]}
    only: [local]
    hooks: [strict]
"""

HOOKS = textwrap.dedent(
    """
    import dataclasses

    def audit(ctx):
        pass

    class Mask:
        def before(self, ctx):
            ctx.messages = [
                dataclasses.replace(m, content=m.content.replace("Alice", "[NAME_1]"))
                if isinstance(m.content, str) else m
                for m in ctx.messages
            ]

        def after(self, ctx, response):
            return dataclasses.replace(
                response, content=response.content.replace("[NAME_1]", "Alice")
            )

    HOOKS = {"audit": audit, "mask": Mask(), "strict": audit}
    """
)


def call(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = tmp_path / "routes.yaml"
    path.write_text(SPEC, encoding="utf-8")
    (tmp_path / "clihooks.py").write_text(HOOKS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return path


def test_validate_notes_every_hook_name_and_where(spec: Path) -> None:
    code, out, _ = call("validate", str(spec))
    assert code == 0
    assert "note: $.defaults.hooks: the spec names 3 hooks: audit (defaults); mask (task " in out
    assert "strict (rule 'private')" in out and "[hooks-named]" in out


def test_explain_lists_the_hooks_in_order_without_importing_them(spec: Path) -> None:
    code, out, _ = call(
        "explain", "--config", str(spec), "--task", "chat", "--prompt", "Hi", "--tag", "private"
    )
    assert code == 0
    assert (
        "hooks:     audit (defaults), mask (task 'chat'), strict (rule 'private'): before the "
        "request in this order, after it reversed"
    ) in out
    code, out, _ = call("explain", "--config", str(spec), "--task", "chat", "--format", "json")
    assert json.loads(out)["hooks"] == [
        {"name": "audit", "from": "defaults"},
        {"name": "mask", "from": "task 'chat'"},
    ]


def test_complete_runs_the_hooks_it_is_given(spec: Path) -> None:
    code, out, err = call(
        "complete",
        "--config",
        str(spec),
        "--sandbox",
        "--task",
        "chat",
        "--no-stream",
        "--hooks",
        "clihooks:HOOKS",
        "Summarize: Alice called.",
    )
    assert code == 0, err
    assert out.strip() == "Summary: Summarize: Alice called."


def test_complete_without_the_hooks_the_spec_names_does_not_run(spec: Path) -> None:
    code, _, err = call(
        "complete", "--config", str(spec), "--sandbox", "--task", "chat", "--hooks",
        "audit=clihooks:audit", "Hi.",
    )  # fmt: skip
    assert code == 1
    assert "hook 'mask' is not registered (registered: audit)" in err
    assert "--hooks mask=module:attribute" in err


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("clihooks", "expected NAME=module:attribute or module:attribute"),
        ("x=nosuchmodule:f", "cannot import module 'nosuchmodule'"),
        ("x=clihooks:nothing", "module 'clihooks' has no attribute 'nothing'"),
        ("clihooks:audit", "'audit' is a function, not a mapping of names to hooks"),
    ],
)
def test_a_bad_hooks_option_says_what_is_wrong(spec: Path, given: str, said: str) -> None:
    code, _, err = call(
        "complete", "--config", str(spec), "--sandbox", "--task", "chat", "--hooks", given, "Hi."
    )
    assert code == 1
    assert f"--hooks {given}: {said}" in err


def test_graph_and_models_need_no_hooks(spec: Path) -> None:
    code, out, _ = call("graph", "--config", str(spec))
    assert code == 0
    assert "    hooks:      audit, mask" in out and "private: only local; hooks strict" in out
    code, out, _ = call("models", "--config", str(spec))
    assert code == 0 and "mini" in out
