"""Personal data: e-mail addresses, phone numbers, payment card numbers, IBANs, and the
national identity numbers of :mod:`router.guardrails.national_ids`.

Every pattern is flat or anchored so that a text is scanned in linear time: each starts where
the character before cannot belong to it (a lookbehind), so a long run of look-alike
characters is tried from its first character only; every class repetition is bounded; a
candidate is then checked in Python (lengths, separators, Luhn, mod 97) at a cost bounded by
its length. Patterns are compiled when a guardrail is built, never on import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache

from router.guardrails.base import Span
from router.guardrails.checksums import IBAN_LENGTHS, card_network, iban_valid, luhn_valid
from router.guardrails.detect import Detecting, Detector
from router.guardrails.national_ids import national_id_detectors
from router.specmodel.guardrails import PII_KINDS, ROLES, GuardrailAction, expand_kinds

__all__ = ["Pii", "pii_detectors"]

_RUN = re.compile(r"[0-9]+")


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    return {
        # local part (bounded, started where the character before cannot continue it) @ domain
        "email": re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}@[\w.-]{1,253}"),
        # Three shapes, each a bounded run then checked in Python: international (+, (+ or 00),
        # national with a trunk 0, and North American (NXX) NXX-XXXX.
        "phone": re.compile(
            r"(?<![\w+(./-])(?:"
            r"(?:\+|\(\+|00)[0-9][0-9 ().-]{5,22}[0-9]"
            r"|\(?0[0-9][0-9 ().-]{7,20}[0-9]"
            r"|(?:1[ .-]?)?\(?[2-9][0-9]{2}\)?[ .-]?[2-9][0-9]{2}[ .-][0-9]{4}"
            r")(?!\w)"
        ),
        "card": re.compile(r"(?<![\w.-])[0-9][0-9 -]{11,22}[0-9](?![\w-])"),
        "iban": re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{10,44}[A-Za-z0-9]"),
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
    groups = [(m.start(), m.end()) for m in _RUN.finditer(c)]
    lens = [e - s for s, e in groups]
    if c.startswith(("+", "(+", "00")):
        low, high, skip, min_group = 8, 15, 2 if c.startswith("00") else 0, 1
    elif c.lstrip("(").startswith("0"):
        if lens[:3] in ([2, 2, 4], [4, 2, 2]):
            return None  # a date: 01.02.2024 10.30, 2024-01-02 ...
        low, high, skip, min_group = 10, 11, 0, 2
    else:  # North American: the pattern fixed its shape
        low, high, skip, min_group = 10, 11, 0, 1
    best, digits = None, -skip
    for k, (_, end) in enumerate(groups):
        if k and not _separator(c[groups[k - 1][1] : groups[k][0]]):
            break
        if lens[k] < min_group:
            break
        digits += lens[k]
        if digits > high or k >= 7:
            break
        if digits >= low and c.count("(", 0, end) == c.count(")", 0, end):
            best = end
    if best is not None and min_group == 2 and len([g for g in groups if g[1] <= best]) < 2:
        return None  # national: in groups, never one plain number
    return best


def _scan(
    pattern: re.Pattern[str], text: str, end_of: Callable[[str], int | None]
) -> Iterator[Span]:
    """Candidates of ``pattern`` whose first ``end_of(candidate)`` characters are the thing
    (None: not one). The search goes on after what was taken (a longer candidate's tail can
    hold the next one: "IBAN A and IBAN B"), or after a candidate refused whole: each
    character is read by at most two candidates, and each candidate's check is bounded."""
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        end = end_of(m.group(0))
        if end:
            yield m.start(), m.start() + end, text[m.start() : m.start() + end]
            pos = m.start() + end
        else:
            pos = m.end()


def _phones(text: str) -> Iterator[Span]:
    return _scan(_patterns()["phone"], text, _phone_end)


def _card_end(c: str) -> int | None:
    """The end of the longest prefix of ``c`` that is a card number, or None."""
    seps = {ch for ch in c if ch in " -"}
    if len(seps) > 1:
        return None
    if not seps:
        return len(c) if _card_ok(c) else None
    parts = c.split(seps.pop())
    if len(parts[0]) >= 13:  # a number written whole, then something else
        return len(parts[0]) if _card_ok(parts[0]) else None
    if len(parts[0]) != 4 or any(not 3 <= len(p) <= 6 for p in parts[1:-1]):
        return None
    for k in range(len(parts), 1, -1):  # the longest prefix of whole groups that is a card
        if _card_ok("".join(parts[:k])):
            return sum(len(p) for p in parts[:k]) + k - 1
    return None


def _card_ok(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and card_network(digits) and luhn_valid(digits)


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
        if len(head) < end or any(head[i] != " " for i in range(4, end, 5)):
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
    addresses last. Compiles the patterns on the first call."""
    _patterns()
    known = {**_BASE, **{d.kind: d for d in national_id_detectors()}}
    wanted = set(expand_kinds(kinds) or PII_KINDS)
    return tuple(known[k] for k in PII_KINDS if k in wanted)


class Pii(Detecting):
    """Masks personal data with placeholders (``<EMAIL_1>``) whose values
    :class:`~router.guardrails.restore.RestoreMap` puts back into the answer (``restore``), or
    refuses, or counts. ``kinds``: any of ``PII_KINDS`` and ``national_id`` (all when empty)."""

    __slots__ = ()

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
