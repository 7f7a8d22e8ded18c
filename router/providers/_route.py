"""The prepared completion route of one SDK client (see :mod:`router.providers._sdk`).

The SDK's per-call pipeline (option copies, body transforms, header, URL and request building,
the retry loop: about a fifth of a call's CPU) is run once per client and attempt timeout; each
call then sends a request with the same URL and the same headers, built by the SDK, through the
SDK's own httpx2 client, raising the SDK's own exceptions for failures. A client with anything
that can change a request per call (custom auth, key providers, token caches, middleware,
tracing) gets no route (:meth:`Routes.make` returns None) and keeps the SDK's path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from router.aio.deadline import sending
from router.providers._clients import dumps, pooled_socket, read_closing

if TYPE_CHECKING:
    import httpx2

#: Client attributes that, when set, mean a request may differ per call: such clients always
#: go through the SDK's own request pipeline.
PER_CALL_HOOKS = (
    "_provider_runtime",
    "_api_key_provider",
    "_workload_identity_auth",
    "_token_cache",
)

#: How many attempt timeouts a route keeps prepared headers for.
_PREPARED_MAX = 64


class Route:
    """One client's completion endpoint, prepared by the SDK once: its URL, its status-error
    factory, and its headers per attempt timeout (the SDK puts the timeout in headers)."""

    __slots__ = ("client", "http", "prepared", "routes", "status_error", "url")

    def __init__(self, routes: Routes, client: Any) -> None:
        self.routes = routes
        self.client = client
        self.http = client._client
        # What the SDK's request building gives: its URL, merged with the httpx2 client's.
        self.url = self.http.build_request("POST", str(client._prepare_url(routes.path))).url
        self.status_error = client._make_status_error_from_response
        #: attempt timeout -> (the headers, the SDK's and the httpx2 client's; the timeout
        #: extension httpx2 reads)
        self.prepared: dict[float | None, tuple[Any, dict[str, Any]]] = {}

    def headers(self, timeout: float | None) -> tuple[Any, dict[str, Any]]:
        """The headers of a completion with this attempt timeout, built by the SDK and merged
        with its httpx2 client's as ``build_request`` does, and the timeout extension: made
        once per timeout value."""
        prepared = self.prepared.get(timeout)
        if prepared is None:
            routes = self.routes
            options = routes.options_for(timeout)
            final = routes.final_options.construct(
                method="post", url=routes.path, json_data=None, **options
            )
            headers = routes.httpx2.Headers(self.http.headers)
            headers.update(self.client._build_headers(final, retries_taken=0))
            if len(self.prepared) >= _PREPARED_MAX:
                self.prepared.clear()
            prepared = self.prepared[timeout] = (headers, options["timeout"].as_dict())
        return prepared

    def build(self, body: dict[str, Any], timeout: float | None, trace: Any = None) -> Any:
        """The request ``build_request`` would make from what the SDK passes it (with an
        httpcore ``trace`` extension, if given)."""
        headers, extension = self.headers(timeout)
        extensions = {"timeout": extension}
        if trace is not None:
            extensions["trace"] = trace
        return self.routes.httpx2.Request(
            "POST",
            self.url,
            headers=headers,
            cookies=self.http.cookies,
            content=dumps(body),
            extensions=extensions,
        )

    def send(self, body: dict[str, Any], timeout: float | None, *, stream: bool) -> httpx2.Response:
        """Sends a completion; the request's deadline (if armed) also bounds sending and the
        wait for the answer's head. Raises the SDK's own errors."""
        with sending(functools.partial(pooled_socket, self.http)) as trace:
            http_request = self.build(body, timeout, trace)
            try:
                http: httpx2.Response = self.http.send(http_request, stream=True)
            except Exception as exc:
                error = self.routes.send_error(exc, http_request)
                if error is None:
                    raise
                raise error from exc
        if not stream or not http.is_success:
            read_closing(http)
        if not http.is_success:
            raise self.status_error(http) from None
        return http

    async def asend(
        self, body: dict[str, Any], timeout: float | None, *, stream: bool
    ) -> httpx2.Response:
        """:meth:`send` on an async client."""
        http_request = self.build(body, timeout)
        try:
            http: httpx2.Response = await self.http.send(http_request, stream=stream)
        except Exception as exc:
            error = self.routes.send_error(exc, http_request)
            if error is None:
                raise
            raise error from exc
        if not http.is_success:
            if not http.is_closed:
                await http.aread()
            raise self.status_error(http) from None
        return http


class Routes:
    """What making a :class:`Route` for an SDK's clients needs, resolved once per adapter:
    the SDK's private request-options class, how the adapter turns a timeout into request
    options, and which exceptions the SDK wraps when sending fails."""

    __slots__ = ("base_error", "final_options", "httpx2", "options_for", "path", "sdk", "wrapped")

    def __init__(
        self,
        sdk: Any,
        httpx2: Any,
        path: str,
        options_for: Callable[[float | None], dict[str, Any]],
        *,
        base_error: type[BaseException],
        final_options: Any,
        request_exceptions: Any,
    ) -> None:
        self.sdk = sdk
        self.httpx2 = httpx2
        self.path = path
        self.options_for = options_for
        self.base_error = base_error
        self.final_options = final_options
        # What the SDK wraps in its connection error when sending fails (openai: httpx2's
        # request errors and a few more; anthropic: any exception that is not its own).
        self.wrapped: tuple[type[BaseException], ...] = (
            tuple(request_exceptions()) if request_exceptions is not None else (Exception,)
        )

    def make(self, client: Any) -> Route | None:
        """The route for ``client``; None when a request may change per call (custom auth,
        key providers, middleware, tracing...) or the client lacks what the route uses."""
        if self.final_options is None:
            return None
        try:
            if client.custom_auth is not None or getattr(client, "_middleware", None):
                return None
            if any(getattr(client, name, None) is not None for name in PER_CALL_HOOKS):
                return None
            if not isinstance(client._client, self.httpx2.Client | self.httpx2.AsyncClient):
                return None
            route = Route(self, client)
            route.headers(None)  # fails here, if it does, not in a call
        except Exception:
            return None
        return route

    def send_error(self, exc: Exception, http_request: Any) -> BaseException | None:
        """What the SDK raises for ``exc`` from its httpx2 client's ``send``: its timeout or
        connection error, or None to let ``exc`` through (it is the SDK's own already)."""
        if isinstance(exc, self.base_error):
            return None
        if isinstance(exc, self.httpx2.TimeoutException):
            return self.sdk.APITimeoutError(request=http_request)  # type: ignore[no-any-return]
        if isinstance(exc, self.wrapped):
            return self.sdk.APIConnectionError(request=http_request)  # type: ignore[no-any-return]
        return None
