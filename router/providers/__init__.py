"""Provider adapters: one HTTP call to one provider, translated both ways.

Importing this package is cheap and never imports a vendor SDK; an adapter module imports its
SDK when the adapter is constructed. Look adapters up by the spec's ``type`` string::

    cls = get_adapter_class("anthropic")
    adapter = cls(ProviderSettings(name="claude", api_key=key))
"""

from router.providers._facts import parse_retry_after
from router.providers.base import Adapter, ProviderSettings
from router.providers.registry import PROVIDER_TYPES, get_adapter_class

__all__ = [
    "PROVIDER_TYPES",
    "Adapter",
    "ProviderSettings",
    "get_adapter_class",
    "parse_retry_after",
]
