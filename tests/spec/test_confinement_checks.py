"""What `router validate` says about rules that confine a request: the task fallbacks their
candidates leave out (a warning, quieted by an explicit `fallback`), confined rules that leave
no model for requests they match (an error, positioned), and references in the new keys."""

from __future__ import annotations

from textwrap import dedent

from router.spec import ValidationReport, validate_bytes

KEY_SET = {"OPENAI_API_KEY": "set-for-the-test"}

HEAD = """
version: 1
providers:
  openai: {type: openai, api_key_env: OPENAI_API_KEY}
models:
  small: {provider: openai, id: gpt-4o-mini, context_window: 8000, capabilities: [streaming]}
  big:
    provider: openai
    id: gpt-4o
    context_window: 128000
    capabilities: [streaming, tools, vision, json]
tasks:
  chat: {candidates: [small], fallback: [big]}
  code: {candidates: [big], constraints: {require: [tools]}, fallback: [{task: chat}]}
rules:
"""


def _validate(rules: str) -> ValidationReport:
    raw = (dedent(HEAD).lstrip("\n") + dedent(rules).strip("\n") + "\n").encode()
    return validate_bytes(raw, "rules.yaml", environ=KEY_SET)


def _codes(report: ValidationReport) -> list[tuple[str, str]]:
    return [(d.code, d.path) for d in report.diagnostics]


def test_candidates_without_fallback_warn_naming_each_task_and_the_models_left_out() -> None:
    report = _validate(
        """
        - name: keep-small
          when: {tags: [cheap], task: [chat]}
          candidates: [small]
        """
    )
    assert _codes(report) == [("rule-drops-fallbacks", "$.rules[0].candidates")]
    (warning,) = report.warnings
    assert "task 'chat' → big" in warning.message
    assert warning.hint is not None and "fallback: []" in warning.hint
    assert report.spec is not None


def test_an_explicit_rule_fallback_or_an_only_list_is_not_warned_about() -> None:
    for rule in (
        "candidates: [small]\n  fallback: []",
        "candidates: [small]\n  fallback: [big]",
        "only: [small]\n  when: {task: chat}",
    ):
        report = _validate(f"- name: r\n  {rule}")
        assert report.diagnostics == (), [d.render() for d in report.diagnostics]


def test_a_rule_without_a_task_condition_may_leave_some_tasks_without_a_model() -> None:
    # code needs tools, which small lacks: private code requests are refused, never sent to
    # big; narrowing the rule to quiet an error would be what sends them there.
    report = _validate(
        """
        - name: private
          when: {tags: [private]}
          candidates: [small]
          fallback: []
        """
    )
    assert report.diagnostics == ()


def test_a_confined_rule_naming_a_task_it_cannot_serve_is_an_error_at_its_models() -> None:
    report = _validate(
        """
        - name: private-code
          when: {tags: [private], task: code}
          candidates: [small]
          fallback: []
        """
    )
    assert [(d.code, d.path, d.line) for d in report.errors] == [
        ("confined-rule-empty", "$.rules[0].candidates", 17)
    ]
    assert "task 'code' → small: lacks tools" in report.errors[0].message
    assert report.spec is None


def test_a_confined_rule_whose_condition_no_model_meets_is_an_error() -> None:
    report = _validate(
        """
        - name: photos
          when: {capabilities: [vision]}
          only: [small]
        """
    )
    assert _codes(report) == [("confined-rule-empty", "$.rules[0].only")]
    assert "lacks vision" in report.errors[0].message


def test_unknown_models_and_tasks_in_only_and_fallback_are_errors_with_a_suggestion() -> None:
    report = _validate(
        """
        - name: r
          candidates: [small]
          only: [smal]
          fallback: [bigg, {task: chatt}]
        """
    )
    found = {(d.code, d.path) for d in report.errors}
    assert {
        ("unknown-model", "$.rules[0].only[0]"),
        ("unknown-model", "$.rules[0].fallback[0]"),
        ("unknown-task", "$.rules[0].fallback[1].task"),
    } <= found
    hints = " ".join(d.hint or "" for d in report.errors)
    assert "did you mean 'small'?" in hints and "did you mean 'chat'?" in hints


def test_a_model_used_only_in_a_rules_fallback_is_reachable() -> None:
    raw = dedent(HEAD).replace(
        "tasks:", "  spare: {provider: openai, id: gpt-4.1, capabilities: [streaming]}\ntasks:"
    )
    rules = "  - {name: r, when: {tags: [x]}, candidates: [small], fallback: [spare]}\n"
    report = validate_bytes((raw.lstrip("\n") + rules).encode(), "r.yaml", environ=KEY_SET)
    assert "unreachable-model" not in {d.code for d in report.diagnostics}
    assert report.spec is not None
