"""A provider without base_url talks to the official endpoint: the SDKs' own environment
variables (OPENAI_BASE_URL, ANTHROPIC_BASE_URL) cannot send requests, and the API key, to a URL
the spec's validation never saw."""

from __future__ import annotations

import pytest

from router.providers import ProviderSettings, get_adapter_class

OFFICIAL = {"openai": "https://api.openai.com/v1/", "anthropic": "https://api.anthropic.com"}


@pytest.mark.parametrize("kind", sorted(OFFICIAL))
def test_the_sdk_base_url_variable_does_not_redirect_a_provider_without_base_url(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://169.254.169.254/v1")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://169.254.169.254")
    adapter = get_adapter_class(kind)(ProviderSettings(name=kind, api_key="sk-test-0123456789"))
    try:
        client = adapter._clients.client()  # the SDK client the adapter sends through

        assert str(client.base_url).rstrip("/") == OFFICIAL[kind].rstrip("/")
    finally:
        adapter.close()
