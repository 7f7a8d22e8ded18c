"""Content rules, pure: which text a condition reads (and only that much), how keywords and
patterns match it, and the excerpt explain shows."""

from __future__ import annotations

import re

import pytest

from router.messages import coerce_messages
from router.routing.content import EXCERPT, RequestText, match_text
from router.spec.regexcheck import examine
from router.specmodel import Keyword, TextCondition
from router.types import Message, TextPart


def _text(*messages: tuple[str, str]) -> RequestText:
    return RequestText(coerce_messages([{"role": r, "content": c} for r, c in messages]))


def _cond(
    *,
    any: tuple[str, ...] = (),
    all: tuple[str, ...] = (),
    regex: tuple[str, ...] = (),
    scope: str = "last_user",
    max_chars: int = 8000,
) -> TextCondition:
    patterns = []
    for source in regex:
        compiled = examine(source).pattern
        assert compiled is not None, examine(source).message
        patterns.append(compiled)
    return TextCondition(
        any=tuple(Keyword.of(k) for k in any),
        all=tuple(Keyword.of(k) for k in all),
        regex=tuple(patterns),
        scope=scope,  # type: ignore[arg-type]
        max_chars=max_chars,
    )


def _holds(cond: TextCondition, text: RequestText) -> bool:
    return match_text(cond, text) is not None


# --- keywords ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text", "holds"),
    [
        ("python", "My Python script fails", True),
        ("PYTHON", "my python script", True),
        ("cat", "a category of its own", False),  # whole words only
        ("stack trace", "here is the stack   trace:", True),  # any spacing between words
        ("stack trace", "a stack of trace paper", False),
        ("c++", "I write C++17 daily", True),
        ("c++", "abc++ is not it", False),
        ("node.js", "Built on Node.js.", True),
        ("node.js", "nodejs", False),
        ("straße", "in der STRASSE", True),  # case-folded: ß is ss
        ("日本語", "日本語を話します", False),  # no spaces between words: use regex for these
    ],
)
def test_a_keyword_matches_whole_words_whatever_the_case(
    keyword: str, text: str, holds: bool
) -> None:
    assert _holds(_cond(any=(keyword,)), _text(("user", text))) is holds


def test_any_needs_one_keyword_and_all_needs_every_one() -> None:
    text = _text(("user", "The invoice shows a refund."))

    assert _holds(_cond(any=("credit", "refund")), text)
    assert not _holds(_cond(any=("credit", "payment")), text)
    assert _holds(_cond(all=("invoice", "refund")), text)
    assert not _holds(_cond(all=("invoice", "credit")), text)


def test_every_part_given_must_hold() -> None:
    text = _text(("user", "Fix this python code: def main(): pass"))

    assert _holds(_cond(any=("python",), regex=(r"\bdef\s+\w+\(",)), text)
    assert not _holds(_cond(any=("rust",), regex=(r"\bdef\s+\w+\(",)), text)
    assert not _holds(_cond(any=("python",), regex=(r"\bfn\s+\w+\(",)), text)


def test_a_regex_matches_anywhere_and_any_of_several_is_enough() -> None:
    text = _text(("user", "Error: ORD-20931 was lost"))

    assert _holds(_cond(regex=(r"\bINV-\d+", r"\bORD-\d+")), text)
    assert not _holds(_cond(regex=(r"\bINV-\d+",)), text)


# --- which text ----------------------------------------------------------------------------------

CONVERSATION = (
    ("system", "You answer questions about invoices."),
    ("user", "Here is my python script."),
    ("assistant", "It has a bug in line 3."),
    ("user", "Thanks, and what about the refund?"),
)


@pytest.mark.parametrize(
    ("scope", "found"),
    [
        ("last_user", {"refund"}),
        ("user", {"refund", "python"}),
        ("system", {"invoices"}),
        ("all", {"refund", "python", "invoices", "bug"}),
    ],
)
def test_the_scope_chooses_the_messages_read(scope: str, found: set[str]) -> None:
    text = _text(*CONVERSATION)
    words = {"refund", "python", "invoices", "bug"}

    seen = {w for w in words if _holds(_cond(any=(w,), scope=scope), text)}

    assert seen == found


def test_text_parts_are_read_and_images_skipped() -> None:
    from router.types import ImagePart

    message = Message(
        "user", (ImagePart(url="https://example.com/a.png"), TextPart("what is this python?"))
    )

    assert _holds(_cond(any=("python",)), RequestText([message]))


def test_no_user_message_and_no_text_never_match() -> None:
    assert not _holds(_cond(any=("hello",)), _text(("system", "hello")))
    assert match_text(_cond(any=("hello",)), None) is None


# --- the bound -----------------------------------------------------------------------------------

MB = 1_000_000


def test_a_long_text_is_read_only_at_its_head_and_tail() -> None:
    middle = "x " * (MB // 4) + "needle " + "y " * (MB // 4)
    text = _text(("user", middle))

    scanned = text.scanned("last_user", 8000)

    assert scanned.total == len(middle)
    assert scanned.read == 8000
    assert sum(len(p) for p in scanned.pieces) == 8000
    assert scanned.pieces == (middle[:4000], middle[-4000:])
    assert not _holds(_cond(any=("needle",)), text)  # it is in the middle: not read


@pytest.mark.parametrize("where", ["head", "tail"])
def test_a_keyword_in_the_head_or_the_tail_of_a_megabyte_message_is_found(where: str) -> None:
    filler = "z" * MB
    content = f"needle {filler}" if where == "head" else f"{filler} needle"
    found = match_text(_cond(any=("needle",)), _text(("user", content)))

    assert found is not None
    assert (found.total, found.read) == (len(content), 8000)


def test_the_bound_spans_messages_and_keeps_them_apart() -> None:
    text = _text(("user", "a" * 5000), ("user", "b" * 5000), ("user", "c" * 5000))

    scanned = text.scanned("user", 8000)

    assert scanned.pieces == ("a" * 4000, "c" * 4000)
    assert text.scanned("user", 20_000).pieces == ("a" * 5000, "b" * 5000, "c" * 5000)


def test_a_phrase_or_a_pattern_never_spans_two_messages_or_the_cut() -> None:
    text = _text(("user", "the stack"), ("user", "trace"))

    assert not _holds(_cond(any=("stack trace",), scope="user"), text)
    assert not _holds(_cond(regex=(r"\bstack\s+trace\b",), scope="user"), text)
    assert _holds(_cond(all=("stack", "trace"), scope="user"), text)
    cut = _text(("user", "a" * 3999 + " begin" + "b" * 10_000 + "end " + "c" * 3996))
    assert not _holds(_cond(regex=(r"\bbegin[ab]+end\b",), max_chars=8000), cut)


def test_a_request_reads_its_text_once_for_all_its_rules() -> None:
    text = _text(("user", "python " * 10))

    first = text.scanned("last_user", 8000)

    assert text.scanned("last_user", 8000) is first
    assert text.words("last_user", 8000) is text.words("last_user", 8000)


def test_its_repr_shows_no_text() -> None:
    text = _text(("user", "my password is hunter2"))

    assert "hunter2" not in repr(text)
    assert "hunter2" not in repr(text.scanned("last_user", 8000))
    found = match_text(_cond(any=("password",)), text)
    assert found is not None and "hunter2" not in repr(found)


# --- the excerpt ---------------------------------------------------------------------------------


def test_the_excerpt_shows_the_match_in_its_own_case_on_one_line() -> None:
    found = match_text(_cond(any=("stack trace",)), _text(("user", "Here is the Stack\nTrace:")))

    assert found is not None
    assert found.hits[0].excerpt == "Here is the Stack Trace:"


def test_the_excerpt_is_short_and_redacted() -> None:
    secret = "sk-proj-" + "A1b2C3d4" * 6
    content = "x" * 500 + f" my key is {secret} and it fails " + "y" * 500
    found = match_text(_cond(regex=(r"\bsk-[\w-]{20,}",)), _text(("user", content)))

    assert found is not None
    excerpt = found.hits[0].excerpt
    assert len(excerpt) <= EXCERPT + 4
    assert "A1b2C3d4" not in excerpt
    assert "***" in excerpt
    assert excerpt.startswith("…") and excerpt.endswith("…")


def test_a_long_match_is_cut_in_its_middle() -> None:
    found = match_text(_cond(regex=(r"```[^`]+```",)), _text(("user", "```" + "q" * 300 + "```")))

    assert found is not None
    excerpt = found.hits[0].excerpt
    assert len(excerpt) <= EXCERPT + 4
    assert re.fullmatch(r"```q+…q+```", excerpt)
