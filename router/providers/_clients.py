"""The vendor SDKs' clients, as the adapters use them: importing an SDK (or saying what to
install), making a client send only what the spec says, and reading what the SDK's httpx2
client holds (bodies under the request's deadline, pooled sockets, model-list pages)."""

from __future__ import annotations

import importlib
import json
import socket
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from router.aio.deadline import DeadlineReached, watch
from router.errors import ProviderConfigError

if TYPE_CHECKING:
    import httpx2


def dumps(body: Any) -> bytes:
    """The request body as the SDKs serialize it (``openapi_dumps``: compact, UTF-8, no NaN)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def sdk_attr(sdk: ModuleType, module: str, name: str) -> Any:
    """``sdk.<module>.<name>`` (private parts of the SDK), or None when this SDK has none."""
    try:
        return getattr(importlib.import_module(f"{sdk.__name__}.{module}"), name, None)
    except ImportError:
        return None


def require_sdk(
    package: str, provider_type: str, *, provider: str | None = None, install: str | None = None
) -> ModuleType:
    """Import a vendor SDK, or fail with a :class:`ProviderConfigError` (a ConfigError) that
    names the provider and says what to install (``install``: by default ``pip install
    PACKAGE``; an optional provider names its extra)."""
    try:
        return importlib.import_module(package)
    except ImportError as exc:
        reason = f"{type(exc).__name__}: {exc}"
    raise ProviderConfigError(  # str() starts with the provider's name
        f"provider type {provider_type!r} needs the {package!r} package, which cannot be "
        f"imported ({reason}); "
        f"install it: {install or f'pip install {package}'}",
        provider=provider,
    )


def spec_only(client: Any, headers: Mapping[str, str]) -> Any:
    """``client`` (just made) sending only what the spec says. The SDKs merge headers from
    the environment (``OPENAI_CUSTOM_HEADERS``, ``ANTHROPIC_CUSTOM_HEADERS``: any name, an
    ``Authorization`` that replaces the key included) into the client's custom headers, and
    no argument turns that off: they are replaced by the spec's. And a provider answering
    with a redirect is not followed (the SDKs' httpx2 clients would): the key, the spec's
    headers and the prompt would go to whatever host it names; the 30x is an error instead."""
    client._custom_headers = dict(headers)
    client._client.follow_redirects = False
    return client


def pooled_socket(http: Any, request: Any) -> socket.socket | None:
    """The socket of the connection ``http``'s (an httpx2 client's) connection pool gave to
    ``request`` (an httpcore request being sent), or None when it cannot be found."""
    pool = getattr(getattr(http, "_transport", None), "_pool", None)
    for queued in list(getattr(pool, "_requests", ())):
        if getattr(queued, "request", None) is request:
            connection = getattr(getattr(queued, "connection", None), "_connection", None)
            get = getattr(getattr(connection, "_network_stream", None), "get_extra_info", None)
            sock = get("socket") if get is not None else None
            return sock if isinstance(sock, socket.socket) else None
    return None


def read_closing(http: httpx2.Response) -> None:
    """Reads the whole body of ``http`` under the sync driver's armed deadline (if any,
    :mod:`router.aio.deadline`): a server trickling it past the request's deadline gets its
    connection shut and the read raises DeadlineReached. Closes ``http`` either way."""
    try:
        with watch(http) as deadline:
            http.read()
        if deadline is not None and deadline.fired:
            raise DeadlineReached()  # the shut-down socket read as the end of the body
    finally:
        http.close()


def collect_page(page: Mapping[str, Any], ids: list[str]) -> dict[str, Any] | None:
    """Adds a model-list page's ids; returns the query for the next page (Anthropic pages
    with ``has_more``/``last_id``; OpenAI answers in one go), or None."""
    ids.extend(str(m["id"]) for m in page.get("data", ()))
    last = page.get("last_id")
    return {"after_id": last} if page.get("has_more") and last else None
