"""The spec's guardrails: the schema, the spec model and the library name the same types,
kinds, actions and settings; `router validate` and `router explain` show the guardrails a spec
attaches; the README's catalogue lists every kind."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from router.cli import run
from router.guardrails.pii import pii_detectors
from router.guardrails.secrets import secret_detectors
from router.spec.schema import schema
from router.specmodel.guardrails import (
    ACTIONS,
    COMMON_SETTINGS,
    GUARDRAIL_TYPES,
    KIND_GROUPS,
    PII_KINDS,
    SECRET_KINDS,
    TYPE_SETTINGS,
)

ROOT = Path(__file__).resolve().parents[2]
GUARDRAIL: dict[str, Any] = schema()["$defs"]["guardrail"]

SPEC = """\
version: 1
providers:
  openai: {type: openai, api_key_env: OPENAI_API_KEY}
models:
  mini: {provider: openai, id: gpt-4o-mini}
guardrails:
  words: {type: blocked_terms, terms: [project x]}
defaults:
  guardrails: [secrets]
tasks:
  chat: {candidates: [mini]}
  open: {candidates: [mini], guardrails: []}
rules:
  - name: eu
    when: {tags: [eu]}
    guardrails: [pii, words]
"""


def test_the_schema_names_the_types_kinds_actions_and_settings_of_the_spec_model() -> None:
    props = GUARDRAIL["properties"]
    assert props["type"]["enum"] == list(GUARDRAIL_TYPES)
    assert props["kinds"]["items"]["enum"] == [*PII_KINDS, *KIND_GROUPS, *SECRET_KINDS]
    assert sorted(props["action"]["enum"]) == sorted({a for v in ACTIONS.values() for a in v})
    settings = set(COMMON_SETTINGS) | {s for v in TYPE_SETTINGS.values() for s in v}
    assert set(props) == settings


def test_the_library_finds_every_kind_the_spec_names_in_the_same_order() -> None:
    assert tuple(d.kind for d in pii_detectors()) == PII_KINDS
    assert tuple(secret_detectors()) == ("private_key", *SECRET_KINDS[1:])
    assert set(secret_detectors()) == set(SECRET_KINDS)


def test_the_readme_catalogue_lists_every_kind_and_type() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    catalogue = readme.split("## Guardrails", 1)[1].split("\n## ", 1)[0]
    for name in (*GUARDRAIL_TYPES, *PII_KINDS, *SECRET_KINDS, *KIND_GROUPS):
        assert f"`{name}`" in catalogue, name


def _call(tmp_path: Path, *argv: str, stdout_only: bool = False) -> tuple[int, str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out, err = StringIO(), StringIO()
    code = run([argv[0], *(a.replace("SPEC", str(spec)) for a in argv[1:])], out, err)
    return code, out.getvalue() + ("" if stdout_only else err.getvalue())


def test_validate_counts_the_guardrails_tasks_and_rules_attach(tmp_path: Path) -> None:
    code, out = _call(tmp_path, "validate", "SPEC")
    assert code == 0
    assert "valid: 1 provider, 1 model, 2 tasks, 1 rule, 3 guardrails (pii, secrets, words)" in out


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["--task", "chat"], "guardrails: secrets (secrets, defaults): in this order"),
        (
            ["--task", "chat", "--tag", "eu"],
            "guardrails: secrets (secrets, defaults), words (blocked_terms, rule 'eu'), "
            "pii (pii, rule 'eu'): in this order",
        ),
        (
            ["--task", "open", "--tag", "eu"],
            "guardrails: words (blocked_terms, rule 'eu'), pii (pii, rule 'eu'): in this order",
        ),
    ],
)
def test_explain_lists_the_guardrails_a_request_passes_in_the_order_they_run(
    tmp_path: Path, argv: list[str], shown: str
) -> None:
    code, out = _call(tmp_path, "explain", "--config", "SPEC", "--sandbox", "--prompt", "hi", *argv)
    assert code == 0, out
    assert shown in out


def test_explain_as_json_lists_them_and_leaves_the_key_out_when_there_are_none(
    tmp_path: Path,
) -> None:
    argv = ["explain", "--config", "SPEC", "--sandbox", "--prompt", "hi", "--format", "json"]
    code, out = _call(tmp_path, *argv, "--task", "chat", "--tag", "eu", stdout_only=True)
    assert code == 0 and json.loads(out)["guardrails"] == [
        {"name": "secrets", "type": "secrets", "from": "defaults"},
        {"name": "words", "type": "blocked_terms", "from": "rule 'eu'"},
        {"name": "pii", "type": "pii", "from": "rule 'eu'"},
    ]
    code, out = _call(tmp_path, *argv, "--task", "open", stdout_only=True)
    assert code == 0 and "guardrails" not in json.loads(out)


@pytest.mark.parametrize(("task", "tags"), [("chat", []), ("chat", ["eu"]), ("open", ["eu"])])
def test_explain_lists_exactly_the_guardrails_the_router_runs(
    tmp_path: Path, task: str, tags: list[str]
) -> None:
    from router import Router
    from router.guardrails import Catalog
    from router.routing.hookplan import guardrail_steps

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    with Router.from_yaml(spec, sandbox=True) as router:
        plan = router.explain(task, prompt="hi", tags=tags)
        shown = [s.name for s in guardrail_steps(router.spec, plan.task, plan.rule)]
        runs = Catalog.from_spec(router.spec).for_request(plan.task, plan.rule).names
    assert tuple(shown) == runs


def test_validate_does_not_ask_for_guardrails_to_be_registered_as_hooks(tmp_path: Path) -> None:
    code, out = _call(tmp_path, "validate", "SPEC")
    assert code == 0 and "hooks-named" not in out and "registered" not in out
