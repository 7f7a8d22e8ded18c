"""A request's guardrails together: their order, the first refusal stopping the rest, the
decision's findings and its error, and the catalog built from a spec."""

from __future__ import annotations

import traceback

import pytest

from router.errors import GuardrailRefused, RequestError
from router.guardrails import (
    BlockedTerms,
    Catalog,
    Guardrails,
    InputSize,
    Pii,
    Secrets,
    build,
)
from router.spec import validate_bytes
from router.specmodel import GuardrailSpec, Spec
from router.specmodel.guardrails import NATIONAL_ID_KINDS
from router.types import Message

from .helpers import user

KEY = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"


def test_guardrails_run_in_type_order_whatever_the_list_order() -> None:
    guards = Guardrails(
        [Pii(), BlockedTerms("w", ["x"]), Secrets(), InputSize("caps", max_total_chars=9)]
    )
    assert guards.names == ("caps", "secrets", "w", "pii")


def test_a_secret_is_taken_out_before_personal_data_is_looked_for() -> None:
    # The key's digits are never half-read as a phone number: the key goes whole.
    key = "sk-proj-4155550132Ab3dEf6hIj9kLm2nOp5qRs8"
    decision = Guardrails([Pii(), Secrets(action="mask")]).check([user(f"{key} and 415-555-0132")])
    assert decision.messages[0].content == "<OPENAI_KEY_1> and <PHONE_1>"


def test_the_size_is_measured_on_what_the_caller_wrote() -> None:
    text = "ana@example.com"  # 15 characters, 9 once masked
    guards = Guardrails([Pii(), InputSize("caps", max_total_chars=10)])
    assert guards.check([user(text)]).refused


def test_the_first_refusal_stops_the_rest_and_nothing_is_rewritten() -> None:
    messages = [user(f"mail ana@example.com with {KEY}")]
    decision = Guardrails([Pii(), Secrets()]).check(messages)
    assert decision.refused and not decision.changed
    assert decision.messages == tuple(messages)
    assert [(f.guardrail, f.kind, f.outcome) for f in decision.findings] == [
        ("secrets", "openai_key", "refused")
    ]
    assert len(decision.restore) == 0


def test_a_decision_counts_every_finding_for_the_ledger() -> None:
    text = f"ana@example.com, bo@example.com, ana@example.com, {KEY}, falcon"
    guards = Guardrails(
        [Pii(), Secrets(action="mask"), BlockedTerms("words", ["falcon"], action="report")]
    )
    decision = guards.check([user(text)])
    assert decision.counts() == {
        "secrets": {"openai_key": 1},
        "words": {"term": 1},
        "pii": {"email": 3},
    }
    assert decision.changed and not decision.refused
    assert repr(decision) == (
        "Decision([secrets.openai_key masked x1, words.term reported x1, pii.email masked x3], "
        "changed=True, restore=RestoreMap(<2 values hidden>))"
    )


def test_no_guardrails_is_falsy_and_changes_nothing() -> None:
    messages = [user(f"ana@example.com {KEY}")]
    decision = Guardrails().check(messages)
    assert not Guardrails() and decision.messages == tuple(messages)
    assert (decision.findings, decision.refused, decision.changed) == ((), False, False)


def test_the_refusal_error_is_a_request_error_with_no_value_anywhere() -> None:
    decision = Guardrails([Secrets("no-keys")]).check([user(f"key: {KEY}")])
    with pytest.raises(GuardrailRefused) as caught:
        decision.raise_if_refused()
    error = caught.value
    assert isinstance(error, RequestError) and isinstance(error, ValueError)
    assert (error.guardrail, error.kind, error.argument) == (
        "no-keys",
        "openai_key",
        "messages[0].content",
    )
    assert error.__cause__ is None and error.__context__ is None
    shown = "".join(traceback.format_exception(error)) + repr(vars(error)) + repr(error.args)
    assert KEY not in shown and KEY[8:16] not in shown


def test_a_large_request_is_checked_in_a_thread_a_small_one_inline() -> None:
    from router.guardrails import THREAD_ABOVE_CHARS

    small = [user("x" * THREAD_ABOVE_CHARS)]
    large = [user("x" * (THREAD_ABOVE_CHARS // 2)), user("y" * (THREAD_ABOVE_CHARS // 2 + 1))]
    assert not Guardrails([Pii()]).wants_thread(small)
    assert Guardrails([Pii()]).wants_thread(large)
    assert not Guardrails().wants_thread(large)


def test_a_decision_without_a_refusal_raises_nothing() -> None:
    Guardrails([Secrets()]).check([user("hello")]).raise_if_refused()


def test_a_request_state_hides_its_values() -> None:
    from router.guardrails import RequestState

    state = RequestState()
    state.placeholder("EMAIL", "ana@example.com", "ana@example.com", restorable=True)
    assert "ana" not in repr(state)


# --- from the spec -----------------------------------------------------------------------------

SPEC = b"""
version: 1
providers:
  openai: {type: openai, api_key_env: OPENAI_API_KEY}
models:
  mini: {provider: openai, id: gpt-4o-mini}
guardrails:
  caps: {type: input_size, max_total_tokens: 100000, max_message_chars: 50000}
  words: {type: blocked_terms, terms: [project x], action: mask, roles: [user]}
  emails-only: {type: pii, kinds: [email, national_id], restore: false}
  keys: {type: secrets, action: mask, kinds: [openai_key]}
  unused: {type: pii}
defaults:
  guardrails: [secrets, caps]
tasks:
  chat: {candidates: [mini]}
  private: {candidates: [mini], guardrails: [pii, keys]}
  open: {candidates: [mini], guardrails: []}
rules:
  - name: eu
    when: {tags: [eu]}
    guardrails: [words, pii]
"""


@pytest.fixture(scope="module")
def spec() -> Spec:
    report = validate_bytes(SPEC, "spec.yaml", environ={"OPENAI_API_KEY": "x"})
    assert report.spec is not None, [d.render() for d in report.errors]
    return report.spec


def test_the_spec_builds_each_guardrail_with_its_type_defaults(spec: Spec) -> None:
    g = spec.guardrails
    assert g["caps"] == GuardrailSpec(
        name="caps",
        type="input_size",
        action="refuse",
        max_total_tokens=100000,
        max_message_chars=50000,
    )
    assert (g["words"].action, g["words"].terms, g["words"].roles) == (
        "mask",
        ("project x",),
        frozenset({"user"}),
    )
    assert g["emails-only"].kinds == ("email", *NATIONAL_ID_KINDS)  # the group spelled out
    assert not g["emails-only"].restore
    # The built-in ones are there with their default settings.
    assert (g["pii"].type, g["pii"].action, g["pii"].kinds) == ("pii", "mask", ())
    assert (g["secrets"].type, g["secrets"].action) == ("secrets", "refuse")


def test_a_task_inherits_the_defaults_or_replaces_them(spec: Spec) -> None:
    assert spec.defaults.guardrails == ("secrets", "caps")
    assert spec.tasks["chat"].guardrails == ("secrets", "caps")
    assert spec.tasks["private"].guardrails == ("pii", "keys")
    assert spec.tasks["open"].guardrails == ()


def test_a_rule_adds_its_guardrails_to_the_task_s(spec: Spec) -> None:
    catalog = Catalog.from_spec(spec)
    rule = spec.rules[0]
    assert catalog.for_request(spec.tasks["chat"]).names == ("caps", "secrets")
    assert catalog.for_request(spec.tasks["chat"], rule).names == (
        "caps",
        "secrets",
        "words",
        "pii",
    )
    assert catalog.for_request(spec.tasks["private"], rule).names == ("keys", "words", "pii")
    assert not catalog.for_request(spec.tasks["open"])
    assert catalog.for_request(spec.tasks["chat"]) is catalog.for_request(spec.tasks["chat"])


def test_the_catalog_builds_only_what_tasks_and_rules_name(spec: Spec) -> None:
    catalog = Catalog.from_spec(spec)
    assert repr(catalog) == "Catalog(caps, keys, pii, secrets, words)"
    assert "unused" not in catalog and "emails-only" not in catalog


def test_each_type_builds_its_guardrail(spec: Spec) -> None:
    built = {name: build(g) for name, g in spec.guardrails.items()}
    assert isinstance(built["caps"], InputSize)
    assert isinstance(built["words"], BlockedTerms)
    assert isinstance(built["keys"], Secrets) and isinstance(built["unused"], Pii)
    assert [d.kind for d in built["keys"].detectors] == ["openai_key"]


def test_a_spec_guarded_request_end_to_end(spec: Spec) -> None:
    guards = Catalog.from_spec(spec).for_request(spec.tasks["private"], spec.rules[0])
    decision = guards.check(
        [Message("system", "project x rules"), user(f"I am ana@example.com, key {KEY}, project X")]
    )
    assert [m.content for m in decision.messages] == [
        "project x rules",  # words reads the user's messages only
        "I am <EMAIL_1>, key <OPENAI_KEY_1>, <BLOCKED_TERM_1>",
    ]
    assert decision.restore.text("Hello <EMAIL_1>") == "Hello ana@example.com"
