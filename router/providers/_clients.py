"""The vendor SDKs' clients, as the adapters use them: importing an SDK (or saying what to
install), making a client send only what the spec says, the prepared completion route of a
client (:class:`_Route`, see :mod:`router.providers._sdk`), and reading and releasing what the
SDK's httpx2 client holds (bodies under the request's deadline, pooled sockets, clients whose
event loop is gone)."""

from __future__ import annotations

import contextlib
import importlib
import json
import socket
import sys
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from router.aio.deadline import DeadlineReached, watch
from router.errors import ProviderConfigError

if TYPE_CHECKING:
    import httpx2


#: Client attributes that, when set, mean a request may differ per call: such clients always
#: go through the SDK's own request pipeline.
_PER_CALL_HOOKS = (
    "_provider_runtime",
    "_api_key_provider",
    "_workload_identity_auth",
    "_token_cache",
)


#: What a first call would otherwise import on the event loop: anyio's asyncio backend (httpx2's
#: async transport loads it on its first connection), the IDNA codec (host names) and the
#: thread pool behind ``asyncio.to_thread``. :meth:`SDKAdapter.prepare` imports them.
_FIRST_CALL_IMPORTS = ("anyio._backends._asyncio", "encodings.idna", "concurrent.futures.thread")


def _dumps(body: Any) -> bytes:
    """The request body as the SDKs serialize it (``openapi_dumps``: compact, UTF-8, no NaN)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _sdk_attr(sdk: ModuleType, module: str, name: str) -> Any:
    """``sdk.<module>.<name>`` (private parts of the SDK), or None when this SDK has none."""
    try:
        return getattr(importlib.import_module(f"{sdk.__name__}.{module}"), name, None)
    except ImportError:
        return None


class _Route:
    """One client's completion endpoint, prepared by the SDK once: its URL, its status-error
    factory, and its headers per attempt timeout (the SDK puts the timeout in headers)."""

    __slots__ = ("client", "http", "prepared", "status_error", "url")

    def __init__(self, client: Any, path: str) -> None:
        self.client = client
        self.http = client._client
        # What the SDK's request building gives: its URL, merged with the httpx2 client's.
        self.url = self.http.build_request("POST", str(client._prepare_url(path))).url
        self.status_error = client._make_status_error_from_response
        #: attempt timeout -> (the headers, the SDK's and the httpx2 client's; the timeout
        #: extension httpx2 reads)
        self.prepared: dict[float | None, tuple[Any, dict[str, Any]]] = {}


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


async def _aclose_client(pair: tuple[Any, _Route | None]) -> None:
    await pair[0].close()


def _abandon_client(pair: tuple[Any, _Route | None]) -> None:
    """Releases an async client that cannot be closed: its event loop is closed (closing
    would go through that loop) or it never ran on one. It is marked closed, so the SDK's
    finalizer does not schedule a close on whatever loop runs when it is collected (that close
    would fail: "Event loop is closed", "Task exception was never retrieved"); sockets it may
    still hold are released by the collector."""
    http = getattr(pair[0], "_client", None)
    state = getattr(sys.modules.get("httpx2._client"), "ClientState", None)
    if http is not None and state is not None:
        with contextlib.suppress(AttributeError):
            http._state = state.CLOSED


def _pooled_socket(http: Any, request: Any) -> socket.socket | None:
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


def _read(http: httpx2.Response) -> None:
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


def _collect_page(page: Mapping[str, Any], ids: list[str]) -> dict[str, Any] | None:
    """Adds a model-list page's ids; returns the query for the next page (Anthropic pages
    with ``has_more``/``last_id``; OpenAI answers in one go), or None."""
    ids.extend(str(m["id"]) for m in page.get("data", ()))
    last = page.get("last_id")
    return {"after_id": last} if page.get("has_more") and last else None
