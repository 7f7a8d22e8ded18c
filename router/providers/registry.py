"""Which adapter class serves which spec ``type``.

Classes are named by import path and imported on demand, so importing :mod:`router.providers`
stays cheap and never pulls in a vendor SDK. Adding a provider: one module with an
:class:`~router.providers.base.Adapter` subclass, one line in ``_ADAPTERS`` (and the new type in
the spec schema's enum).
"""

from __future__ import annotations

import importlib

from router.errors import ProviderConfigError
from router.providers.base import Adapter, RequestProfile

__all__ = ["PROVIDER_TYPES", "get_adapter_class", "profile_of"]

_ADAPTERS: dict[str, str] = {
    "openai": "router.providers.openai:OpenAIAdapter",
    "anthropic": "router.providers.anthropic:AnthropicAdapter",
    "openai_compatible": "router.providers.openai_compatible:OpenAICompatibleAdapter",
    "azure_openai": "router.providers.azure_openai:AzureOpenAIAdapter",
    "anthropic_bedrock": "router.providers.anthropic_cloud:BedrockAdapter",
    "anthropic_vertex": "router.providers.anthropic_cloud:VertexAdapter",
}

PROVIDER_TYPES: tuple[str, ...] = tuple(_ADAPTERS)


def get_adapter_class(type_name: str, *, provider: str | None = None) -> type[Adapter]:
    """The adapter class for a spec ``type``; ``ValueError`` for an unknown one, and a
    :class:`~router.errors.ProviderConfigError` (naming ``provider``) when its module cannot
    be imported."""
    try:
        target = _ADAPTERS[type_name]
    except KeyError:
        known = ", ".join(PROVIDER_TYPES)
        raise ValueError(f"unknown provider type {type_name!r} (known: {known})") from None
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # something the adapter's module imports is not installed
        reason, missing = f"{type(exc).__name__}: {exc}", exc.name or module_name
    else:
        cls = getattr(module, attr)
        if not (isinstance(cls, type) and issubclass(cls, Adapter)):
            raise TypeError(f"{target} is not an Adapter subclass")
        return cls
    raise ProviderConfigError(  # str() starts with the provider's name; no ImportError chained
        f"provider type {type_name!r} cannot be used ({reason}); "
        f"install the package that provides {missing!r}",
        provider=provider,
    )


def profile_of(type_name: str) -> RequestProfile:
    """The request quirks of a provider type: its adapter class's (see
    :meth:`router.providers.base.Adapter.profile`)."""
    return get_adapter_class(type_name).profile()
