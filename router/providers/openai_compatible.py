"""Adapter for any server that speaks the Chat Completions wire (``type: openai_compatible``):
vLLM, Ollama, llama.cpp, LM Studio, gateways and other vendors' compatibility endpoints.

Differences from :mod:`router.providers.openai`: ``base_url`` is required, the key is optional
and nothing is taken from the OpenAI environment variables, since a third-party server must
never receive the user's OpenAI key, organization or project by accident.
"""

from __future__ import annotations

from typing import Any

from router.providers import extra_params as catalogue
from router.providers.base import ProviderSettings
from router.providers.openai import OpenAIAdapter

__all__ = ["OpenAICompatibleAdapter"]

#: The SDK refuses to build a client without a key; this one is never sent (see _extra_options).
PLACEHOLDER_KEY = "not-needed"


class OpenAICompatibleAdapter(OpenAIAdapter):
    type_name = "openai_compatible"
    max_tokens_field = "max_tokens"  # what most compatible servers understand
    api_key_env = None
    #: Hosts price their prompt caches differently (or have none): no discount assumed; a
    #: model's ``pricing.cached_input`` says what its host charges.
    cache_read_multiple = 1.0
    #: What compatible servers commonly take (vLLM's top_k, min_p...), not OpenAI's own.
    extra_params = catalogue.OPENAI_COMPATIBLE

    def __init__(self, settings: ProviderSettings) -> None:
        if not settings.base_url:
            raise ValueError(f"provider {settings.name!r} (openai_compatible) needs a base_url")
        super().__init__(settings)

    def _client_key(self) -> str:
        return self._secret or PLACEHOLDER_KEY

    def _extra_options(self) -> dict[str, Any]:
        options = super()._extra_options()
        if not self._secret:
            # Keyless: no Authorization header at all, rather than the placeholder (a server
            # with optional auth may refuse a token it does not know).
            options["headers"] = {"Authorization": self._sdk.Omit()}
        return options
