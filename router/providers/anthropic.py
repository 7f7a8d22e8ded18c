"""Adapter for Anthropic's Messages API (``type: anthropic``).

The ``anthropic`` SDK is imported when the adapter is constructed, its clients by ``prepare()``
(when the Router is built) or on first use.
Note that anthropic 2.x sends the key as ``Authorization: Bearer``, not ``x-api-key``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, ClassVar

from router.errors import AuthenticationError
from router.providers import _anthropic_wire as wire
from router.providers import extra_params as catalogue
from router.providers._clients import spec_only
from router.providers._sdk import SDKAdapter
from router.providers._sse import ChunkDecoder
from router.specmodel import ExtraParam
from router.types import Request, Response

__all__ = ["DEFAULT_MAX_TOKENS", "AnthropicAdapter"]

DEFAULT_MAX_TOKENS = 4096


class AnthropicAdapter(SDKAdapter):
    type_name = "anthropic"
    #: The official endpoint, used when the spec gives no base_url.
    default_base_url: ClassVar[str] = "https://api.anthropic.com"
    sdk_package = "anthropic"
    upgrade = "pip install --upgrade anthropic"
    completion_path = "/v1/messages"
    models_path = "/v1/models"
    #: Sent when the request sets no ``max_tokens`` (the API requires one).
    requires_max_tokens: ClassVar[int | None] = DEFAULT_MAX_TOKENS
    #: The Messages API has no presence/frequency penalties, and rejects unknown fields.
    supports_penalties: ClassVar[bool] = False
    api_key_env: ClassVar[str] = "ANTHROPIC_API_KEY"
    #: Anthropic's documented prompt-cache prices: reads 0.1x the input price, 5-minute
    #: writes 1.25x (1-hour writes, 2x, need ``pricing.cache_write`` set).
    cache_read_multiple: ClassVar[float] = 0.1
    cache_write_multiple: ClassVar[float] = 1.25
    reasoning_param: ClassVar[str | None] = "thinking"
    extra_params: ClassVar[Mapping[str, ExtraParam]] = catalogue.ANTHROPIC

    def _sdk_base_error(self) -> type[BaseException]:
        base: type[BaseException] = self._sdk.AnthropicError
        return base

    def _api_key(self) -> str | None:
        return self.settings.api_key or os.environ.get(self.api_key_env) or None

    def _make_client(self, *, use_async: bool) -> Any:
        if not self._secret:
            raise AuthenticationError(
                f"authentication failed: no API key configured (set one in the spec or "
                f"{self.api_key_env})",
                provider=self.settings.name,
            )
        cls = self._sdk.AsyncAnthropic if use_async else self._sdk.Anthropic
        client = cls(
            # Explicit, so the SDK skips its own lookup (ANTHROPIC_API_KEY,
            # ANTHROPIC_AUTH_TOKEN, profiles under ~/.config/anthropic, federation).
            api_key=self._secret,
            # Always explicit: left out, the SDK would read ANTHROPIC_BASE_URL (or a profile),
            # a URL nobody validated.
            base_url=self.settings.base_url or self.default_base_url,
            timeout=self._timeout,
            max_retries=0,  # the engine owns retries and fallbacks
            default_headers=dict(self.settings.headers) or None,
            # The SDK's own OpenTelemetry spans are off, whatever ANTHROPIC_OPEN_TELEMETRY_*
            # say: they could record prompts ("content" mode) and would send trace headers to
            # the provider. The router's spans (telemetry.tracing) hold no text.
            open_telemetry=False,
        )
        client.webhook_key = None  # read from ANTHROPIC_WEBHOOK_SIGNING_KEY otherwise
        return spec_only(client, self.settings.headers)

    def _body(self, request: Request, *, stream: bool) -> dict[str, Any]:
        return wire.build_body(request, stream=stream, default_max_tokens=DEFAULT_MAX_TOKENS)

    def _parse(self, data: Mapping[str, Any], request: Request, latency_s: float) -> Response:
        return wire.parse_response(data, request, latency_s)

    def _stream_state(self, request: Request) -> ChunkDecoder:
        return wire.AnthropicStream(request, self._secret)
