"""Nothing raw leaves an adapter: whatever the SDK or the HTTP stack raises (InvalidURL,
LocalProtocolError for a header with CR/LF, UnicodeEncodeError, an exception group from the
connection layer) arrives as one typed error, through the real SDKs against the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from provider_helpers import API_KEY, MakeAdapter, req

from router import errors as E
from router.providers import Adapter
from router.sandbox import Sandbox
from router.types import Request


def _complete(adapter: Adapter, request: Request) -> Any:
    return adapter.complete(request)


def _stream(adapter: Adapter, request: Request) -> Any:
    return list(adapter.stream(request))


def _acomplete(adapter: Adapter, request: Request) -> Any:
    async def go() -> Any:
        try:
            return await adapter.acomplete(request)
        finally:
            await adapter.aclose()

    return asyncio.run(go())


def _astream(adapter: Adapter, request: Request) -> Any:
    async def go() -> Any:
        try:
            return [c async for c in adapter.astream(request)]
        finally:
            await adapter.aclose()

    return asyncio.run(go())


MODES: dict[str, Callable[[Adapter, Request], Any]] = {
    "complete": _complete,
    "stream": _stream,
    "acomplete": _acomplete,
    "astream": _astream,
}


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def failure(adapter: Adapter, request: Request, mode: str) -> E.ProviderError:
    with pytest.raises(E.ProviderError) as info:
        MODES[mode](adapter, request)
    return info.value


@pytest.mark.parametrize(
    "url",
    ["http://[::1/v1", "ftp://127.0.0.1/v1", "127.0.0.1/v1"],
    ids=["invalid-url", "unsupported-scheme", "no-scheme"],
)
def test_a_base_url_the_http_stack_refuses_is_a_provider_config_error(
    kind: str, make_adapter: MakeAdapter, sb: Sandbox, mode: str, url: str
) -> None:
    err = failure(make_adapter(kind, base_url=url), req(kind, "Hi."), mode)
    assert type(err) is E.ProviderConfigError and isinstance(err, E.ConfigError)
    assert not err.retriable and err.kind == "config"
    assert "base URL cannot be used" in str(err) and err.model == "spec-model"
    assert sb.stats["requests"] == 0


@pytest.mark.parametrize(
    "settings",
    [
        {"headers": {"X-Team": "a\r\nX-Injected: 1"}},
        {"headers": {"X-Team": "a\x00b"}},
        {"headers": {"X Team": "v"}},
        {"api_key": API_KEY + "\r\n"},
    ],
    ids=["header-crlf", "header-nul", "header-name-space", "key-crlf"],
)
def test_a_header_http_refuses_is_a_provider_config_error_that_never_repeats_the_value(
    kind: str, make_adapter: MakeAdapter, sb: Sandbox, mode: str, settings: dict[str, Any]
) -> None:
    if kind == "anthropic_vertex" and "api_key" in settings:  # authenticated by a token
        settings = {"token": settings["api_key"]}
    err = failure(make_adapter(kind, **settings), req(kind, "Hi."), mode)
    assert type(err) is E.ProviderConfigError
    assert "an HTTP header cannot be sent" in str(err)
    assert "X-Injected" not in str(err) and API_KEY not in str(err)
    assert sb.stats["requests"] == 0


def test_a_non_ascii_key_is_a_provider_config_error_for_openai(
    make_adapter: MakeAdapter, sb: Sandbox, mode: str
) -> None:
    err = failure(make_adapter("openai", api_key="sk-clé"), req("openai", "Hi."), mode)
    assert type(err) is E.ProviderConfigError
    assert "clé" not in str(err)
    assert sb.stats["requests"] == 0


def test_text_that_cannot_be_encoded_is_a_bad_request_not_a_raw_unicode_error(
    kind: str, make_adapter: MakeAdapter, sb: Sandbox, mode: str
) -> None:
    # The Router refuses this before planning; an adapter used directly still maps it.
    err = failure(make_adapter(kind), req(kind, "caf\udce9"), mode)
    assert type(err) is E.BadRequestError and "lone surrogate" in str(err)
    assert sb.stats["requests"] == 0


def test_a_port_out_of_range_is_a_typed_error_in_every_mode(
    kind: str, make_adapter: MakeAdapter, mode: str
) -> None:
    # asyncio's connect raises OverflowError inside an exception group; sync sockets refuse.
    err = failure(make_adapter(kind, base_url="http://127.0.0.1:99999/v1"), req(kind, "Hi."), mode)
    assert type(err) in (E.ProviderConfigError, E.ProviderUnavailable)


def test_a_request_the_wire_cannot_express_is_a_bad_request(
    kind: str, make_adapter: MakeAdapter, sb: Sandbox
) -> None:
    request = req(kind, "Hi.", tool_choice=object())  # only the Router's checks keep this out
    with pytest.raises(E.BadRequestError):
        make_adapter(kind).complete(request)
    assert sb.stats["requests"] == 0


def test_unexpected_exceptions_from_the_http_client_are_typed(
    kind: str, make_adapter: MakeAdapter, sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx2

    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the transport broke in a way nobody planned for")

    # The only stand-in: an HTTP stack failure nobody can provoke on purpose.
    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", broken)
    err = failure(make_adapter(kind), req(kind, "Hi."), "complete")
    assert type(err) is E.ProviderUnavailable
    assert "RuntimeError: the transport broke" in str(err)
