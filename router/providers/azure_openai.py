"""Adapter for Azure OpenAI (``type: azure_openai``), through the ``openai`` package's
``AzureOpenAI``/``AsyncAzureOpenAI`` clients.

The spec's ``base_url`` is the resource's endpoint (``https://NAME.openai.azure.com``), its
``api_version`` the ``api-version`` query parameter, and a model's ``id`` the name of the Azure
*deployment* that serves it (Azure's word; not the router's ``deployments:``, which are places
one model is served): the client sends ``/openai/deployments/{id}/chat/completions``. The key
goes in the ``api-key`` header (``api_key_env``), or an Entra ID token as a bearer token
(``token_env``). Nothing is read from the SDK's own variables (``AZURE_OPENAI_API_KEY``,
``AZURE_OPENAI_AD_TOKEN``, ``AZURE_OPENAI_ENDPOINT``, ``OPENAI_API_VERSION``): only from the spec.
"""

from __future__ import annotations

from typing import Any, ClassVar

from router.errors import AuthenticationError, ProviderConfigError
from router.providers._clients import spec_only
from router.providers.base import ProviderSettings
from router.providers.openai import OpenAIAdapter

__all__ = ["AzureOpenAIAdapter"]


class AzureOpenAIAdapter(OpenAIAdapter):
    type_name = "azure_openai"
    #: The deployment is in the URL, which the client builds per request.
    prepared_route = False
    #: Azure's Chat Completions takes ``max_completion_tokens`` (reasoning models need it).
    max_tokens_field = "max_completion_tokens"
    api_key_env = None
    #: The endpoint's root; the client adds ``/openai``.
    base_path: ClassVar[str] = ""

    def __init__(self, settings: ProviderSettings) -> None:
        if not settings.base_url:
            raise ProviderConfigError(
                "azure_openai needs a base_url: the resource's endpoint, "
                "https://NAME.openai.azure.com",
                provider=settings.name,
            )
        if not settings.api_version:
            raise ProviderConfigError(
                "azure_openai needs an api_version (the api-version query parameter, "
                "e.g. 2024-10-21)",
                provider=settings.name,
            )
        super().__init__(settings)

    def _make_client(self, *, use_async: bool) -> Any:
        s = self.settings
        if not (self._secret or s.token):
            raise AuthenticationError(
                "authentication failed: no key or token configured (set api_key_env, or "
                "token_env for an Entra ID token, and that variable)",
                provider=s.name,
            )
        cls = self._sdk.AsyncAzureOpenAI if use_async else self._sdk.AzureOpenAI
        client = cls(
            azure_endpoint=s.base_url,
            api_version=s.api_version,
            # Exactly one credential, always explicit (the SDK would read its variables).
            api_key=None if s.token else self._secret,
            azure_ad_token=s.token or None,
            timeout=self._timeout,
            max_retries=0,
            default_headers=dict(s.headers) or None,
        )
        client.organization = None
        client.project = None
        client.admin_api_key = None
        client.webhook_secret = None
        client._ambient_authorizations = frozenset()
        return spec_only(client, s.headers)

    def _extra_options(self) -> dict[str, Any]:
        return {}
