"""Embeddings through each adapter's real SDK client against the sandbox: OpenAI, Azure (its
deployment path) and OpenAI-compatible servers answer; every error maps as for completions,
Retry-After included, with no credential in any text; Anthropic's wire formats refuse with a
typed error before anything is sent."""

from __future__ import annotations

import asyncio

import pytest
from provider_helpers import API_KEY, MakeAdapter, req

from router import errors as E
from router.sandbox import Sandbox
from router.sandbox.embeddings import vector

TEXTS = ("first text", "second text")
OPENAI_KINDS = ("openai", "openai_compatible", "azure_openai")


@pytest.mark.parametrize("kind", OPENAI_KINDS)
def test_each_openai_wire_adapter_embeds_sync_and_async(
    make_adapter: MakeAdapter, sb: Sandbox, kind: str
) -> None:
    adapter = make_adapter(kind)
    request = req(kind, "x", model="emb-1", embed=TEXTS)
    out = adapter.complete(request)
    assert out.vectors == tuple(tuple(vector(t, 64)) for t in TEXTS)
    assert out.usage.input_tokens == out.usage.total_tokens > 0 and out.content == ""
    again = asyncio.run(adapter.acomplete(req(kind, "x", model="emb-1", embed=TEXTS, dimensions=4)))
    assert again.vectors == tuple(tuple(vector(t, 4)) for t in TEXTS)
    first, second = sb.requests[-2:]
    assert first.body["input"] == list(TEXTS) and "dimensions" not in first.body
    assert second.body["dimensions"] == 4
    if kind == "azure_openai":
        assert first.raw_path.startswith("/openai/deployments/emb-1/embeddings?api-version=")
    else:
        assert first.path == "/v1/embeddings" and first.body["model"] == "emb-1"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("429", E.RateLimitError),
        ("500", E.ProviderUnavailable),
        ("503", E.ProviderUnavailable),
        ("400", E.BadRequestError),
        ("404", E.BadRequestError),
        ("badjson", E.ModelError),
        ("html", E.ModelError),
        ("reset", E.ProviderUnavailable),
    ],
)
def test_embedding_errors_map_as_completions_do(
    make_adapter: MakeAdapter, fault: str, error: type[E.ProviderError]
) -> None:
    adapter = make_adapter("openai", fault=fault)
    with pytest.raises(error) as caught:
        adapter.complete(req("openai", "x", model="emb-1", embed=TEXTS))
    assert API_KEY not in str(caught.value) and API_KEY not in repr(caught.value)


def test_retry_after_and_auth_failures_keep_the_key_out(
    make_adapter: MakeAdapter, sb: Sandbox
) -> None:
    adapter = make_adapter("openai", fault="429,retry-after=7")
    with pytest.raises(E.RateLimitError) as limited:
        adapter.complete(req("openai", "x", model="emb-1", embed=TEXTS))
    assert limited.value.retry_after == 7
    with pytest.raises(E.AuthenticationError) as denied:
        make_adapter("openai", fault="401").complete(req("openai", "x", embed=TEXTS))
    text = f"{denied.value} {denied.value!r} {denied.value.__cause__!r}"
    assert API_KEY not in text


@pytest.mark.parametrize("kind", ["anthropic", "anthropic_bedrock", "anthropic_vertex"])
def test_anthropic_wire_adapters_cannot_embed(
    make_adapter: MakeAdapter, sb: Sandbox, kind: str
) -> None:
    adapter = make_adapter(kind)
    with pytest.raises(E.ProviderConfigError, match="cannot embed"):
        adapter.complete(req(kind, "x", embed=TEXTS))
    with pytest.raises(E.ProviderConfigError, match="cannot embed"):
        asyncio.run(adapter.acomplete(req(kind, "x", embed=TEXTS)))
    assert sb.requests == []
