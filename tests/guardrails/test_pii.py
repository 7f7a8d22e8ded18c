"""What the pii guardrail finds and what it leaves: each kind's true positives, and the near
misses that look like it (a card failing Luhn, an IBAN failing mod 97, dates and versions that
look like phone numbers, national ids failing their checks)."""

from __future__ import annotations

import pytest

from router.guardrails import Pii

from .helpers import masked


def label(text: str, placeholder: str, kinds: tuple[str, ...] = ()) -> None:
    """``text`` in a sentence is masked whole as ``placeholder``."""
    assert masked(f"see {text}, thanks", Pii(kinds=kinds)) == f"see {placeholder}, thanks"


def untouched(text: str, kinds: tuple[str, ...] = ()) -> None:
    sentence = f"see {text}, thanks"
    assert masked(sentence, Pii(kinds=kinds)) == sentence


# --- e-mail ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "john.doe@example.com",
        "j+tag@mail.example.co.uk",
        "first_last-1@sub-domain.example.org",
        "用户@例子.广告",
        "ÉLODIE@exemple.fr",
    ],
)
def test_an_email_address_is_masked(email: str) -> None:
    label(email, "<EMAIL_1>")


@pytest.mark.parametrize(
    "text",
    ["@handle", "user@localhost", "a@b.c", "name@domain.", "x@-bad.com", "a..b@example.com", "@@"],
)
def test_what_only_looks_like_an_email_address_is_left(text: str) -> None:
    untouched(text)


def test_an_email_address_ends_before_the_sentence_does() -> None:
    assert masked("Write to ana@example.com.") == "Write to <EMAIL_1>."
    assert masked("(ana@example.com)") == "(<EMAIL_1>)"
    assert masked("mailto:ana@example.com") == "mailto:<EMAIL_1>"


# --- phone numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",
        "+442079460958",
        "+1 (415) 555-0132",
        "+1-415-555-0132",
        "+33 1 23 45 67 89",
        "+49 30 1234567",
        "+91 98765 43210",
        "(+44) 20 7946 0958",
        "0044 20 7946 0958",
        "020 7946 0958",
        "07700 900123",
        "01 23 45 67 89",
        "030 1234567",
        "(020) 7946 0958",
        "(415) 555-0132",
        "415-555-0132",
        "415.555.0132",
        "415 555 0132",
        "1-415-555-0132",
        "1 415 555 0132",
    ],
)
def test_a_phone_number_is_masked(phone: str) -> None:
    label(phone, "<PHONE_1>", ("phone",))


@pytest.mark.parametrize(
    "text",
    [
        "1234567890",  # a plain number
        "02079460958",  # a plain number, even with a trunk 0
        "2024-01-15",  # dates
        "15.01.2024",
        "01.02.2024 10.30",
        "2024-01-15 10:30",
        "1.2.3",  # versions
        "10.0.19041.1234",
        "192.168.100.200",  # an IP address
        "1 234 567 890",  # thousands
        "1,234,567,890",
        "ISBN 978-3-16-148410-0",
        "+5",
        "+1 2",
        "3+4567890123",  # arithmetic
        "0 0 0 0 0 0 0 0 0 0 0",
        "000 1234 5678",  # 00 then no country code
        "123-456-7890",  # North American exchange and area may not start with 0 or 1
        "415-155-0132",
        "v2.415.555.0132",
    ],
)
def test_numbers_that_are_not_phone_numbers_are_left(text: str) -> None:
    untouched(text, ("phone",))


def test_two_phone_numbers_side_by_side_are_two() -> None:
    text = "020 7946 0958 - 020 7946 0959"
    assert masked(text, Pii(kinds=("phone",))) == "<PHONE_1> - <PHONE_2>"


# --- payment cards -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4012888888881881",
        "5555555555554444",
        "2223003122003222",
        "3782 822463 10005",
        "371449635398431",
        "6011111111111117",
        "3530111333300000",
        "30569309025904",
        "6200000000000005",
        "6759649826438453",
    ],
)
def test_a_card_number_with_a_valid_luhn_check_is_masked(card: str) -> None:
    label(card, "<CARD_1>", ("card",))


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # Luhn fails
        "4111 1111 1111 1112",
        "1234567812345670",  # Luhn passes, but no card network starts with 1
        "4111 1111  1111 1111",  # a double space: not one number
        "4111-1111 1111-1111",  # mixed separators
        "41111111111111110000",  # 20 digits
        "12345678901234567890123",
    ],
)
def test_a_number_that_is_not_a_card_number_is_left(text: str) -> None:
    untouched(text, ("card",))


def test_a_card_number_followed_by_more_digits_is_masked_alone() -> None:
    assert masked("4111 1111 1111 1111 2024", Pii(kinds=("card",))) == "<CARD_1> 2024"
    assert masked("4111111111111111 2024", Pii(kinds=("card",))) == "<CARD_1> 2024"


# --- IBAN --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "GB82 WEST 1234 5698 7654 32",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "ES9121000418450200051332",
        "BE68539007547034",
        "CH9300762011623852957",
        "IT60X0542811101000000123456",
        "NO9386011117947",
    ],
)
def test_an_iban_with_a_valid_mod_97_check_is_masked(iban: str) -> None:
    label(iban, "<IBAN_1>", ("iban",))


@pytest.mark.parametrize(
    "text",
    [
        "DE89370400440532013001",  # check digits fail
        "DE89 3704 0044 0532 0130 01",
        "DE8937040044053201300",  # one character short
        "DE893704004405320130000",  # one too many
        "XX89370400440532013000",  # no such country
        "DE89 37040044 0532 0130 00",  # neither compact nor in groups of four
    ],
)
def test_what_is_not_an_iban_is_left(text: str) -> None:
    untouched(text, ("iban",))


def test_two_ibans_in_one_sentence_are_both_masked() -> None:
    text = "IBAN DE89 3704 0044 0532 0130 00 and GB82WEST12345698765432."
    assert masked(text, Pii(kinds=("iban",))) == "IBAN <IBAN_1> and <IBAN_2>."


# --- national ids ------------------------------------------------------------------------------

NATIONAL_IDS = [
    ("us_ssn", "123-45-6789", "US_SSN"),
    ("us_ssn", "123 45 6789", "US_SSN"),
    ("uk_nino", "AB123456C", "UK_NINO"),
    ("uk_nino", "AB 12 34 56 C", "UK_NINO"),
    ("ca_sin", "130 692 544", "CA_SIN"),
    ("ca_sin", "130-692-544", "CA_SIN"),
    ("es_dni", "12345678Z", "ES_DNI"),
    ("es_dni", "12345678-Z", "ES_DNI"),
    ("es_dni", "X1234567L", "ES_DNI"),  # an NIE
    ("fr_nir", "1 84 12 76 451 089 46", "FR_NIR"),
    ("fr_nir", "184127645108946", "FR_NIR"),
    ("fr_nir", "2 55 08 14 168 025 38", "FR_NIR"),
    ("it_fiscal_code", "RSSMRA85T10A562S", "IT_FISCAL_CODE"),
    ("br_cpf", "111.444.777-35", "BR_CPF"),
    ("in_aadhaar", "2345 6789 0124", "IN_AADHAAR"),
]


@pytest.mark.parametrize(("kind", "text", "placeholder"), NATIONAL_IDS)
def test_a_national_id_with_its_check_is_masked(kind: str, text: str, placeholder: str) -> None:
    label(text, f"<{placeholder}_1>", (kind,))


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("us_ssn", "000-12-3456"),  # area 000, 666 and 9xx are never issued
        ("us_ssn", "666-12-3456"),
        ("us_ssn", "912-34-5678"),
        ("us_ssn", "123-00-4567"),
        ("us_ssn", "123-45-0000"),
        ("us_ssn", "123-45 6789"),  # mixed separators
        ("us_ssn", "123456789"),  # without separators: any number
        ("uk_nino", "BG123456C"),  # prefixes never issued
        ("uk_nino", "DA123456C"),
        ("uk_nino", "AO123456C"),
        ("uk_nino", "AB123456E"),  # the suffix is A to D
        ("ca_sin", "130 692 545"),  # Luhn fails
        ("ca_sin", "046 454 286"),  # 0: never issued (it is the documentation's example)
        ("es_dni", "12345678A"),  # the wrong letter
        ("es_dni", "X1234567A"),
        ("fr_nir", "1 84 12 76 451 089 47"),  # the wrong key
        ("it_fiscal_code", "RSSMRA85T10A562T"),  # the wrong check letter
        ("br_cpf", "111.444.777-36"),
        ("br_cpf", "111.111.111-11"),  # every digit the same
        ("in_aadhaar", "2345 6789 0123"),  # Verhoeff fails
        ("in_aadhaar", "1234 5678 9012"),  # never starts with 0 or 1
    ],
)
def test_a_national_id_failing_its_check_is_left(kind: str, text: str) -> None:
    untouched(text, (kind,))


def test_national_id_stands_for_every_national_id_kind() -> None:
    text = " ".join(t for _, t, _ in NATIONAL_IDS[:3]) + " ana@example.com"
    assert masked(text, Pii(kinds=("national_id",))) == (
        "<US_SSN_1> <US_SSN_2> <UK_NINO_1> ana@example.com"
    )


# --- everything together -----------------------------------------------------------------------


def test_each_finding_is_read_once_as_its_first_kind() -> None:
    # A card number is never also a phone number; an IBAN's digits are never a card's.
    text = "Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, call +44 20 7946 0958."
    assert masked(text) == "Card <CARD_1>, IBAN <IBAN_1>, call <PHONE_1>."


def test_prose_with_numbers_is_left_as_it_is() -> None:
    text = (
        "In 2024 we shipped version 3.12.1 to 1,250 customers on 15.01.2024 at 10:30; "
        "order #123456789 cost $1,234.56 (about 4% more than 2023), see RFC 9110 section 15.5.1."
    )
    assert masked(text) == text
