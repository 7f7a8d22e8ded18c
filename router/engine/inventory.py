"""``Router.models()``: the configured models as :class:`ModelInfo`, and with ``remote=True``
whether each provider's own model list holds each model's id."""

from __future__ import annotations

from dataclasses import dataclass

from router.engine.compile import Runtime
from router.errors import ProviderError

__all__ = ["ModelInfo", "models"]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A configured model, as listed by :meth:`Router.models`."""

    name: str
    provider: str
    id: str
    capabilities: frozenset[str]
    context_window: int | None
    available: bool
    reason: str | None = None
    listed_by_provider: bool | None = None  # with remote=True: does the provider list the id?
    #: With remote=True, when the provider's list could not be read: why (its key is unset,
    #: the provider answered with an error...).
    not_asked: str | None = None


def models(rt: Runtime, *, remote: bool = False) -> list[ModelInfo]:
    """The configured models; with ``remote=True`` also asks each available provider for its
    model list (sync calls: this is for tools, not the request path)."""
    listed: dict[str, set[str] | None] = {}
    why_not: dict[str, str] = {}
    if remote:
        for name, lazy in rt.adapters.items():
            unavailable = rt.unavailable[name]
            if unavailable is not None:
                why_not[name] = f"not asked ({unavailable})"
                continue
            try:
                listed[name] = set(lazy.get().list_models())
            except ProviderError as exc:
                listed[name] = None
                why_not[name] = f"could not be read ({exc.message})"
    out = []
    for name, target in rt.targets.items():
        ids = listed.get(target.provider)
        out.append(
            ModelInfo(
                name=name,
                provider=target.provider,
                id=target.model.id,
                capabilities=frozenset(target.model.capabilities),
                context_window=target.model.context_window,
                available=target.unavailable is None,
                reason=target.unavailable,
                listed_by_provider=(target.model.id in ids) if ids is not None else None,
                not_asked=why_not.get(target.provider),
            )
        )
    return out
