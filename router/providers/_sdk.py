"""Machinery shared by the adapters that drive a vendor SDK over HTTP.

Why the calls look the way they do: the SDKs' typed ``create`` methods spend much of a call's
client CPU re-walking the request through TypedDict transforms and building pydantic models of
the answer. We keep what the SDKs are good at (auth, headers, connection pooling, timeouts,
status → exception mapping) by calling their generic ``client.post(path, cast_to=httpx2.Response)``,
their documented route for raw HTTP, and parse the body once with ``json.loads``. Non-2xx
answers still come back as SDK ``APIStatusError``s (raised inside the SDK's request loop before
``cast_to`` is looked at); streams are read with our own SSE decoder for the same reason.

Completion calls go one step further when the client allows it: the SDK's per-call pipeline
is run once per client and timeout (:mod:`router.providers._route`). The clients themselves, one
sync and one per event loop, made ahead when the Router is built so nothing slow happens on the
event loop, are kept by :mod:`router.providers._pool`.
"""

from __future__ import annotations

import abc
import contextlib
import json
import time
from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from router.errors import (
    BadRequestError,
    ModelError,
    ProviderConfigError,
    ProviderError,
    ProviderUnavailable,
)
from router.providers import _errors
from router.providers._boundary import adetach, adetach_stream, detach, detach_stream
from router.providers._clients import collect_page, read_closing, require_sdk, sdk_attr
from router.providers._embed_wire import embed_body, parse_embeddings
from router.providers._pool import Clients
from router.providers._route import Routes
from router.providers._sse import (
    ChunkDecoder,
    EventDecoder,
    SSEDecoder,
    astream_chunks,
    stream_chunks,
)
from router.providers.base import CREDENTIAL_NAME, Adapter, ProviderSettings
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
    #: Where embeddings are asked for (OpenAI's wire format); None: this API has none.
    embeddings_path: ClassVar[str | None] = None
    models_path: ClassVar[str]
    #: Whether completions may take the prepared route (:mod:`router.providers._route`).
    #: False for clients that rewrite the URL per request (the model in the path: Azure,
    #: Bedrock, Vertex) or sign each request (AWS SigV4): they keep the SDK's own path.
    prepared_route: ClassVar[bool] = True
    #: What a streamed answer's content type contains, and how its body is framed.
    stream_content_type: ClassVar[str] = "event-stream"

    def _event_decoder(self) -> EventDecoder:
        return SSEDecoder()

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
        self._errors, self._catch = _errors.sdk_errors(sdk, httpx2, self._sdk_base_error())
        self._timeout = httpx2.Timeout(settings.request_timeout, connect=settings.connect_timeout)
        self._secret = self._api_key()
        # What error texts are cleaned of: the key, and the values of credential headers.
        headers = settings.headers.items()
        cloud = [v for k, v in settings.environment.items() if CREDENTIAL_NAME.search(k)]
        self._secrets = Secrets(
            [
                self._secret or "",
                settings.token or "",
                *cloud,
                *(credential_value(k, v) or "" for k, v in headers),
            ]
        )
        routes = Routes(
            sdk,
            httpx2,
            self.completion_path,
            self._options_for,
            base_error=self._errors.base,
            final_options=(
                sdk_attr(sdk, "_models", "FinalRequestOptions") if self.prepared_route else None
            ),
            request_exceptions=sdk_attr(sdk, "_httpx2", "request_exceptions"),
        )
        self._clients = Clients(
            self._make_client,
            routes,
            get_platform=sdk_attr(sdk, "_base_client", "get_platform"),
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
        """Does now what a first call would (see :meth:`Clients.prepare`)."""
        self._clients.prepare()

    def _options(self, request: Request | None) -> dict[str, Any]:
        return self._options_for(request.timeout if request is not None else None)

    def _options_for(self, t: float | None) -> dict[str, Any]:
        timeout: Any = self._timeout
        if t is not None:
            timeout = self._httpx2.Timeout(t, connect=min(t, self.settings.connect_timeout))
        return {"timeout": timeout, **self._extra_options()}

    def _post(self, body: dict[str, Any], request: Request, *, stream: bool) -> httpx2.Response:
        client, route = self._clients.sync()
        if route is not None:
            return route.send(body, request.timeout, stream=stream)
        # The body is read here, not by the SDK, so that the deadline bounds that read.
        http: httpx2.Response = client.post(
            self.completion_path,
            body=body,
            cast_to=self._httpx2.Response,
            options=self._options(request),
            stream=True,
        )
        if not stream:
            read_closing(http)
        return http

    async def _apost(
        self, body: dict[str, Any], request: Request, *, stream: bool
    ) -> httpx2.Response:
        client, route = await self._clients.aget()
        if route is not None:
            return await route.asend(body, request.timeout, stream=stream)
        http: httpx2.Response = await client.post(
            self.completion_path,
            body=body,
            cast_to=self._httpx2.Response,
            options=self._options(request),
            stream=stream,
        )
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
            if request.embed is not None:
                return parse_embeddings(data, request, time.perf_counter() - start)
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

    def _embed_path(self, request: Request) -> str:
        """The embeddings path, or the typed refusal of an API that has none (nothing sent)."""
        if self.embeddings_path is None:
            raise ProviderConfigError(
                f"cannot embed: provider type {self.type_name} has no embeddings endpoint "
                "(serve embedding models from openai, azure_openai or openai_compatible)",
                provider=request.provider,
                model=request.model,
            )
        return self.embeddings_path

    def _embed_post(self, client: Any, request: Request, *, stream: bool) -> Any:
        # Always the SDK's own path (Azure puts the deployment in it), read here in full.
        return client.post(
            self._embed_path(request),
            body=embed_body(request),
            cast_to=self._httpx2.Response,
            options=self._options(request),
            stream=stream,
        )

    # -- the Adapter API --------------------------------------------------------------------
    @detach
    def complete(self, request: Request) -> Response:
        if request.embed is not None:
            self._embed_path(request)
            start = time.perf_counter()
            try:
                http = self._embed_post(self._clients.sync()[0], request, stream=True)
                read_closing(http)
            except self._catch as exc:
                raise self._error(exc, request) from exc
            return self._response(http, request, start)
        body = self._wire_body(request, stream=False)
        start = time.perf_counter()
        try:
            http = self._post(body, request, stream=False)
        except self._catch as exc:
            raise self._error(exc, request) from exc
        return self._response(http, request, start)

    @adetach
    async def acomplete(self, request: Request) -> Response:
        if request.embed is not None:
            self._embed_path(request)
            start = time.perf_counter()
            try:
                client = (await self._clients.aget())[0]
                http = await self._embed_post(client, request, stream=False)
            except self._catch as exc:
                raise self._error(exc, request) from exc
            return self._response(http, request, start)
        body = self._wire_body(request, stream=False)
        start = time.perf_counter()
        try:
            http = await self._apost(body, request, stream=False)
        except self._catch as exc:
            raise self._error(exc, request) from exc
        return self._response(http, request, start)

    @detach_stream
    def stream(self, request: Request) -> Iterator[Chunk]:
        body = self._wire_body(request, stream=True)
        state = self._stream_state(request)
        try:
            http = self._post(body, request, stream=True)
        except self._catch as exc:
            raise self._error(exc, request) from exc
        try:
            if self.stream_content_type not in http.headers.get("content-type", ""):
                http.read()
                raise self._not_a_stream(http, request)
            yield from stream_chunks(http, state, self._event_decoder())
        except self._catch as exc:
            raise self._error(exc, request, mid_stream=True) from exc
        finally:
            http.close()
        yield state.final()

    @adetach_stream
    async def astream(self, request: Request) -> AsyncGenerator[Chunk, None]:
        body = self._wire_body(request, stream=True)
        state = self._stream_state(request)
        try:
            http = await self._apost(body, request, stream=True)
        except self._catch as exc:
            raise self._error(exc, request) from exc
        try:
            if self.stream_content_type not in http.headers.get("content-type", ""):
                await http.aread()
                raise self._not_a_stream(http, request)
            decoder = self._event_decoder()
            async with contextlib.aclosing(astream_chunks(http, state, decoder)) as chunks:
                async for chunk in chunks:
                    yield chunk
        except self._catch as exc:
            raise self._error(exc, request, mid_stream=True) from exc
        finally:
            await http.aclose()
        yield state.final()

    @detach
    def list_models(self) -> list[str]:
        ids: list[str] = []
        params: dict[str, Any] | None = {}
        try:
            while params is not None:
                options = {**self._options(None), "params": params}
                http = self._clients.client().get(
                    self.models_path, cast_to=self._httpx2.Response, options=options
                )
                params = collect_page(self._decode(http, None), ids)
        except self._catch as exc:
            raise self._error(exc, None) from exc
        return ids

    @adetach
    async def alist_models(self) -> list[str]:
        ids: list[str] = []
        params: dict[str, Any] | None = {}
        try:
            while params is not None:
                options = {**self._options(None), "params": params}
                client, _ = await self._clients.aget()
                http = await client.get(
                    self.models_path, cast_to=self._httpx2.Response, options=options
                )
                params = collect_page(self._decode(http, None), ids)
        except self._catch as exc:
            raise self._error(exc, None) from exc
        return ids

    def close(self) -> None:
        """Closes the sync client; each event loop's async client is closed on its own loop
        (when that loop next runs), or released if its loop is already closed. The clients
        are made again if the adapter is used after this."""
        self._clients.close()

    async def aclose(self) -> None:
        """Closes the running loop's async client now, then as :meth:`close`."""
        await self._clients.aclose()
