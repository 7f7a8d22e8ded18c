"""A request read off the wire, before it goes to the Router: the task, the messages in the
OpenAI shape the Router takes, its parameters, and what the caller added to route it by
(``x-router-tags`` and ``x-router-metadata`` headers, the body's metadata, the key's own).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from router.errors import RequestError

__all__ = ["GatewayCall", "merge_metadata", "provider_params", "require", "routing_hints"]

TAGS_HEADER = b"x-router-tags"
METADATA_HEADER = b"x-router-metadata"


@dataclass(slots=True)
class GatewayCall:
    task: str
    messages: list[Any]
    params: dict[str, Any]
    stream: bool = False
    include_usage: bool = False
    metadata: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)

    def router_params(self) -> dict[str, Any]:
        """The keyword arguments of ``Router.acomplete``/``astream``."""
        params = dict(self.params)
        if self.metadata:
            params["metadata"] = self.metadata
        if self.tags:
            params["tags"] = self.tags
        return params


def provider_params(
    body: Mapping[str, Any],
    known: Collection[str],
    lenient: Collection[str],
    declared: Callable[[], Collection[str]],
    passes: str,
) -> dict[str, Any]:
    """The fields of ``body`` the gateway does not read itself (``known``), as provider
    parameters for the Router, which checks them against the models of the task's chain. A
    field the spec declares nowhere is refused here, naming it; one of ``lenient`` (fields
    clients send by habit) is then left out instead, as the gateway always did."""
    extra = {k: v for k, v in body.items() if k not in known}
    if not extra:
        return extra
    names = declared()
    unknown = sorted(k for k in extra if k not in names and k not in lenient)
    if unknown:
        more = (
            f"; provider parameters the spec declares: {', '.join(sorted(names))}" if names else ""
        )
        raise RequestError(
            f"unrecognized request argument {', '.join(unknown)} (the gateway passes "
            f"{passes}{more}; a field a provider takes is declared under extra_params in the "
            "spec first)",
            argument=unknown[0],
        )
    return {k: v for k, v in extra.items() if k in names and v is not None}


def require(body: Mapping[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if value is None:
        raise RequestError(f"{name}: required", argument=name)
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise RequestError(f"{name}: expected {kind.__name__}", argument=name)
    return value


def merge_metadata(*sources: Mapping[str, Any] | None) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    for source in sources:
        if source:
            out.update(source)
    return out or None


def routing_hints(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[list[str], dict[str, Any] | None]:
    """Tags (``x-router-tags: a, b``, repeatable) and metadata (``x-router-metadata``, a JSON
    object) a request carries for the spec's rules."""
    tags: list[str] = []
    metadata: dict[str, Any] | None = None
    for name, value in headers:
        if name == TAGS_HEADER:
            tags += [t.strip() for t in value.decode("utf-8", "replace").split(",") if t.strip()]
        elif name == METADATA_HEADER:
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                raise RequestError(
                    'x-router-metadata: expected a JSON object, e.g. {"tier": "gold"}',
                    argument="x-router-metadata",
                )
            metadata = {**(metadata or {}), **parsed}
    return tags, metadata
