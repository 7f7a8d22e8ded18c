"""Machinery shared by the adapters that drive a vendor SDK over HTTP.

Why the calls look the way they do: the SDKs' typed ``create`` methods spend much of a call's
client CPU re-walking the request through TypedDict transforms and building pydantic models of
the answer. We keep what the SDKs are good at (auth, headers, connection pooling, timeouts,
status → exception mapping) by calling their generic ``client.post(path, cast_to=httpx2.Response)``,
their documented route for raw HTTP, and parse the body once with ``json.loads``. Non-2xx
answers still come back as SDK ``APIStatusError``s (raised inside the SDK's request loop before
``cast_to`` is looked at); streams are read with our own SSE decoder for the same reason.

Completion calls go one step further when the client allows it (:class:`_Route`): the SDK's
per-call pipeline (option copies, body transforms, header, URL and request building, the retry
loop: about a fifth of a call's CPU) is run once per client and timeout, and each call then
sends a request with the same URL and the same headers, built by the SDK, through the SDK's own
httpx2 client, raising the SDK's own exceptions for failures. Clients with anything that can
change a request per call (custom auth, key providers, token caches, middleware, tracing) keep
the SDK path.

Nothing slow happens on the event loop. :meth:`SDKAdapter.prepare` (run when the Router is
built) imports what a first call would (the SDK is imported by the constructor), builds the
sync client and an async client for the first event loop that calls, and reads the platform
facts the SDK sends (OS, architecture: possibly blocking I/O). Building an async client outside
any loop is safe: httpx2/httpcore2 make their locks and pick the async backend on first use,
and open connections only inside the loop that sends. Async clients are per event loop
(:class:`~router.aio.eventloops.LoopLocal`): their pooled connections belong to the loop that
opened them. A loop after the first gets its client built in a thread (``asyncio.to_thread``),
so other requests on that loop go on meanwhile, and each loop's client is closed before that
loop closes.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import importlib
import json
import threading
import time
from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from router.aio.deadline import sending
from router.aio.eventloops import LoopLocal
from router.errors import (
    BadRequestError,
    ModelError,
    ProviderError,
    ProviderUnavailable,
)
from router.providers import _errors
from router.providers._boundary import _adetach, _adetach_stream, _detach, _detach_stream
from router.providers._clients import (
    _FIRST_CALL_IMPORTS,
    _PER_CALL_HOOKS,
    _abandon_client,
    _aclose_client,
    _collect_page,
    _dumps,
    _pooled_socket,
    _read,
    _Route,
    _sdk_attr,
    require_sdk,
)
from router.providers._sse import ChunkDecoder, astream_chunks, stream_chunks
from router.providers.base import Adapter, ProviderSettings
from router.redaction import Secrets, credential_value, describe
from router.types import Chunk, Request, Response

if TYPE_CHECKING:
    import httpx2

__all__ = ["SDKAdapter"]


class SDKAdapter(Adapter):
    sdk_package: ClassVar[str]
    #: What installs the SDK when it is missing (None: ``pip install <sdk_package>``; a
    #: provider behind an optional extra names it:
    #: ``pip install 'declarative-llm-router[NAME]'``), and what
    #: upgrades it to a release that runs on httpx2.
    install: ClassVar[str | None] = None
    upgrade: ClassVar[str]
    completion_path: ClassVar[str]
    models_path: ClassVar[str]

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        name = settings.name
        self._sdk = require_sdk(
            self.sdk_package, self.type_name, provider=name, install=self.install
        )
        # Present whenever the SDK is recent enough: it is built on it.
        httpx2: Any = require_sdk("httpx2", self.type_name, provider=name, install=self.upgrade)
        self._httpx2 = httpx2
        sdk = self._sdk
        self._errors = _errors.SDKErrors(
            timeout=(sdk.APITimeoutError, httpx2.TimeoutException),
            connection=(sdk.APIConnectionError, httpx2.HTTPError),
            status=sdk.APIStatusError,
            base=self._sdk_base_error(),
            bad_url=(httpx2.InvalidURL, httpx2.UnsupportedProtocol),
            bad_header=(httpx2.LocalProtocolError,),
        )
        # Everything an SDK or HTTP-stack call may raise but our own errors: nothing raw
        # leaves an adapter (see _errors.foreign).
        self._catch: tuple[type[BaseException], ...] = (
            self._errors.base,
            httpx2.HTTPError,
            httpx2.InvalidURL,
            httpx2.CookieConflict,
            *_errors.FOREIGN,
        )
        self._timeout = httpx2.Timeout(settings.request_timeout, connect=settings.connect_timeout)
        self._secret = self._api_key()
        # What error texts are cleaned of: the key, and the values of credential headers.
        headers = settings.headers.items()
        self._secrets = Secrets(
            [self._secret or "", *(credential_value(k, v) or "" for k, v in headers)]
        )
        self._client: Any = None
        self._lock = threading.Lock()
        # The prepared route of each client, as (client, route or None: use the SDK's path).
        self._route: tuple[Any, _Route | None] | None = None
        # Async clients with their routes: one per event loop, and one made ahead by prepare()
        # for the first loop that calls.
        self._aclients: LoopLocal[tuple[Any, _Route | None]] = LoopLocal(
            _aclose_client, abandon=_abandon_client
        )
        self._spare: tuple[Any, _Route | None] | None = None
        self._final_options: Any = _sdk_attr(sdk, "_models", "FinalRequestOptions")
        self._get_platform: Any = _sdk_attr(sdk, "_base_client", "get_platform")
        # What the SDK wraps in its connection error when sending fails (openai: httpx2's
        # request errors and a few more; anthropic: any exception that is not its own).
        request_exceptions = _sdk_attr(sdk, "_httpx2", "request_exceptions")
        self._wrapped: tuple[type[BaseException], ...] = (
            tuple(request_exceptions()) if request_exceptions is not None else (Exception,)
        )

    # -- per-provider hooks -----------------------------------------------------------------
    @abc.abstractmethod
    def _sdk_base_error(self) -> type[BaseException]: ...

    @abc.abstractmethod
    def _api_key(self) -> str | None:
        """The key to send (resolved once); None when none is configured."""

    @abc.abstractmethod
    def _make_client(self, *, use_async: bool) -> Any: ...

    @abc.abstractmethod
    def _body(self, request: Request, *, stream: bool) -> dict[str, Any]: ...

    @abc.abstractmethod
    def _parse(self, data: Mapping[str, Any], request: Request, latency_s: float) -> Response: ...

    @abc.abstractmethod
    def _stream_state(self, request: Request) -> ChunkDecoder: ...

    def _extra_options(self) -> dict[str, Any]:
        return {}

    # -- plumbing ---------------------------------------------------------------------------
    def prepare(self) -> None:
        """Does now what a first call would: the imports, the sync client and its route, an
        async client for the first event loop, the platform facts. Raises what making a client
        raises (no key configured: AuthenticationError)."""
        for name in _FIRST_CALL_IMPORTS:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        client = self._sync()
        if self._route is None or self._route[0] is not client:
            self._route = (client, self._make_route(client))
        if self._spare is None:
            spare = self._new_async()
            with self._lock:
                extra = spare if self._spare is not None else None
                if extra is None:
                    self._spare = spare
            if extra is not None:  # made by another thread meanwhile: one is enough
                _abandon_client(extra)

    def _sync(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client(use_async=False)
        return self._client

    def _new_async(self) -> tuple[Any, _Route | None]:
        """A new async client and its route (blocking work: not on the event loop)."""
        client = self._make_client(use_async=True)
        if getattr(client, "_platform", False) is None and self._get_platform is not None:
            # What the SDK does before its first call, in a thread: it may block.
            client._platform = self._get_platform()
        return client, self._make_route(client)

    async def _claim_async(self) -> tuple[Any, _Route | None]:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            return spare
        return await asyncio.to_thread(self._new_async)

    async def _async(self) -> tuple[Any, _Route | None]:
        """The running loop's client and route: the one prepare() made for the first loop,
        else one built in a thread (the loop goes on with other work meanwhile)."""
        current = self._aclients.current()
        if current is not None:
            return current
        return await self._aclients.aget(self._claim_async)

    def _options(self, request: Request | None) -> dict[str, Any]:
        return self._options_for(request.timeout if request is not None else None)

    def _options_for(self, t: float | None) -> dict[str, Any]:
        timeout: Any = self._timeout
        if t is not None:
            timeout = self._httpx2.Timeout(t, connect=min(t, self.settings.connect_timeout))
        return {"timeout": timeout, **self._extra_options()}

    # -- the prepared route (see the module's docstring) --------------------------------------
    def _send_error(self, exc: Exception, http_request: Any) -> BaseException | None:
        """What the SDK raises for ``exc`` from its httpx2 client's ``send``: its timeout or
        connection error, or None to let ``exc`` through (it is the SDK's own already)."""
        if isinstance(exc, self._errors.base):
            return None
        if isinstance(exc, self._httpx2.TimeoutException):
            return self._sdk.APITimeoutError(request=http_request)  # type: ignore[no-any-return]
        if isinstance(exc, self._wrapped):
            return self._sdk.APIConnectionError(request=http_request)  # type: ignore[no-any-return]
        return None

    def _make_route(self, client: Any) -> _Route | None:
        """The route for ``client``; None when a request may change per call (custom auth, key
        providers, middleware, tracing...) or the client lacks what the route uses."""
        if self._final_options is None:
            return None
        try:
            if client.custom_auth is not None or getattr(client, "_middleware", None):
                return None
            if any(getattr(client, name, None) is not None for name in _PER_CALL_HOOKS):
                return None
            if not isinstance(client._client, self._httpx2.Client | self._httpx2.AsyncClient):
                return None
            route = _Route(client, self.completion_path)
            self._prepared(route, None)  # fails here, if it does, not in a call
        except Exception:
            return None
        return route

    def _prepared(self, route: _Route, timeout: float | None) -> tuple[Any, dict[str, Any]]:
        """The headers of a completion with this attempt timeout (the SDK puts the timeout in
        ``x-stainless-*`` headers), built by the SDK and merged with its httpx2 client's as
        ``build_request`` does, and the timeout extension: once per timeout value."""
        prepared = route.prepared.get(timeout)
        if prepared is None:
            options = self._options_for(timeout)
            final = self._final_options.construct(
                method="post", url=self.completion_path, json_data=None, **options
            )
            headers = self._httpx2.Headers(route.http.headers)
            headers.update(route.client._build_headers(final, retries_taken=0))
            if len(route.prepared) >= 64:
                route.prepared.clear()
            prepared = route.prepared[timeout] = (headers, options["timeout"].as_dict())
        return prepared

    def _build(
        self, route: _Route, body: dict[str, Any], request: Request, trace: Any = None
    ) -> Any:
        """The request ``build_request`` would make from what the SDK passes it (with an
        httpcore ``trace`` extension, if given)."""
        headers, timeout = self._prepared(route, request.timeout)
        extensions = {"timeout": timeout} if trace is None else {"timeout": timeout, "trace": trace}
        return self._httpx2.Request(
            "POST",
            route.url,
            headers=headers,
            cookies=route.http.cookies,
            content=_dumps(body),
            extensions=extensions,
        )

    def _post(self, body: dict[str, Any], request: Request, *, stream: bool) -> httpx2.Response:
        client = self._sync()
        cached = self._route
        if cached is None or cached[0] is not client:
            self._route = cached = (client, self._make_route(client))
        route = cached[1]
        if route is None:
            # The body is read here, not by the SDK, so that the deadline bounds that read.
            http: httpx2.Response = client.post(
                self.completion_path,
                body=body,
                cast_to=self._httpx2.Response,
                options=self._options(request),
                stream=True,
            )
            if not stream:
                _read(http)
            return http
        # The request's deadline also bounds sending and the wait for the answer's head.
        with sending(functools.partial(_pooled_socket, route.http)) as trace:
            http_request = self._build(route, body, request, trace)
            try:
                http = route.http.send(http_request, stream=True)
            except Exception as exc:
                error = self._send_error(exc, http_request)
                if error is None:
                    raise
                raise error from exc
        if not stream or not http.is_success:
            _read(http)
        if not http.is_success:
            raise route.status_error(http) from None
        return http

    async def _apost(
        self, body: dict[str, Any], request: Request, *, stream: bool
    ) -> httpx2.Response:
        client, route = self._aclients.current() or await self._async()
        if route is None:
            http: httpx2.Response = await client.post(
                self.completion_path,
                body=body,
                cast_to=self._httpx2.Response,
                options=self._options(request),
                stream=stream,
            )
            return http
        http_request = self._build(route, body, request)
        try:
            http = await route.http.send(http_request, stream=stream)
        except Exception as exc:
            error = self._send_error(exc, http_request)
            if error is None:
                raise
            raise error from exc
        if not http.is_success:
            if not http.is_closed:
                await http.aread()
            raise route.status_error(http) from None
        return http

    def _error(
        self, exc: BaseException, request: Request | None, *, mid_stream: bool = False
    ) -> ProviderError:
        provider = request.provider if request is not None else self.settings.name
        model = request.model if request is not None else ""
        kw: dict[str, Any] = {"provider": provider, "model": model, "secret": self._secrets}
        mapped = _errors.foreign(exc, self._errors, **kw)
        if mapped is not None:
            return mapped
        broken = isinstance(exc, self._errors.connection) and not isinstance(
            exc, self._errors.timeout
        )
        if mid_stream and broken:
            detail = f"stream ended before its terminal event: {describe(exc)}"
            return _errors.make_error(ProviderUnavailable, detail, **kw)
        return _errors.translate(exc, self._errors, **kw)

    def _wire_body(self, request: Request, *, stream: bool) -> dict[str, Any]:
        try:
            return self._body(request, stream=stream)
        except (ValueError, TypeError, LookupError, AttributeError) as exc:  # cannot express it
            raise BadRequestError(
                f"bad request: {exc}", provider=request.provider, model=request.model
            ) from exc

    def _decode(self, http: httpx2.Response, request: Request | None) -> dict[str, Any]:
        name = request.provider if request is not None else self.settings.name
        model = request.model if request is not None else ""
        content = http.content
        cause: ValueError | None = None
        try:
            data = json.loads(content)
        except ValueError as exc:
            data, cause = None, exc
        if not isinstance(data, dict) or data.get("error") is not None:
            ctype = http.headers.get("content-type", "")
            err = _errors.bad_body(content, ctype, provider=name, model=model, secret=self._secrets)
            raise err from cause
        return data

    def _response(self, http: httpx2.Response, request: Request, start: float) -> Response:
        data = self._decode(http, request)
        try:
            return self._parse(data, request, time.perf_counter() - start)
        except _errors.MALFORMED as exc:
            raise ModelError(
                f"unusable response: unexpected shape ({type(exc).__name__}: {exc})",
                provider=request.provider,
                model=request.model,
            ) from exc

    def _not_a_stream(self, http: httpx2.Response, request: Request) -> ProviderError:
        return _errors.bad_body(
            http.content,
            http.headers.get("content-type", ""),
            provider=request.provider,
            model=request.model,
            secret=self._secrets,
        )

    # -- the Adapter API --------------------------------------------------------------------
    @_detach
    def complete(self, request: Request) -> Response:
        body = self._wire_body(request, stream=False)
        start = time.perf_counter()
        try:
            http = self._post(body, request, stream=False)
        except self._catch as exc:
            raise self._error(exc, request) from exc
        return self._response(http, request, start)

    @_adetach
    async def acomplete(self, request: Request) -> Response:
        body = self._wire_body(request, stream=False)
        start = time.perf_counter()
        try:
            http = await self._apost(body, request, stream=False)
        except self._catch as exc:
            raise self._error(exc, request) from exc
        return self._response(http, request, start)

    @_detach_stream
    def stream(self, request: Request) -> Iterator[Chunk]:
        body = self._wire_body(request, stream=True)
        state = self._stream_state(request)
        try:
            http = self._post(body, request, stream=True)
        except self._catch as exc:
            raise self._error(exc, request) from exc
        try:
            if "event-stream" not in http.headers.get("content-type", ""):
                http.read()
                raise self._not_a_stream(http, request)
            yield from stream_chunks(http, state)
        except self._catch as exc:
            raise self._error(exc, request, mid_stream=True) from exc
        finally:
            http.close()
        yield state.final()

    @_adetach_stream
    async def astream(self, request: Request) -> AsyncGenerator[Chunk, None]:
        body = self._wire_body(request, stream=True)
        state = self._stream_state(request)
        try:
            http = await self._apost(body, request, stream=True)
        except self._catch as exc:
            raise self._error(exc, request) from exc
        try:
            if "event-stream" not in http.headers.get("content-type", ""):
                await http.aread()
                raise self._not_a_stream(http, request)
            async with contextlib.aclosing(astream_chunks(http, state)) as chunks:
                async for chunk in chunks:
                    yield chunk
        except self._catch as exc:
            raise self._error(exc, request, mid_stream=True) from exc
        finally:
            await http.aclose()
        yield state.final()

    @_detach
    def list_models(self) -> list[str]:
        ids: list[str] = []
        params: dict[str, Any] | None = {}
        try:
            while params is not None:
                options = {**self._options(None), "params": params}
                http = self._sync().get(
                    self.models_path, cast_to=self._httpx2.Response, options=options
                )
                params = _collect_page(self._decode(http, None), ids)
        except self._catch as exc:
            raise self._error(exc, None) from exc
        return ids

    @_adetach
    async def alist_models(self) -> list[str]:
        ids: list[str] = []
        params: dict[str, Any] | None = {}
        try:
            while params is not None:
                options = {**self._options(None), "params": params}
                client, _ = await self._async()
                http = await client.get(
                    self.models_path, cast_to=self._httpx2.Response, options=options
                )
                params = _collect_page(self._decode(http, None), ids)
        except self._catch as exc:
            raise self._error(exc, None) from exc
        return ids

    def close(self) -> None:
        """Closes the sync client; each event loop's async client is closed on its own loop
        (when that loop next runs), or released if its loop is already closed. The clients
        are made again if the adapter is used after this."""
        with self._lock:
            client, self._client, self._route = self._client, None, None
            spare, self._spare = self._spare, None
        if client is not None:
            client.close()
        if spare is not None:
            _abandon_client(spare)
        self._aclients.close()

    async def aclose(self) -> None:
        """Closes the running loop's async client now, then as :meth:`close`."""
        await self._aclients.aclose()
        self.close()
