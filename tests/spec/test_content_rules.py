"""Content rules in the spec: `when.text` built into compiled conditions, their errors as
positioned diagnostics (never a raw re.error), and the rule checks (shadowing, confinement)
with text conditions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from router.errors import ConfigError
from router.spec import load_spec, validate_bytes

HEAD = """version: 1
providers:
  openai: {type: openai, api_key_env: OPENAI_API_KEY}
models:
  mini: {provider: openai, id: gpt-4o-mini}
  big: {provider: openai, id: gpt-4o, capabilities: [streaming, vision]}
tasks:
  chat: {candidates: [mini, big]}
  code: {candidates: [big]}
rules:
"""
ENV = {"OPENAI_API_KEY": "k"}


def _report(rules: str) -> tuple[list[tuple[str, str, int | None]], list[str]]:
    report = validate_bytes((HEAD + rules).encode(), "spec.yaml", environ=ENV)
    found = [(d.code, d.path or "", d.line) for d in report.diagnostics if d.severity != "note"]
    return found, [d.render() for d in report.diagnostics]


def test_a_text_condition_is_built_with_its_patterns_compiled(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        HEAD
        + """  - name: code
    when:
      text:
        any: [Python, stack trace]
        all: traceback
        regex: '```\\w*'
        in: user
        max_chars: 2000
    route_to: code
"""
    )

    spec = load_spec(path, environ=ENV)

    cond = spec.rules[0].when.text
    assert cond is not None
    assert [k.words for k in cond.any] == [("python",), ("stack", "trace")]
    assert [k.text for k in cond.all] == ["traceback"]
    assert all(isinstance(p, re.Pattern) for p in cond.regex)
    assert (cond.scope, cond.max_chars) == ("user", 2000)
    again = load_spec(path, environ=ENV).rules[0].when.text
    assert again is not None and again.regex[0] is cond.regex[0]  # compiled once


def test_a_rule_without_text_has_no_text_condition(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(HEAD + "  - {name: tagged, when: {tags: [x]}, route_to: code}\n")

    assert load_spec(path, environ=ENV).rules[0].when.text is None


def test_an_invalid_pattern_is_a_config_error_with_file_line_path_and_hint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(
        HEAD + "  - name: broken\n    when: {text: {regex: ['ok', '(unclosed']}}\n"
        "    route_to: code\n"
    )

    with pytest.raises(ConfigError) as caught:
        load_spec(path, environ=ENV)

    (d,) = caught.value.diagnostics
    assert (d.code, d.path, d.line, d.file) == (
        "regex-invalid",
        "$.rules[0].when.text.regex[1]",
        12,
        str(path),
    )
    assert "missing ), unterminated subpattern" in d.message
    assert d.hint
    assert caught.value.__cause__ is None
    assert not isinstance(caught.value.__context__, re.error)


def test_a_hostile_pattern_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(HEAD + "  - {name: redos, when: {text: {regex: '(a+)+$'}}, route_to: code}\n")

    with pytest.raises(ConfigError) as caught:
        load_spec(path, environ=ENV)

    (d,) = caught.value.diagnostics
    assert d.code == "regex-backtracks"
    assert "exponential" in d.message


# --- rule checks with text conditions ----------------------------------------------------------


def test_a_text_rule_shadows_nothing_that_does_not_say_the_same() -> None:
    found, shown = _report(
        """  - {name: python, when: {text: {any: [python]}}, route_to: code}
  - {name: chat-all, when: {task: chat}, priority: quality}
  - {name: rust, when: {text: {any: [rust]}}, route_to: code}
"""
    )

    assert found == [], shown


def test_a_text_rule_is_shadowed_by_a_broader_one_before_it() -> None:
    found, _ = _report(
        """  - {name: code-words, when: {text: {any: [python, rust, traceback]}}, route_to: code}
  - {name: python, when: {task: chat, text: {any: [Python]}}, only: [big]}
  - {name: both, when: {text: {all: [rust, cargo]}}, only: [big]}
  - {name: other-scope, when: {text: {any: [python], in: all}}, only: [big]}
  - {name: shorter, when: {text: {any: [python], max_chars: 500}}, only: [big]}
"""
    )

    # python ⊆ the earlier any; all: [rust, cargo] makes rust sure to be there. Another scope
    # or another bound reads other text: not shadowed.
    assert found == [
        ("shadowed-rule", "$.rules[1]", 12),
        ("shadowed-rule", "$.rules[2]", 13),
    ]


def test_a_rule_after_a_text_rule_with_the_same_patterns_is_shadowed() -> None:
    found, shown = _report(
        """  - {name: fences, when: {text: {regex: ['```', '~~~']}}, route_to: code}
  - {name: ticks, when: {task: chat, text: {regex: '```'}}, only: [big]}
  - {name: fence-and-word, when: {text: {regex: '```', any: [sql]}}, only: [big]}
  - {name: other, when: {text: {regex: '\\bSELECT\\b'}}, only: [big]}
"""
    )

    assert [f[:2] for f in found] == [
        ("shadowed-rule", "$.rules[1]"),
        ("shadowed-rule", "$.rules[2]"),
    ], shown


def test_a_confining_text_rule_that_leaves_no_model_is_an_error() -> None:
    found, shown = _report(
        """  - name: screenshots
    when: {capabilities: [vision], text: {any: [screenshot]}}
    only: [mini]
"""
    )

    assert found == [("confined-rule-empty", "$.rules[0].only", 13)], shown
    assert "lacks vision" in shown[0]


def test_a_confining_text_rule_that_drops_fallbacks_is_warned_about() -> None:
    spec = HEAD.replace(
        "chat: {candidates: [mini, big]}", "chat: {candidates: [mini], fallback: [big]}"
    )
    report = validate_bytes(
        (
            spec + "  - {name: secret, when: {text: {any: [confidential]}}, candidates: [mini]}\n"
        ).encode(),
        "spec.yaml",
        environ=ENV,
    )

    assert [d.code for d in report.warnings] == ["rule-drops-fallbacks"]
