"""Which adapter class serves which spec ``type``.

Classes are named by import path and imported on demand, so importing :mod:`router.providers`
stays cheap and never pulls in a vendor SDK. Adding a provider: one module with an
:class:`~router.providers.base.Adapter` subclass, one line in ``_ADAPTERS`` (and the new type in
the spec schema's enum).
"""

from __future__ import annotations

import importlib

from router.providers.base import Adapter

__all__ = ["PROVIDER_TYPES", "get_adapter_class"]

_ADAPTERS: dict[str, str] = {
    "openai": "router.providers.openai:OpenAIAdapter",
    "anthropic": "router.providers.anthropic:AnthropicAdapter",
    "openai_compatible": "router.providers.openai_compatible:OpenAICompatibleAdapter",
}

PROVIDER_TYPES: tuple[str, ...] = tuple(_ADAPTERS)


def get_adapter_class(type_name: str) -> type[Adapter]:
    """The adapter class for a spec ``type``; ``ValueError`` for an unknown one."""
    try:
        target = _ADAPTERS[type_name]
    except KeyError:
        known = ", ".join(PROVIDER_TYPES)
        raise ValueError(f"unknown provider type {type_name!r} (known: {known})") from None
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise TypeError(f"{target} is not an Adapter subclass")
    return cls
