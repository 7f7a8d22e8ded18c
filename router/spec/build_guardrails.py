"""Building the ``guardrails`` section: each entry's settings, its type's default action, its
``kinds`` groups spelled out; the built-in guardrails (``pii``, ``secrets``) the section does
not redefine are added with their default settings."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from router.specmodel import Defaults
from router.specmodel.guardrails import (
    ACTIONS,
    BUILTIN,
    ROLES,
    SIZE_CAPS,
    GuardrailSpec,
    expand_kinds,
)

__all__ = ["build_guardrail", "build_guardrails"]


def build_guardrail(name: str, g: Mapping[str, Any]) -> GuardrailSpec:
    kind = g["type"]
    return GuardrailSpec(
        name=name,
        type=kind,
        action=g.get("action", ACTIONS[kind][0]),
        kinds=expand_kinds(list(g.get("kinds", ()))),
        roles=frozenset(g.get("roles", ROLES)),
        restore=g.get("restore", True),
        terms=tuple(g.get("terms", ())),
        description=g.get("description"),
        **{cap: g.get(cap) for cap in SIZE_CAPS},
    )


def build_guardrails(value: Any, defaults: Defaults) -> Mapping[str, GuardrailSpec]:
    """The builder of the top-level ``guardrails`` key (see :mod:`router.spec.build`)."""
    built = dict(BUILTIN)
    built.update({name: build_guardrail(name, g) for name, g in (value or {}).items()})
    return MappingProxyType(built)
