"""Large and hostile input: a 1 MB message, long digit runs, thousands of "@", near-miss keys,
PEM headers that never end, look-alike runs of every pattern. These tests check what comes out
(no timing: bench/bench_guardrails.py measures the time); each input is one the patterns were
built to scan in linear time, and a pattern that backtracked on it would not finish."""

from __future__ import annotations

import pytest

from router.guardrails import BlockedTerms, Guardrails, InputSize, Pii, Secrets
from router.types import Message

from .helpers import user

MB = 1_000_000
ALL = Guardrails(
    [
        InputSize("caps", max_total_chars=2 * MB),
        Secrets(),
        BlockedTerms("words", ["project x", "x" * 100, *(f"term{i}" for i in range(500))]),
        Pii(),
    ]
)


def _mb(piece: str) -> str:
    return (piece * (MB // len(piece) + 1))[:MB]


@pytest.mark.parametrize(
    "text",
    [
        _mb("The quick brown fox jumps over the lazy dog. "),
        _mb("1234567890"),
        _mb("1 "),
        _mb("0 "),
        _mb("a@"),
        _mb("@"),
        _mb("john.doe@example "),
        _mb("sk-abcdefghij0123456 "),  # one character short of a key
        _mb("sk-"),
        _mb("eyJ"),
        _mb("AKIA"),
        _mb("DE89 "),
        _mb("+1 "),
        _mb("<"),
        _mb("<EMAIL_"),
        _mb("x"),  # a run of the 100-character term's letter, never the term
        _mb("x" * 99 + " "),  # one letter short of the term, over and over
        _mb("aws_secret_access_key = "),
        _mb("ghp_"),
        _mb("4111 1111 1111 1112 "),  # Luhn fails every time
        _mb("AB 12 34 56 "),
        _mb("\u00e9\u4e2d\U0001f642 "),
    ],
    ids=lambda t: repr(t[:24]),
)
def test_a_megabyte_of_look_alikes_passes_unchanged(text: str) -> None:
    decision = ALL.check([user(text)])
    assert not decision.refused
    assert decision.messages[0].content == text
    assert decision.findings == ()


@pytest.mark.parametrize(
    ("piece", "kind", "placeholder"),
    [
        ("+44 20 7946 0958 ", "phone", "<PHONE_1> "),
        ("4111 1111 1111 1111 ", "card", "<CARD_1> "),
        ("ana@example.com ", "email", "<EMAIL_1> "),
        ("DE89 3704 0044 0532 0130 00 ", "iban", "<IBAN_1> "),
        ("123-45-6789 ", "us_ssn", "<US_SSN_1> "),
    ],
)
def test_a_quarter_megabyte_of_one_value_is_one_placeholder_and_restores(
    piece: str, kind: str, placeholder: str
) -> None:
    n = MB // 4 // len(piece)
    text = piece * n
    decision = Guardrails([Pii()]).check([user(text)])
    assert decision.messages[0].content == placeholder * n
    assert decision.counts() == {"pii": {kind: n}}
    content = decision.messages[0].content
    assert isinstance(content, str) and decision.restore.text(content) == text


def test_a_megabyte_of_distinct_values_restores_exactly() -> None:
    pieces = [f"user{i}@example.com {4150000000 + i:010d} " for i in range(30_000)]
    text = "".join(pieces)
    decision = Guardrails([Pii()]).check([user(text)])
    content = decision.messages[0].content
    assert isinstance(content, str)
    assert content.startswith("<EMAIL_1> 4150000000 <EMAIL_2> ")
    assert len(decision.restore) == 30_000
    assert decision.restore.text(content) == text


def test_a_megabyte_of_findings_of_two_kinds_interleaved_is_settled_in_one_pass() -> None:
    # Each kind's findings are merged into the others' in one pass (inserting them one by one
    # into a list would take a quadratic time here).
    piece = "4111 1111 1111 1111 +44 20 7946 0958 "
    text = piece * (MB // len(piece))
    decision = Guardrails([Pii()]).check([user(text)])
    assert decision.messages[0].content == "<CARD_1> <PHONE_1> " * (MB // len(piece))


def test_values_at_the_start_middle_and_end_of_a_megabyte_are_found() -> None:
    filler = _mb("Lorem ipsum dolor sit amet. ")[: MB // 2]
    text = f"ana@example.com {filler} +44 20 7946 0958 {filler} 4111 1111 1111 1111"
    decision = Guardrails([Pii()]).check([user(text)])
    content = decision.messages[0].content
    assert isinstance(content, str)
    assert content.startswith("<EMAIL_1> ") and content.endswith(" <CARD_1>")
    assert " <PHONE_1> " in content


def test_a_key_at_the_end_of_a_megabyte_of_near_misses_is_refused() -> None:
    text = _mb("sk-abcdefghij0123456 ") + " sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
    decision = ALL.check([user(text)])
    assert decision.refusal is not None and decision.refusal.kind == "openai_key"


def test_pem_headers_that_never_end_are_one_block() -> None:
    text = "before " + "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n" * 25_000
    decision = Guardrails([Secrets(action="mask")]).check([user(text)])
    assert decision.messages[0].content == "before <PRIVATE_KEY_1>"


def test_a_megabyte_over_a_thousand_messages_is_read_whole() -> None:
    messages = [
        Message("user" if i % 2 else "assistant", _mb("ana@example.com, hello. ")[:1000])
        for i in range(1000)
    ]
    decision = ALL.check(messages)
    assert not decision.refused
    assert decision.counts() == {"pii": {"email": 1000 * (1 + 1000 // 24)}}


def test_caps_refuse_a_megabyte_before_reading_it_for_anything_else() -> None:
    key = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"
    guards = Guardrails([Secrets(), InputSize("caps", max_message_tokens=100_000)])
    decision = guards.check([user(_mb("x") + key)])
    assert decision.refusal is not None and decision.refusal.kind == "message_tokens"
