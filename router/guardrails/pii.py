"""Personal data: e-mail addresses, phone numbers, payment card numbers, IBANs, and the
national identity numbers of :mod:`router.guardrails.national_ids`.

Every pattern is scanned in linear time: each starts with a literal or a character class (the
engine skips ahead to where one can start), then a lookbehind refuses a start where the
character before could belong to it, so a long run of look-alike characters is tried from its
first character only; every repetition is bounded; a candidate is then checked in Python
(lengths, separators, Luhn, mod 97) at a cost bounded by its length. Patterns are compiled
when a guardrail is built, never on import.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache

from router.guardrails.base import Span
from router.guardrails.checksums import IBAN_LENGTHS, card_network, iban_valid, luhn_valid
from router.guardrails.detect import Detecting, Detector, Found, Windows, prioritized
from router.guardrails.national_ids import national_id_detectors
from router.specmodel.guardrails import PII_KINDS, ROLES, GuardrailAction, expand_kinds

__all__ = ["Pii", "pii_detectors"]

_RUN = re.compile(r"[0-9]+")


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    # Each pattern but e-mail's starts with a character class or a literal, so the engine skips
    # ahead to where one can start; the lookbehind after that first character refuses a start
    # inside a longer token.
    return {
        # local part (bounded, started where the character before cannot continue it) @ domain
        # (the domain's first label and its dot are in the pattern: "a@b@c" is refused there)
        "email": re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}@[\w-]{1,63}\.[\w.-]{1,250}"),
        # Phone numbers starting with +, ( or 0: a bounded run of digits and separators, read in
        # Python (_phone_end) as international (+, (+, 00) or national with a trunk 0.
        "phone+": re.compile(r"\+(?<![\w+(./-]\+)[0-9][0-9 ().-]{5,22}[0-9](?!\w)"),
        "phone(": re.compile(r"\((?<![\w+(./-]\()[+0-9][0-9 ().-]{5,23}[0-9](?!\w)"),
        "phone0": re.compile(r"0(?<![\w+(./-]0)[0-9][0-9 ().-]{5,22}[0-9](?!\w)"),
        # North American, in its exact shape: [1] NXX NXX XXXX (with parentheses: "phone(").
        "phoneN": re.compile(
            r"[1-9](?<![\w+(./-][1-9])(?:(?<=1)[ .-]?[2-9][0-9]{2}|(?<=[2-9])[0-9]{2})"
            r"[ .-]?[2-9][0-9]{2}[ .-][0-9]{4}(?!\w)"
        ),
        # A card number in one of its written shapes: whole (13 to 19 digits), 4-4-4-4 (and
        # 4-4-4-1 to 3, 4-4-4-4-3), 4-6-5 and 4-6-4, one kind of separator; then _card_ok.
        "card": re.compile(
            r"[0-9](?<![\w.-][0-9])[0-9]{3}(?:"
            r"[0-9]{9,15}"
            r"|(?P<s>[ -])[0-9]{4}(?P=s)[0-9]{4}(?P=s)(?:[0-9]{4}(?P=s)[0-9]{3}|[0-9]{1,4})"
            r"|(?P<t>[ -])[0-9]{6}(?P=t)[0-9]{4,5}"
            r")(?![\w-])"
        ),
        "iban": re.compile(
            r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z][0-9]{2}[A-Za-z0-9 ]{10,44}[A-Za-z0-9]"
        ),
    }


def _emails(text: str) -> Iterator[Span]:
    if "@" not in text:
        return
    for m in _patterns()["email"].finditer(text):
        local, _, domain = m.group(0).partition("@")
        name = local.lstrip(".")
        if not name or name.endswith(".") or ".." in name:
            continue
        domain = domain.rstrip(".-")
        labels = domain.split(".")
        if len(labels) < 2 or any(
            not label or label[0] == "-" or label[-1] == "-" or "_" in label for label in labels
        ):
            continue
        if len(labels[-1]) < 2 or not labels[-1].isalpha():
            continue
        start = m.start() + len(local) - len(name)
        end = m.start() + len(local) + 1 + len(domain)
        yield start, end, text[start:end]


def _separator(sep: str) -> bool:
    bare = sep.replace("(", "").replace(")", "")
    return len(sep) <= 3 and bare in ("", " ", "-", ".") and (bare != "" or sep != "")


def _phone_end(c: str) -> int | None:
    """The end of the longest run of ``c``'s digit groups that is a phone number, or None."""
    bare = c.lstrip("(")
    if bare.startswith("0") and not bare[1:2].isdigit():
        return None  # cheap refusals first: "0 0 0 ..." costs no more than this
    if bare.startswith("00") and (not bare[2:3].isdigit() or bare[2] == "0"):
        return None  # the international prefix, then a country code
    groups = [(m.start(), m.end()) for m in _RUN.finditer(c)]
    lens = [e - s for s, e in groups]
    if bare.startswith("+"):
        return _digits_end(c, groups, 8, 15, max_groups=6)
    if bare.startswith("00"):
        return _digits_end(c, groups, 8, 15, skip=2, max_groups=6)
    if bare.startswith("0"):
        if lens[:3] in ([2, 2, 4], [4, 2, 2]):
            return None  # a date: 01.02.2024 10.30, 2024-01-02 ...
        if min(lens[:2]) < 2 or len(groups) < 2:
            return None  # in groups of two digits or more, never one plain number
        return _digits_end(c, groups, 10, 11, min_group=2, min_groups=2)
    # North American: (NXX) NXX-XXXX, optionally after 1, in exactly those groups.
    first = 1 if lens[:1] == [1] and c[groups[0][0]] == "1" else 0
    if lens[first : first + 3] != [3, 3, 4]:
        return None
    if c[groups[first][0]] in "01" or c[groups[first + 1][0]] in "01":
        return None
    size = 10 + first
    return _digits_end(c, groups[: first + 3], size, size)


def _digits_end(
    c: str,
    groups: list[tuple[int, int]],
    low: int,
    high: int,
    *,
    skip: int = 0,
    min_group: int = 1,
    min_groups: int = 1,
    max_groups: int = 5,
) -> int | None:
    """The end of the most digit groups from the first (``min_groups`` or more) that hold
    ``low`` to ``high`` digits (after ``skip``), each of ``min_group`` digits or more, apart by
    one separator (a space, a hyphen or a dot, with parentheses), parentheses balanced; None
    when there is none."""
    best, digits = None, -skip
    for k, (start, end) in enumerate(groups):
        if k and not _separator(c[groups[k - 1][1] : start]):
            break
        if end - start < min_group:
            break
        digits += end - start
        if digits > high or k >= max_groups:
            break
        if digits >= low and k + 1 >= min_groups and c.count("(", 0, end) == c.count(")", 0, end):
            best = end
    return best


def _scan(
    pattern: re.Pattern[str], text: str, end_of: Callable[[str], int | None]
) -> Iterator[Span]:
    """Candidates of ``pattern`` whose first ``end_of(candidate)`` characters are the thing
    (None: not one). The search goes on after what was taken (a longer candidate's tail can
    hold the next one: "IBAN A and IBAN B"), or just after the start of a candidate refused
    whole (the digits of a phone number glued to a card number's make no card, but the card
    is still there). A candidate is bounded, so each character is read by a bounded number of
    them; each check is bounded too."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        end = end_of(m.group(0))
        if end:
            yield m.start(), m.start() + end, text[m.start() : m.start() + end]
            pos = m.start() + end
        else:
            pos = m.start() + 1


def _phones(text: str) -> Iterator[Span]:
    p = _patterns()
    taken = 0
    found = [_scan(p[k], text, _phone_end) for k in ("phone+", "phone(", "phone0")]
    found.append((m.start(), m.end(), m.group(0)) for m in p["phoneN"].finditer(text))
    for span in heapq.merge(*found):
        if span[0] >= taken:  # "+1 (415) 555-0132" is found whole, then from "(": once
            yield span
            taken = span[1]


def _card_ok(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and card_network(digits) and luhn_valid(digits)


def _card_end(c: str) -> int | None:
    digits = c.replace(" ", "").replace("-", "")
    return len(c) if _card_ok(digits) else None


def _cards(text: str) -> Iterator[Span]:
    return _scan(_patterns()["card"], text, _card_end)


def _iban_end(c: str) -> int | None:
    """The end of the IBAN at the start of ``c`` (written without spaces, or in the print
    format's groups of four), or None when it is not one."""
    length = IBAN_LENGTHS.get(c[:2].upper())
    if length is None:
        return None
    if c[4:5] == " ":  # groups of four, one space between
        end = length + (length - 1) // 4
        head = c[:end]
        if len(head) < end or head[4::5].strip(" "):  # a space every fifth character
            return None
        compact = head.replace(" ", "")
    else:
        end = length
        compact = c[:end]
    if len(compact) != length or " " in compact or (end < len(c) and c[end] != " "):
        return None
    return end if iban_valid(compact.upper()) else None


def _ibans(text: str) -> Iterator[Span]:
    return _scan(_patterns()["iban"], text, _iban_end)


_BASE = {
    "iban": Detector("iban", "IBAN", "an IBAN", _ibans),
    "card": Detector("card", "CARD", "a payment card number", _cards),
    "phone": Detector("phone", "PHONE", "a phone number", _phones),
    "email": Detector("email", "EMAIL", "an e-mail address", _emails),
}


def pii_detectors(kinds: tuple[str, ...] = ()) -> tuple[Detector, ...]:
    """The detectors of ``kinds`` (all when empty), in the order they run: IBANs and cards
    before national ids before phone numbers (a card number is never read as a phone), e-mail
    addresses last. Compiles the patterns (and the card networks' table) on the first call."""
    _patterns()
    card_network("0000")
    known = {**_BASE, **{d.kind: d for d in national_id_detectors()}}
    wanted = set(expand_kinds(kinds) or PII_KINDS)
    return tuple(known[k] for k in PII_KINDS if k in wanted)


class Pii(Detecting):
    """Masks personal data with placeholders (``<EMAIL_1>``) whose values
    :class:`~router.guardrails.restore.RestoreMap` puts back into the answer (``restore``), or
    refuses, or counts. ``kinds``: any of ``PII_KINDS`` and ``national_id`` (all when empty)."""

    __slots__ = ("_by_at", "_by_digits")

    def __init__(
        self,
        name: str = "pii",
        *,
        kinds: tuple[str, ...] = (),
        action: GuardrailAction = "mask",
        roles: frozenset[str] = frozenset(ROLES),
        restore: bool = True,
    ) -> None:
        super().__init__(
            name, "pii", pii_detectors(kinds), action=action, roles=roles, restorable=restore
        )
        self._by_digits = tuple(d for d in self.detectors if d.kind != "email")
        self._by_at = tuple(d for d in self.detectors if d.kind == "email")

    def findings(self, text: str) -> list[Found]:
        # Everything but an e-mail address holds a digit within a few characters of its start
        # and is at most 50 characters long; an e-mail address holds "@", at most 64
        # characters after its start and 254 before its end. So the detectors scan only the
        # windows around digits, and around "@": in prose, a small part of the text.
        found: list[tuple[Detector, Iterable[Span]]] = []
        if self._by_digits:
            digits = Windows(text, "0-9", before=64, after=64)
            if digits:
                found += [(d, digits.spans(d.find(digits.compact))) for d in self._by_digits]
        if self._by_at and "@" in text:
            at = Windows(text, "@", before=65, after=255)
            found += [(d, at.spans(d.find(at.compact))) for d in self._by_at]
        return prioritized(found)
