"""Warnings: findings that do not stop a spec from loading, unless ``strict=True`` makes each of
them an error; notes (unset variables), which only ``require_env=True`` makes errors; and
dropping either with ``ignore`` or a ``# router: ignore[CODE]`` comment.

Every case is a small valid spec with exactly one thing worth a warning. The API key variable
is set (except in the env-unset cases), so the warning under test is the only one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import pytest

from router.diagnostics import NOTE_CODES, WARNING_CODES
from router.spec import ValidationReport, validate_bytes

KEY_SET = {"OPENAI_API_KEY": "set-for-the-test"}
CANARY = "canary-7Qm2Xw9Lp4Zr8Tn3"


@dataclass(frozen=True)
class Case:
    id: str
    spec: str
    code: str
    line: int
    path: str
    words: str


CASES = [
    Case(
        "hedge-without-target",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
        tasks:
          chat: {candidates: [mini], hedge: {after: 2}}
        """,
        "hedge-without-target",
        7,
        "$.tasks.chat.hedge",
        "task 'chat' hedges, but its chain has a single model to send to",
    ),
    Case(
        "unreachable-model",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
          gpt-4-legacy: {provider: openai, id: gpt-4-0613}
        tasks:
          chat: {candidates: [mini]}
        """,
        "unreachable-model",
        6,
        "$.models['gpt-4-legacy']",
        "model 'gpt-4-legacy' is not a candidate or fallback of any task",
    ),
    Case(
        "duplicate-in-chain",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
          big: {provider: openai, id: gpt-4o}
        tasks:
          chat:
            candidates: [mini, big]
            fallback: [big]
        """,
        "duplicate-in-chain",
        10,
        "$.tasks.chat.fallback[0]",
        "'big' is already a candidate of task 'chat'; a chain tries each model once",
    ),
    Case(
        "insecure-base-url",
        """
        version: 1
        providers:
          together:
            type: openai_compatible
            base_url: http://api.together.xyz/v1
            api_key_env: OPENAI_API_KEY
        models:
          llama: {provider: together, id: meta-llama/Llama-3.3-70B-Instruct-Turbo}
        tasks:
          chat: {candidates: [llama]}
        """,
        "insecure-base-url",
        5,
        "$.providers.together.base_url",
        "plain http to a public host: the API key travels unencrypted",
    ),
    Case(
        "priority-quality-without-quality-rank",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
          big: {provider: openai, id: gpt-4o, quality: 8}
        tasks:
          code:
            candidates: [big, mini]
            priority: quality
        """,
        "priority-without-data",
        10,
        "$.tasks.code.priority",
        "task 'code' orders by quality, but model 'mini' has no quality rank",
    ),
    Case(
        "priority-cost-without-pricing",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini, pricing: {input: 0.15, output: 0.6}}
          big: {provider: openai, id: gpt-4o}
        tasks:
          chat:
            candidates: [mini, big]
            priority: cost
        """,
        "priority-without-data",
        10,
        "$.tasks.chat.priority",
        "task 'chat' orders by cost, but model 'big' has no pricing",
    ),
    Case(
        "context-window-unknown",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
        tasks:
          long-context:
            candidates: [mini]
            constraints: {min_context_window: 100000}
        """,
        "context-window-unknown",
        8,
        "$.tasks['long-context'].candidates[0]",
        "candidate 'mini' does not declare its context_window; task 'long-context' requires",
    ),
    Case(
        "rule-drops-fallbacks",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
          big: {provider: openai, id: gpt-4o}
        tasks:
          chat: {candidates: [mini], fallback: [big]}
          code: {candidates: [big], fallback: [{task: chat}]}
        rules:
          - name: only-mini
            when: {tags: [cheap]}
            candidates: [mini]
        """,
        "rule-drops-fallbacks",
        13,
        "$.rules[0].candidates",
        "rule 'only-mini' confines requests to its candidates (mini), so these fallbacks are "
        "not tried: task 'chat' → big; task 'code' → big",
    ),
    Case(
        "task-fallback-adds-nothing",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini, capabilities: [streaming, json]}
          plain: {provider: openai, id: gpt-4.1, capabilities: [streaming]}
        tasks:
          extract:
            candidates: [mini]
            constraints: {require: [json]}
            fallback: [{task: general}]
          general: {candidates: [plain]}
        """,
        "task-fallback-adds-nothing",
        11,
        "$.tasks.extract.fallback[0]",
        "fallback {task: general} of task 'extract' adds no model to its chain (plain: lacks json)",
    ),
    Case(
        "timeout-total-on-provider",
        """
        version: 1
        providers:
          openai:
            type: openai
            api_key_env: OPENAI_API_KEY
            timeouts: {request: 30, total: 60}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
        tasks:
          chat: {candidates: [mini]}
        """,
        "timeout-total-ignored",
        6,
        "$.providers.openai.timeouts.total",
        "timeouts.total on provider 'openai' has no effect",
    ),
    Case(
        "timeout-total-on-deployment",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini:
            provider: openai
            id: gpt-4o-mini
            deployments:
              - {name: east, timeouts: {total: 60}}
              - {name: west, id: gpt-4o-mini-2024-07-18}
        tasks:
          chat: {candidates: [mini]}
        """,
        "timeout-total-ignored",
        9,
        "$.models.mini.deployments[0].timeouts.total",
        "timeouts.total on deployment 'east' of model 'mini' has no effect",
    ),
    Case(
        "classifier-ambiguous-example",
        """
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
        tasks:
          code: {candidates: [mini]}
          chat: {candidates: [mini]}
        classifier:
          labels: [code, chat]
          fallback: chat
          examples:
            code: [fix my bug, write a loop, parse json, sort a list, Hello  there]
            chat: [hi, how are you, good morning, what's up,
                   hello there]
        """,
        "classifier-ambiguous-example",
        15,
        "$.classifier.examples.chat[4]",
        "this example is under both 'code' and 'chat'",
    ),
]

ENV_UNSET = Case(
    "env-unset",
    """
    version: 1
    providers:
      openai: {type: openai, api_key_env: OPENAI_API_KEY}
    models:
      mini: {provider: openai, id: gpt-4o-mini}
    tasks:
      chat: {candidates: [mini]}
    """,
    "env-unset",
    3,
    "$.providers.openai.api_key_env",
    "environment variable OPENAI_API_KEY (the API key of provider 'openai') is not set",
)


def _validate(
    case: Case, *, strict: bool = False, environ: dict[str, str] | None = None
) -> ValidationReport:
    raw = dedent(case.spec).lstrip("\n").encode()
    env = KEY_SET if environ is None else environ
    return validate_bytes(raw, f"{case.id}.yaml", strict=strict, environ=env)


def _found(report: ValidationReport, case: Case) -> list[tuple[str, int | None, str]]:
    return [(d.code, d.line, d.path) for d in report.diagnostics if case.words in d.message]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gives_exactly_one_warning_and_still_loads(case: Case) -> None:
    report = _validate(case)

    assert report.errors == ()
    assert [(d.code, d.line, d.path) for d in report.warnings] == [
        (case.code, case.line, case.path)
    ]
    assert case.words in report.warnings[0].message
    assert report.spec is not None
    assert report.spec.warnings == report.warnings


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_strict_turns_the_warning_into_an_error(case: Case) -> None:
    report = _validate(case, strict=True)

    assert report.warnings == ()
    assert [(d.code, d.line, d.path) for d in report.errors] == [(case.code, case.line, case.path)]
    assert _found(report, case)
    assert report.spec is None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_ignore_drops_the_warning_even_under_strict(case: Case) -> None:
    raw = dedent(case.spec).lstrip("\n").encode()
    report = validate_bytes(raw, "x.yaml", strict=True, environ=KEY_SET, ignore={case.code})

    assert report.diagnostics == ()
    assert report.spec is not None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_comment_on_the_line_drops_the_warning_there(case: Case) -> None:
    lines = dedent(case.spec).lstrip("\n").splitlines()
    lines[case.line - 1] += f"  # router: ignore[other-code, {case.code}]"
    report = validate_bytes("\n".join(lines).encode(), "x.yaml", strict=True, environ=KEY_SET)

    assert report.diagnostics == ()
    assert report.spec is not None


def test_a_comment_on_another_line_or_for_another_code_drops_nothing() -> None:
    case = CASES[0]
    lines = dedent(case.spec).lstrip("\n").splitlines()
    lines[case.line - 1] += "  # router: ignore[env-unset]"
    lines[case.line - 2] += f"  # router: ignore[{case.code}]"
    report = validate_bytes("\n".join(lines).encode(), "x.yaml", environ=KEY_SET)

    assert [d.code for d in report.warnings] == [case.code]


def test_errors_cannot_be_ignored() -> None:
    spec = "version: 1\nproviders: {}\nmodels: {}\ntasks: {}  # router: ignore[too-few]\n"
    report = validate_bytes(spec.encode(), "x.yaml", environ={}, ignore={"too-few"})

    assert {d.code for d in report.errors} == {"too-few"}


def test_an_unset_variable_is_a_note_that_strict_leaves_alone() -> None:
    report = _validate(ENV_UNSET, strict=True, environ={})

    assert report.errors == report.warnings == ()
    assert [(d.code, d.line, d.path) for d in report.notes] == [
        (ENV_UNSET.code, ENV_UNSET.line, ENV_UNSET.path)
    ]
    assert report.notes[0].render().startswith("env-unset.yaml:3:39: note: ")
    assert report.spec is not None


def test_require_env_turns_the_note_into_an_error() -> None:
    raw = dedent(ENV_UNSET.spec).lstrip("\n").encode()
    report = validate_bytes(raw, "env.yaml", environ={}, require_env=True)

    assert [(d.code, d.line, d.path) for d in report.errors] == [
        (ENV_UNSET.code, ENV_UNSET.line, ENV_UNSET.path)
    ]
    assert report.spec is None
    ignored = validate_bytes(raw, "env.yaml", environ={}, require_env=True, ignore={"env-unset"})
    assert ignored.diagnostics == ()


def test_unset_key_variable_is_a_note_naming_the_variable() -> None:
    report = validate_bytes(
        dedent(ENV_UNSET.spec).lstrip("\n").encode(), "env.yaml", environ={"OTHER": "x"}
    )

    assert report.errors == report.warnings == ()
    assert [(d.code, d.line, d.path) for d in report.notes] == [
        (ENV_UNSET.code, ENV_UNSET.line, ENV_UNSET.path)
    ]
    assert ENV_UNSET.words in report.notes[0].message
    assert report.notes[0].hint == "export OPENAI_API_KEY=... before starting the router"
    assert report.spec is not None


def test_set_key_variable_gives_no_warning_and_its_value_is_never_shown() -> None:
    report = validate_bytes(
        dedent(ENV_UNSET.spec).lstrip("\n").encode(),
        "env.yaml",
        environ={"OPENAI_API_KEY": CANARY},
    )

    assert report.diagnostics == ()
    assert report.spec is not None
    assert report.spec.providers["openai"].api_key_env == "OPENAI_API_KEY"
    assert CANARY not in repr(report.spec)


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_a_variable_set_to_a_value_is_never_echoed(strict: bool) -> None:
    # Another provider's variable is unset: its warning must not carry the set one's value.
    spec = """\
        version: 1
        providers:
          openai: {type: openai, api_key_env: OPENAI_API_KEY}
          anthropic: {type: anthropic, api_key_env: ANTHROPIC_API_KEY}
        models:
          mini: {provider: openai, id: gpt-4o-mini}
          haiku: {provider: anthropic, id: claude-3-5-haiku-latest}
        tasks:
          chat: {candidates: [mini, haiku]}
        """
    report = validate_bytes(
        dedent(spec).encode(), "env.yaml", strict=strict, environ={"OPENAI_API_KEY": CANARY}
    )

    assert [d.code for d in report.diagnostics] == ["env-unset"]
    assert "ANTHROPIC_API_KEY" in report.diagnostics[0].message
    assert all(CANARY not in d.render() for d in report.diagnostics)


def test_every_warning_the_checks_can_give_has_a_case() -> None:
    spec_dir = Path(__file__).parents[2] / "router" / "spec"
    source = "\n".join(p.read_text("utf-8") for p in sorted(spec_dir.glob("checks*.py")))
    warning_codes = set(re.findall(r'"([a-z-]+)",\s*severity="warning"', source))
    note_codes = set(re.findall(r'"([a-z-]+)",\s*severity="note"', source))

    assert warning_codes
    assert warning_codes == {case.code for case in CASES} == WARNING_CODES
    # hooks-named: tests/spec/test_hooks_spec.py
    assert note_codes == {ENV_UNSET.code, "hooks-named"} == NOTE_CODES
