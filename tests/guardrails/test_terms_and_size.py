"""Blocked terms (case-insensitive, whole words, whitespace in phrases, never named in a
refusal) and input size caps (characters and estimated tokens, per message and in total)."""

from __future__ import annotations

import pytest

from router.guardrails import BlockedTerms, Guardrails, InputSize
from router.types import ImagePart, Message, TextPart, ToolCall

from .helpers import masked, user

TERMS = BlockedTerms("words", ["Project X", "falcon", "c++", "straße", "falconry"], action="mask")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("about project x today", "about <BLOCKED_TERM_1> today"),
        ("PROJECT   X\tis secret", "<BLOCKED_TERM_1>\tis secret"),
        ("project\nx", "<BLOCKED_TERM_1>"),
        ("Falcon, falcon and FALCON.", "<BLOCKED_TERM_1>, <BLOCKED_TERM_1> and <BLOCKED_TERM_1>."),
        ("falconry is a term too", "<BLOCKED_TERM_1> is a term too"),
        ("I write c++ daily", "I write <BLOCKED_TERM_1> daily"),
        ("die STRAẞE", "die <BLOCKED_TERM_1>"),
    ],
)
def test_a_blocked_term_is_found_in_any_case_as_a_whole_word(text: str, expected: str) -> None:
    assert masked(text, TERMS) == expected


@pytest.mark.parametrize(
    "text",
    [
        "projects x",
        "project xy",
        "falcons",  # whole words only
        "gyrfalcon",
        "falcon_9",
        "abc++",
        "die strasse",  # simple case folding: ß is not ss
        "projectx",
    ],
)
def test_a_term_inside_a_longer_word_is_left(text: str) -> None:
    assert masked(text, TERMS) == text


def test_a_refusal_never_names_the_term() -> None:
    decision = Guardrails([BlockedTerms("words", ["falcon"])]).check([user("the falcon flies")])
    assert decision.refusal is not None
    error = decision.refusal.error()
    assert (error.guardrail, error.kind, error.argument) == ("words", "term", "messages[0].content")
    assert "falcon" not in str(error) and "falcon" not in repr(decision)


def test_report_counts_without_changing_anything() -> None:
    messages = [user("falcon falcon"), Message("assistant", "a falcon")]
    decision = Guardrails([BlockedTerms("words", ["falcon"], action="report")]).check(messages)
    assert decision.messages == tuple(messages) and not decision.changed
    assert decision.counts() == {"words": {"term": 3}}


def test_roles_choose_the_messages_read() -> None:
    guard = BlockedTerms("words", ["falcon"], roles=frozenset({"user"}))
    ok = Guardrails([guard]).check([Message("system", "falcon"), Message("assistant", "falcon")])
    refused = Guardrails([guard]).check([Message("system", "falcon"), user("falcon")])
    assert not ok.refused
    assert refused.refusal is not None and refused.refusal.argument == "messages[1].content"


def test_terms_are_matched_in_text_parts_and_tool_call_arguments() -> None:
    messages = [
        Message("user", (TextPart("a falcon"), ImagePart(url="https://x.example/falcon.png"))),
        Message("assistant", "", tool_calls=(ToolCall("1", "f", '{"bird": "falcon"}'),)),
    ]
    out = Guardrails([BlockedTerms("w", ["falcon"], action="mask")]).check(messages).messages
    assert out[0].content == (
        TextPart("a <BLOCKED_TERM_1>"),
        ImagePart(url="https://x.example/falcon.png"),  # images are not read
    )
    assert out[1].tool_calls[0].arguments == '{"bird": "<BLOCKED_TERM_1>"}'


def test_no_terms_block_nothing() -> None:
    assert not Guardrails([BlockedTerms("w", ["  "])]).check([user("anything")]).refused


# --- input size --------------------------------------------------------------------------------


def _size(**caps: int) -> Guardrails:
    return Guardrails([InputSize("caps", **caps)])


def test_a_message_over_its_character_cap_is_refused_with_its_size() -> None:
    decision = _size(max_message_chars=10).check([user("short"), user("x" * 11)])
    assert decision.refusal is not None
    assert (decision.refusal.kind, decision.refusal.argument) == ("message_chars", "messages[1]")
    assert str(decision.refusal.error()) == (
        "guardrail 'caps' refused the request: messages[1] is 11 characters, over "
        "max_message_chars (10); nothing was sent"
    )


def test_caps_are_inclusive_and_tokens_are_four_characters_rounded_up() -> None:
    assert not _size(max_message_chars=10).check([user("x" * 10)]).refused
    assert not _size(max_message_tokens=3).check([user("x" * 12)]).refused
    refused = _size(max_message_tokens=3).check([user("x" * 13)])
    assert refused.refusal is not None and refused.refusal.kind == "message_tokens"


def test_the_total_counts_every_message_read() -> None:
    messages = [user("x" * 6), Message("assistant", "y" * 6), user("z" * 6)]
    assert not _size(max_total_chars=18).check(messages).refused
    refused = _size(max_total_chars=17).check(messages)
    assert refused.refusal is not None
    assert (refused.refusal.kind, refused.refusal.argument) == ("total_chars", "messages")
    assert _size(max_total_tokens=5).check(messages).refused


def test_a_message_counts_its_text_parts_and_tool_call_arguments_not_images() -> None:
    message = Message(
        "assistant",
        (TextPart("abcd"), ImagePart(data="QUJD" * 1000, media_type="image/png")),
        tool_calls=(ToolCall("1", "f", "{}"),),
    )
    assert not _size(max_message_chars=6).check([message]).refused
    assert _size(max_message_chars=5).check([message]).refused


def test_a_size_refusal_is_counted() -> None:
    decision = _size(max_total_chars=1).check([user("ab")])
    assert decision.counts() == {"caps": {"total_chars": 1}}
