"""Provider parameters: the request fields a provider or model accepts beyond the router's own
parameters (``service_tier``, ``top_k``, ``metadata.user_id``...), each with its type.

A spec declares them under ``extra_params`` (a provider's apply to every model it serves; a
model's to all its deployments), naming a well-known field of the provider's type (its type
comes from the adapter's catalogue, :mod:`router.providers.extra_params`) or giving a type.
Values are set in ``params`` (defaults, model, task) or per call, and are sent only to the
deployments that accept them (:mod:`router.routing.extras`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["EXTRA_TYPES", "ExtraParam", "ExtraType", "declarations"]

ExtraType = Literal["string", "integer", "number", "boolean", "object", "array"]
EXTRA_TYPES: tuple[ExtraType, ...] = ("string", "integer", "number", "boolean", "object", "array")
_ARTICLE = {"integer": "an", "object": "an", "array": "an"}


@dataclass(frozen=True, slots=True)
class ExtraParam:
    """One accepted request field: ``name`` as it is set (a dotted name nests in the request
    body: ``metadata.user_id`` is ``{"metadata": {"user_id": ...}}``), its JSON type, and
    optionally the values it may take. As a model declares it, ``type`` may be None: the
    well-known field of whichever provider serves it (:meth:`over`)."""

    name: str
    type: ExtraType | None
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str | None = None

    def over(self, base: ExtraParam | None) -> ExtraParam | None:
        """This declaration over ``base`` (a well-known field, or the provider's own): a type
        of its own replaces it; without one, what it sets narrows ``base``. None when neither
        gives a type."""
        if self.type is not None and (base is None or base.type != self.type):
            return self
        if base is None:
            return None
        return ExtraParam(
            self.name,
            base.type,
            self.enum if self.enum is not None else base.enum,
            self.minimum if self.minimum is not None else base.minimum,
            self.maximum if self.maximum is not None else base.maximum,
            self.description or base.description,
        )

    def describe(self) -> str:
        """What a value must be, in words: ``an integer >= 1``, ``one of auto, flex``."""
        if self.enum is not None:
            return "one of " + ", ".join(str(v) for v in self.enum)
        named = self.type or "value"
        kind = f"{_ARTICLE.get(named, 'a')} {named}"
        if self.minimum is not None and self.maximum is not None:
            return f"{kind} from {self.minimum:g} to {self.maximum:g}"
        if self.minimum is not None:
            return f"{kind} >= {self.minimum:g}"
        if self.maximum is not None:
            return f"{kind} <= {self.maximum:g}"
        return kind

    def fits(self, value: object) -> bool:
        """Whether ``value`` (as parsed from JSON or YAML, or given by a caller) is one this
        field takes: the type (``True`` is no number), the enum, the range."""
        kind = type(value)
        if self.type is None:
            return False
        if self.type == "string":
            ok = kind is str
        elif self.type == "boolean":
            ok = kind is bool
        elif self.type == "integer":
            ok = isinstance(value, int) and kind is not bool
        elif self.type == "number":
            ok = isinstance(value, int | float) and kind is not bool and math.isfinite(value)
        elif self.type == "object":
            ok = isinstance(value, Mapping)
        else:
            ok = isinstance(value, list | tuple)
        if not ok:
            return False
        if self.enum is not None and value not in self.enum:
            return False
        number: Any = value
        if self.type in ("integer", "number"):
            if self.minimum is not None and number < self.minimum:
                return False
            if self.maximum is not None and number > self.maximum:
                return False
        return True


def declarations(raw: object) -> dict[str, ExtraParam]:
    """A spec's ``extra_params`` (a list of names, or a mapping of names to None or a type),
    as declarations; what has the wrong shape is left out (the schema reports it)."""
    if isinstance(raw, list):
        return {n: ExtraParam(n, None) for n in raw if isinstance(n, str)}
    if not isinstance(raw, Mapping):
        return {}
    out = {}
    for name, d in raw.items():
        if not isinstance(name, str):
            continue
        if not isinstance(d, Mapping):
            out[name] = ExtraParam(name, None)
            continue
        kind = d.get("type")
        enum = d.get("enum")
        low, high = d.get("min"), d.get("max")
        out[name] = ExtraParam(
            name,
            kind if kind in EXTRA_TYPES else None,
            tuple(enum) if isinstance(enum, list) else None,
            low if _number(low) else None,
            high if _number(high) else None,
            d.get("description") if isinstance(d.get("description"), str) else None,
        )
    return out


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
