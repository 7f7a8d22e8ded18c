"""The pii guardrail scans only the windows around digits and "@", and a request's texts joined
in one: both must find exactly what scanning every text whole finds. Checked on texts built
at random (with a fixed seed) from the pieces that make findings and near misses."""

from __future__ import annotations

import random

import pytest

from router.guardrails import Guardrails, Pii
from router.guardrails.detect import SEPARATOR, Windows, prioritized
from router.types import Message

PIECES = [
    "4111 1111 1111 1111",
    "4111111111111111",
    "+44 20 7946 0958",
    "(415) 555-0132",
    "020 7946 0958",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "123-45-6789",
    "AB123456C",
    "RSSMRA85T10A562S",
    "111.444.777-35",
    "2345 6789 0124",
    "12345678Z",
    "ana@example.com",
    "a@b",
    "@",
    "x" * 70,
    "9" * 80,
    "z" * 140,  # longer than a gap between windows
    " " * 130,
    "w " * 170,
    "@" * 3,
    "1",
    "12",
    "2024-01-15",
    "-",
    ".",
    "(",
    "+",
    "word",
    "é",
    "\n",
    "\t",
]
SEPARATORS = ["", " ", " ", "  ", "-", ".", "\n", ", ", "x"]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) + rng.choice(SEPARATORS) for _ in range(rng.randint(1, 30)))


def _whole(pii: Pii, text: str) -> list[tuple[int, int, str]]:
    return [(s, e, d.kind) for s, e, _, d in prioritized((d, d.find(text)) for d in pii.detectors)]


@pytest.mark.parametrize("seed", range(4))
def test_windows_find_what_the_whole_text_holds(seed: int) -> None:
    rng = random.Random(seed)
    pii = Pii()
    for _ in range(300):
        text = _text(rng)
        assert [(s, e, d.kind) for s, e, _, d in pii.findings(text)] == _whole(pii, text), text


def test_joined_texts_find_what_each_text_alone_holds() -> None:
    rng = random.Random(7)
    pii = Pii()
    for _ in range(200):
        texts = [_text(rng) for _ in range(rng.randint(2, 5))]
        expected, offset = [], 0
        for text in texts:
            expected += [(s + offset, e + offset, d.kind) for s, e, _, d in pii.findings(text)]
            offset += len(text) + 1
        joined = pii.findings(SEPARATOR.join(texts))
        assert [(s, e, d.kind) for s, e, _, d in joined] == expected


def test_a_finding_never_spans_two_messages() -> None:
    messages = [Message("user", "mail ana@"), Message("user", "example.com now")]
    assert Guardrails([Pii()]).check(messages).messages == tuple(messages)
    messages = [Message("user", "card 4111 1111"), Message("user", "1111 1111")]
    assert Guardrails([Pii()]).check(messages).messages == tuple(messages)


def test_a_text_holding_the_separator_is_read_alone() -> None:
    messages = [Message("user", f"ana@example.com{SEPARATOR}x"), Message("user", "bo@example.com")]
    out = Guardrails([Pii()]).check(messages).messages
    assert [m.text for m in out] == [f"<EMAIL_1>{SEPARATOR}x", "<EMAIL_2>"]


def test_window_edges_move_out_to_spaces() -> None:
    text = "word " * 30 + "ab1cd" + " word" * 30
    windows = Windows(text, "0-9", before=64, after=64)
    start = text.index(windows.compact)
    end = start + len(windows.compact)
    assert text[start - 1] == " " and text[end] == " "
    assert 64 <= text.index("1") - start <= 64 + 5 and 64 <= end - text.index("1") <= 64 + 5
    assert list(windows.spans([(2, 3, "k")])) == [(start + 2, start + 3, "k")]


def test_without_a_space_a_window_reaches_the_text_s_ends() -> None:
    text = "a" * 200 + "1" + "b" * 200
    assert Windows(text, "0-9", before=64, after=64).compact == text
    assert not Windows("no digits", "0-9", before=64, after=64)


def test_an_earlier_detector_keeps_the_text_where_spans_overlap() -> None:
    from router.guardrails.detect import Detector

    first = Detector("a", "A", "an a", lambda text: [])
    second = Detector("b", "B", "a b", lambda text: [])
    kept = prioritized(
        [
            (first, [(0, 4, "x"), (10, 14, "y")]),
            (second, [(2, 6, "p"), (4, 10, "q"), (12, 20, "r"), (20, 22, "s")]),
        ]
    )
    assert [(s, e, d.kind) for s, e, _, d in kept] == [
        (0, 4, "a"),
        (4, 10, "b"),  # touching is not overlapping
        (10, 14, "a"),
        (20, 22, "b"),
    ]
