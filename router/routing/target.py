"""A deployment ready to be called: what the walk sends to, built once when the spec is
compiled (:mod:`router.engine.compile`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from router.nodes.base import Node
from router.nodes.load import Live
from router.providers.base import RequestProfile
from router.specmodel import ExtraParam, ModelSpec

__all__ = ["Target"]


@dataclass(frozen=True, slots=True)
class Target:
    """One deployment of a model ready to be called: its spec entries and the top node of
    its stack. ``model`` is the model as this deployment serves it (its ``id`` and pricing
    are the deployment's).

    ``profile`` holds its provider's request quirks (required ``max_tokens``, penalties),
    read from its adapter class once, when the spec is compiled."""

    model: ModelSpec
    provider: str
    node: Node  # the stack's top node: cache → load → breaker → limiter → adapter
    profile: RequestProfile  # its provider's request quirks, from the adapter class
    unavailable: str | None = None  # why it cannot be called at all (e.g. its key is unset)
    deployment: str | None = None  # the deployment's name in the spec (never a key)
    key: str = ""  # names its state (holds, breaker, limits); default: the model's name
    weight: float = 1.0
    live: Live = field(default_factory=Live)
    request_timeout: float | None = None  # its own timeouts.request (None: the spec's rule)
    #: The provider parameters it accepts (router.routing.extras.accepts).
    extra_params: Mapping[str, ExtraParam] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.model.name)
