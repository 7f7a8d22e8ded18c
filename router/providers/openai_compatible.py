"""Adapter for any server that speaks the Chat Completions wire (``type: openai_compatible``):
vLLM, Ollama, llama.cpp, LM Studio, gateways and other vendors' compatibility endpoints.

Differences from :mod:`router.providers.openai`: ``base_url`` is required, the key is optional
and nothing is taken from the OpenAI environment variables, since a third-party server must
never receive the user's OpenAI key, organization or project by accident.
"""

from __future__ import annotations

from typing import Any

from router.providers.base import ProviderSettings
from router.providers.openai import OpenAIAdapter

__all__ = ["OpenAICompatibleAdapter"]

#: The SDK refuses to build a client without a key; keyless servers ignore this one.
PLACEHOLDER_KEY = "not-needed"


class OpenAICompatibleAdapter(OpenAIAdapter):
    type_name = "openai_compatible"
    max_tokens_field = "max_tokens"  # what most compatible servers understand
    api_key_env = None

    def __init__(self, settings: ProviderSettings) -> None:
        if not settings.base_url:
            raise ValueError(f"provider {settings.name!r} (openai_compatible) needs a base_url")
        super().__init__(settings)

    def _client_key(self) -> str:
        return self._secret or PLACEHOLDER_KEY

    def _make_client(self, *, use_async: bool) -> Any:
        client = super()._make_client(use_async=use_async)
        # The SDK fills these from OPENAI_ORG_ID / OPENAI_PROJECT_ID / OPENAI_ADMIN_KEY and would
        # send them as headers to whatever server this is.
        client.organization = None
        client.project = None
        client.admin_api_key = None
        return client
