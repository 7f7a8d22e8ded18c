"""National identity numbers, each in its written format and checked where the number has a
check: US Social Security numbers, UK National Insurance numbers, Canadian Social Insurance
numbers, Spanish DNI/NIE, French NIR (sécurité sociale), Italian codici fiscali, Brazilian
CPF, Indian Aadhaar numbers. Formats that are only digits without a check (a 9-digit SSN
written without dashes) are not looked for: they cannot be told from any other number."""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterator
from functools import cache

from router.guardrails.base import Span
from router.guardrails.checksums import luhn_valid, verhoeff_valid
from router.guardrails.detect import Detector

__all__ = ["national_id_detectors"]


def _ssn(m: re.Match[str]) -> bool:
    area, group, serial = m.group(1), m.group(3), m.group(4)
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


_NINO_FIRST_NOT = frozenset("DFIQUV")
_NINO_SECOND_NOT = frozenset("DFIOQUV")
_NINO_PREFIX_NOT = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _nino(m: re.Match[str]) -> bool:
    prefix = m.group(1)
    return (
        prefix[0] not in _NINO_FIRST_NOT
        and prefix[1] not in _NINO_SECOND_NOT
        and prefix not in _NINO_PREFIX_NOT
    )


def _sin(m: re.Match[str]) -> bool:
    digits = m.group(1) + m.group(3) + m.group(4)
    return digits[0] not in "08" and luhn_valid(digits)


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _dni(m: re.Match[str]) -> bool:
    return _DNI_LETTERS[int(m.group(1)) % 23] == m.group(2)


def _nie(m: re.Match[str]) -> bool:
    return _DNI_LETTERS[int(str("XYZ".index(m.group(1))) + m.group(2)) % 23] == m.group(3)


def _nir(m: re.Match[str]) -> bool:
    body = "".join(m.group(i) for i in range(1, 7))
    body = body.replace("2A", "19").replace("2B", "18")
    return 97 - int(body) % 97 == int(m.group(7))


# The value of each character at an odd position (1st, 3rd...): digits, then A to Z.
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        (
            *(1, 0, 5, 7, 9, 13, 15, 17, 19, 21),
            *(1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10),
            *(22, 25, 24, 23),
        ),
        strict=True,
    )
)


def _cf_even(c: str) -> int:
    return ord(c) - 48 if c.isdigit() else ord(c) - 65


def _fiscal_code(m: re.Match[str]) -> bool:
    code = m.group(0)
    total = sum(_CF_ODD[c] if i % 2 == 0 else _cf_even(c) for i, c in enumerate(code[:15]))
    return chr(65 + total % 26) == code[15]


def _cpf(m: re.Match[str]) -> bool:
    d = [int(c) for c in m.group(1) + m.group(2) + m.group(3) + m.group(4)]
    if len(set(d)) == 1:
        return False
    first = sum(d[i] * (10 - i) for i in range(9)) * 10 % 11 % 10
    second = sum(d[i] * (11 - i) for i in range(10)) * 10 % 11 % 10
    return d[9] == first and d[10] == second


def _aadhaar(m: re.Match[str]) -> bool:
    return verhoeff_valid(m.group(1) + m.group(3) + m.group(4))


_CF_DIGIT = "[0-9LMNPQRSTUV]"

Check = Callable[[re.Match[str]], bool]

#: kind → (label, noun, its written forms: (pattern, check)). Each pattern is a fixed, bounded
#: shape whose first character is a class (so the engine skips ahead to where it can start),
#: then a lookbehind: the character before it cannot belong to it.
_SHAPES: dict[str, tuple[str, str, tuple[tuple[str, Check], ...]]] = {
    "us_ssn": (
        "US_SSN",
        "a US Social Security number",
        ((r"([0-9](?<![\w-][0-9])[0-9]{2})([- ])([0-9]{2})\2([0-9]{4})(?![\w-])", _ssn),),
    ),
    "uk_nino": (
        "UK_NINO",
        "a UK National Insurance number",
        ((r"([A-Z](?<!\w[A-Z])[A-Z]) ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2}) ?[A-D](?!\w)", _nino),),
    ),
    "ca_sin": (
        "CA_SIN",
        "a Canadian Social Insurance number",
        ((r"([0-9](?<![\w-][0-9])[0-9]{2})([- ])([0-9]{3})\2([0-9]{3})(?![\w-])", _sin),),
    ),
    "es_dni": (
        "ES_DNI",
        "a Spanish DNI or NIE",
        (
            (r"([0-9](?<![\w-][0-9])[0-9]{7})-?([A-Z])(?![\w-])", _dni),
            (r"([XYZ])(?<![\w-][XYZ])-?([0-9]{7})-?([A-Z])(?![\w-])", _nie),
        ),
    ),
    "fr_nir": (
        "FR_NIR",
        "a French social security number (NIR)",
        (
            (
                r"([1-478])(?<!\w[1-478]) ?([0-9]{2}) ?([0-9]{2}) ?([0-9]{2}|2[AB]) ?"
                r"([0-9]{3}) ?([0-9]{3}) ?([0-9]{2})(?!\w)",
                _nir,
            ),
        ),
    ),
    "it_fiscal_code": (
        "IT_FISCAL_CODE",
        "an Italian fiscal code",
        (
            (
                rf"[A-Z](?<!\w[A-Z])[A-Z]{{5}}{_CF_DIGIT}{{2}}[ABCDEHLMPRST]{_CF_DIGIT}{{2}}"
                rf"[A-Z]{_CF_DIGIT}{{3}}[A-Z](?!\w)",
                _fiscal_code,
            ),
        ),
    ),
    "br_cpf": (
        "BR_CPF",
        "a Brazilian CPF number",
        (
            (
                r"([0-9](?<![\w.-][0-9])[0-9]{2})\.([0-9]{3})\.([0-9]{3})-([0-9]{2})(?![\w-])",
                _cpf,
            ),
        ),
    ),
    "in_aadhaar": (
        "IN_AADHAAR",
        "an Indian Aadhaar number",
        ((r"([2-9](?<![\w-][2-9])[0-9]{3})([ -])([0-9]{4})\2([0-9]{4})(?![\w-])", _aadhaar),),
    ),
}


def _finder(forms: tuple[tuple[str, Check], ...]) -> Callable[[str], Iterator[Span]]:
    compiled = [(re.compile(pattern), check) for pattern, check in forms]

    def one(pattern: re.Pattern[str], check: Check, text: str) -> Iterator[Span]:
        # After a candidate that fails its check, the search goes on just after its start: a
        # real one may start in it ("2345 6789 0123 4567" holds an Aadhaar number from its
        # second group).
        pos = 0
        while (m := pattern.search(text, pos)) is not None:
            if check(m):
                yield m.start(), m.end(), m.group(0)
                pos = m.end()
            else:
                pos = m.start() + 1

    def find(text: str) -> Iterator[Span]:
        if len(compiled) == 1:
            return one(*compiled[0], text)
        # The forms of one kind never overlap (each starts with a different character class).
        return heapq.merge(*(one(p, c, text) for p, c in compiled))

    return find


@cache
def national_id_detectors() -> tuple[Detector, ...]:
    """One detector per national id kind (patterns compiled on the first call)."""
    return tuple(
        Detector(kind, label, noun, _finder(forms))
        for kind, (label, noun, forms) in _SHAPES.items()
    )
