"""Guardrails as the spec declares them: named settings of the built-in checks a request's
messages pass before anything is sent (personal data masked, pasted secrets refused, input
size capped, blocked terms). The checks themselves live in :mod:`router.guardrails`; this
module is the vocabulary both the spec loader and that package read.

A spec names guardrails in ``defaults.guardrails``, ``tasks.NAME.guardrails`` and
``rules[].guardrails``; a name is an entry of the top-level ``guardrails`` section, or one of
the built-in names (:data:`BUILTIN`) used with their default settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, TypeVar

T = TypeVar("T")

GuardrailType = Literal["pii", "secrets", "input_size", "blocked_terms"]
GuardrailAction = Literal["mask", "refuse", "report"]

GUARDRAIL_TYPES: tuple[GuardrailType, ...] = ("pii", "secrets", "input_size", "blocked_terms")

#: The order a request's guardrails run in, by type: sizes are measured on the text as the
#: caller wrote it; secrets are taken out before terms and personal data are looked for (a
#: key is never half-masked as a phone number); personal data last.
RUN_ORDER: tuple[GuardrailType, ...] = ("input_size", "secrets", "blocked_terms", "pii")


def in_run_order(items: Iterable[T], type_of: Callable[[T], str]) -> list[T]:
    """``items`` (guardrails, or what stands for them) in :data:`RUN_ORDER` by their type;
    those of one type as listed."""
    rank: dict[str, int] = {t: i for i, t in enumerate(RUN_ORDER)}
    return sorted(items, key=lambda item: rank.get(type_of(item), len(RUN_ORDER)))


#: National identity numbers the ``pii`` guardrail finds (each with its format's check).
NATIONAL_ID_KINDS = (
    "us_ssn",
    "uk_nino",
    "ca_sin",
    "es_dni",
    "fr_nir",
    "it_fiscal_code",
    "br_cpf",
    "in_aadhaar",
)
#: What the ``pii`` guardrail finds, in the order it looks.
PII_KINDS = ("iban", "card", *NATIONAL_ID_KINDS, "phone", "email")
#: What the ``secrets`` guardrail finds, in the order it looks.
SECRET_KINDS = (
    "private_key",
    "jwt",
    "anthropic_key",
    "openai_key",
    "aws_secret_key",
    "aws_access_key",
    "github_token",
    "gitlab_token",
    "slack_webhook",
    "slack_token",
    "google_api_key",
    "stripe_key",
    "huggingface_token",
    "npm_token",
    "sendgrid_key",
)
#: Names that stand for several kinds in ``kinds:``.
KIND_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType({"national_id": NATIONAL_ID_KINDS})
#: The kinds each type finds (``kinds:`` chooses among them; all when left out).
KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"pii": PII_KINDS, "secrets": SECRET_KINDS, "input_size": (), "blocked_terms": ()}
)

#: The caps of an ``input_size`` guardrail.
SIZE_CAPS = ("max_message_chars", "max_message_tokens", "max_total_chars", "max_total_tokens")
#: The settings every type takes.
COMMON_SETTINGS = ("type", "action", "roles", "description")
#: The settings only some types take.
TYPE_SETTINGS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "pii": ("kinds", "restore"),
        "secrets": ("kinds",),
        "input_size": SIZE_CAPS,
        "blocked_terms": ("terms",),
    }
)
#: The actions each type can take, the default first.
ACTIONS: Mapping[str, tuple[GuardrailAction, ...]] = MappingProxyType(
    {
        "pii": ("mask", "refuse", "report"),
        "secrets": ("refuse", "mask", "report"),
        "input_size": ("refuse",),
        "blocked_terms": ("refuse", "mask", "report"),
    }
)

ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True, slots=True)
class GuardrailSpec:
    """One guardrail's settings. ``kinds`` is empty for "every kind of its type" (groups such as
    ``national_id`` are already spelled out); ``roles`` are the messages it reads."""

    name: str
    type: GuardrailType
    action: GuardrailAction
    kinds: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset(ROLES)
    #: ``pii``: put the original values back into the answer.
    restore: bool = True
    #: ``blocked_terms``: the terms, as written.
    terms: tuple[str, ...] = ()
    max_message_chars: int | None = None
    max_message_tokens: int | None = None
    max_total_chars: int | None = None
    max_total_tokens: int | None = None
    description: str | None = None


#: The guardrails a spec may name without defining them: their type's default settings.
BUILTIN: Mapping[str, GuardrailSpec] = MappingProxyType(
    {
        "pii": GuardrailSpec(name="pii", type="pii", action="mask"),
        "secrets": GuardrailSpec(name="secrets", type="secrets", action="refuse"),
    }
)


def expand_kinds(kinds: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``kinds`` with each group (``national_id``) spelled out, without repeats, in order."""
    out: dict[str, None] = {}
    for kind in kinds:
        for one in KIND_GROUPS.get(kind, (kind,)):
            out[one] = None
    return tuple(out)
