"""The load-time check on content rules' regular expressions: a pattern is accepted only when
a search of it provably runs in time linear in the text. No timing here: each case is decided
by the parsed pattern alone (bench/bench_content.py measures the bound)."""

from __future__ import annotations

import re

import pytest

from router.spec.regexcheck import MAX_STEPS, examine

ACCEPTED = [
    r"```\w*",  # a code fence
    r"\bdef\s+\w+\(",
    r"\b\w+\(",  # anchored by \b: each run of letters is read once
    r'"[^"]*"',  # the repeat cannot read the quote that ends it
    r"https?://\S+",  # nothing but the end follows: reaching it is a match
    r"(?i)traceback \(most recent call last\)",
    r"\b\d{1,3}(?:\.\d{1,3}){3}\b",
    r"\d{3}-\d{2}-\d{4}",
    r"\b[A-Z]{2,}-\d+\b",
    r"\bimport\s+\w+(?:\.\w+){0,8}",
    r"(?:foo|bar){1,16}",  # alternatives that start apart: one goes on
    r"<think>[^<]*</think>",
    r"[\u4e00-\u9fff]{2,}",
    r"(?m)^[ \t]+at ",  # at a line start, and the repeat cannot read a newline
    r"\bsk-[\w-]{20,}",
    r"(?x) \b SELECT \b  # verbose mode",
]


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_a_linear_pattern_is_compiled_once_at_load(pattern: str) -> None:
    examined = examine(pattern)

    assert examined.code == "", examined.message
    assert isinstance(examined.pattern, re.Pattern)
    assert examine(pattern).pattern is examined.pattern  # cached: a reload pays nothing


REFUSED = [
    # catastrophic backtracking: exponential
    (r"(a+)+$", "regex-backtracks", "nested repeats can make a search take exponential time"),
    (r"(a|a)*b", "regex-backtracks", "repeats a group without a small bound"),
    (r"(\w+\s?)+$", "regex-backtracks", "nested repeats"),
    (r"(a|a){16}", "regex-backtracks", f"(at most {MAX_STEPS})"),
    # polynomial: two repeats that can trade characters
    (r"a.*b", "regex-backtracks", "followed by something that can match the same characters"),
    (r"\w+\d", "regex-backtracks", "followed by something that can match the same characters"),
    (r"(?s)<think>.*</think>", "regex-backtracks", "rather than \\w+\\w"),
    (r"\w{1,16}\W{0,16}\w{1,16}x", "regex-backtracks", "steps from each position"),
    # quadratic: a search starting at every position of a long run
    (r"\w+\(", "regex-backtracks", "time grows with the square of the text"),
    (r"\s+$", "regex-backtracks", "anchor it"),
    (r"(?m)^\s+x", "regex-backtracks", "each start reads the run again"),
    # unsupported constructs
    (r"(\w)\1", "regex-unsupported", "a backreference"),
    (r"(?=.*x)y", "regex-unsupported", "lookahead or lookbehind"),
    (r"(?<!un)safe", "regex-unsupported", "negative lookahead or lookbehind"),
    (r"(a)?(?(1)b|c)", "regex-unsupported", "a conditional group"),
    (r"(?>a+)b", "regex-unsupported", "an atomic group"),
    (r"\w++x", "regex-unsupported", "a possessive repeat"),
    ("x" * 1001, "regex-unsupported", "at most 1,000"),
    # matching every text
    (r"x*", "regex-matches-empty", "matches every text"),
    (r"\b", "regex-matches-empty", "without reading a character"),
    (r"(?:abc)?", "regex-matches-empty", "matches every text"),
    # not a regular expression
    (r"def (\w+", "regex-invalid", "missing ), unterminated subpattern at position 4"),
    (r"[z-a]", "regex-invalid", "bad character range"),
    (r"a{2,1}", "regex-invalid", "min repeat greater than max repeat"),
]


@pytest.mark.parametrize(("pattern", "code", "words"), REFUSED)
def test_a_hostile_or_broken_pattern_is_refused_with_a_clear_message(
    pattern: str, code: str, words: str
) -> None:
    examined = examine(pattern)

    assert examined.pattern is None
    assert examined.code == code
    assert words in f"{examined.message} ({examined.hint})"
    assert examined.hint  # each refusal says what to write instead


def test_case_folding_is_taken_into_account() -> None:
    assert examine(r"\b[a-z]+[A-Z]").pattern is not None
    assert examine(r"(?i)\b[a-z]+[A-Z]").code == "regex-backtracks"  # A-Z folds onto a-z
    assert examine(r"[a-z]+[A-Z]").code == "regex-backtracks"  # no anchor: quadratic
    # Beyond ASCII, characters are compared by class (word, space, other): with (?i) the
    # letter k also matches the Kelvin sign, a word character, so [^k] may overlap it. Sound,
    # and stricter than needed: the case-insensitive form is refused.
    assert examine(r"k[^k]+k").pattern is not None
    assert examine(r"(?i)k[^k]+k").code == "regex-backtracks"


def test_ascii_classes_differ_from_unicode_ones() -> None:
    # é is a word character in Unicode mode only: \w+ then é is ambiguous there alone.
    assert examine(r"\b\w+é").code == "regex-backtracks"
    assert examine(r"(?a)\b\w+é").pattern is not None
