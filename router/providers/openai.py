"""Adapter for OpenAI's Chat Completions API (``type: openai``).

The ``openai`` SDK is imported when the adapter is constructed, its clients by ``prepare()``
(when the Router is built) or on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from router.errors import AuthenticationError
from router.providers import _openai_wire as wire
from router.providers import extra_params as catalogue
from router.providers._clients import spec_only
from router.providers._sdk import SDKAdapter
from router.providers._sse import ChunkDecoder
from router.specmodel import ExtraParam
from router.types import Request, Response

__all__ = ["OpenAIAdapter"]


class OpenAIAdapter(SDKAdapter):
    type_name = "openai"
    sdk_package = "openai"
    upgrade = "pip install --upgrade openai"
    completion_path = "/chat/completions"
    embeddings_path = "/embeddings"
    models_path = "/models"
    #: ``max_tokens`` is deprecated on OpenAI itself and refused by its reasoning models.
    max_tokens_field: ClassVar[str] = "max_completion_tokens"
    #: The official endpoint, used when the spec gives no base_url.
    default_base_url: ClassVar[str] = "https://api.openai.com/v1"
    #: Chat Completions URLs are ``{root}/v1/chat/completions``; a base URL ends in ``/v1``.
    base_path: ClassVar[str] = "/v1"
    #: Read (by us, explicitly) when the settings carry no key; None: never read the env.
    api_key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    #: OpenAI caches long prompt prefixes by itself and bills reads at a discount (half the
    #: input price for the GPT-4o family; less for newer models: set ``cached_input``); writes
    #: cost nothing extra.
    cache_read_multiple: ClassVar[float] = 0.5
    cache_write_multiple: ClassVar[float] = 1.0
    reasoning_param: ClassVar[str | None] = "reasoning_effort"
    extra_params: ClassVar[Mapping[str, ExtraParam]] = catalogue.OPENAI

    def _sdk_base_error(self) -> type[BaseException]:
        base: type[BaseException] = self._sdk.OpenAIError
        return base

    def _api_key(self) -> str | None:
        env = self.api_key_env
        return self.settings.api_key or (os.environ.get(env) if env else None) or None

    def _client_key(self) -> str:
        if not self._secret:
            raise AuthenticationError(
                f"authentication failed: no API key configured (set one in the spec or "
                f"{self.api_key_env})",
                provider=self.settings.name,
            )
        return self._secret

    def _make_client(self, *, use_async: bool) -> Any:
        cls = self._sdk.AsyncOpenAI if use_async else self._sdk.OpenAI
        client = cls(
            api_key=self._client_key(),  # always explicit: the SDK would read the env itself
            # Always explicit: left out, the SDK would read OPENAI_BASE_URL, a URL nobody validated.
            base_url=self.settings.base_url or self.default_base_url,
            timeout=self._timeout,
            max_retries=0,  # the engine owns retries and fallbacks
            default_headers=dict(self.settings.headers) or None,
        )
        # What the SDK fills from the environment when these are left out, with no argument
        # that means "none": OPENAI_ORG_ID and OPENAI_PROJECT_ID (sent as OpenAI-Organization
        # and OpenAI-Project to whatever base_url), OPENAI_ADMIN_KEY, OPENAI_WEBHOOK_SECRET.
        # The spec sets an organisation or project with headers, like any other header.
        client.organization = None
        client.project = None
        client.admin_api_key = None
        client.webhook_secret = None
        client._ambient_authorizations = frozenset()  # from OPENAI_CUSTOM_HEADERS
        return spec_only(client, self.settings.headers)

    def _extra_options(self) -> dict[str, Any]:
        # What the typed ``create`` asks for: the key as a bearer token, never the admin key
        # the SDK may have picked up from OPENAI_ADMIN_KEY.
        return {"security": {"bearer_auth": True}}

    def _body(self, request: Request, *, stream: bool) -> dict[str, Any]:
        return wire.build_body(request, stream=stream, max_tokens_field=self.max_tokens_field)

    def _parse(self, data: Mapping[str, Any], request: Request, latency_s: float) -> Response:
        return wire.parse_response(data, request, latency_s)

    def _stream_state(self, request: Request) -> ChunkDecoder:
        return wire.OpenAIStream(request, self._secret)
