"""Machinery shared by the adapters that drive a vendor SDK over HTTP.

Why the calls look the way they do: the SDKs' typed ``create`` methods spend much of a call's
client CPU re-walking the request through TypedDict transforms and building pydantic models of
the answer. We keep what the SDKs are good at (auth, headers, connection pooling, timeouts,
status → exception mapping) by calling their generic ``client.post(path, cast_to=httpx2.Response)``,
their documented route for raw HTTP, and parse the body once with ``json.loads``. Non-2xx
answers still come back as SDK ``APIStatusError``s (raised inside the SDK's request loop before
``cast_to`` is looked at); streams are read with our own SSE decoder for the same reason.
"""

from __future__ import annotations

import abc
import asyncio
import importlib
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from router.errors import BadRequestError, ModelError, ProviderError, ProviderUnavailable
from router.providers import _errors
from router.providers._sse import StreamState, astream_chunks, stream_chunks
from router.providers.base import Adapter, ProviderSettings
from router.types import Chunk, Request, Response

if TYPE_CHECKING:
    import httpx2

__all__ = ["SDKAdapter", "StreamState", "require_sdk"]


def require_sdk(package: str, provider_type: str) -> ModuleType:
    """Import a vendor SDK, or fail with an error that says what to install."""
    try:
        return importlib.import_module(package)
    except ImportError as exc:
        raise ImportError(
            f"provider type {provider_type!r} needs the {package!r} package, which is not "
            f"installed: pip install {package}",
            name=package,
        ) from exc


class SDKAdapter(Adapter):
    sdk_package: ClassVar[str]
    completion_path: ClassVar[str]
    models_path: ClassVar[str]

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._sdk = require_sdk(self.sdk_package, self.type_name)
        import httpx2  # present whenever the SDK is: both are built on it

        self._httpx2 = httpx2
        sdk = self._sdk
        self._errors = _errors.SDKErrors(
            timeout=(sdk.APITimeoutError, httpx2.TimeoutException),
            connection=(sdk.APIConnectionError, httpx2.HTTPError),
            status=sdk.APIStatusError,
            base=self._sdk_base_error(),
        )
        self._catch: tuple[type[BaseException], ...] = (self._errors.base, httpx2.HTTPError)
        self._timeout = httpx2.Timeout(settings.request_timeout, connect=settings.connect_timeout)
        self._secret = self._api_key()
        self._client: Any = None
        self._aclient: Any = None
        self._aclient_loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

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
    def _stream_state(self, request: Request) -> StreamState: ...

    def _extra_options(self) -> dict[str, Any]:
        return {}

    # -- plumbing ---------------------------------------------------------------------------
    def _sync(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client(use_async=False)
        return self._client

    def _async(self) -> Any:
        # An async client's pooled connections belong to the event loop that opened them; a
        # caller who runs asyncio.run() per call would otherwise get "Event loop is closed"
        # from the second call on. So the client is per loop (the old one is dropped: its
        # loop is gone and cannot close it).
        loop = asyncio.get_running_loop()
        if self._aclient is None or self._aclient_loop is not loop:
            with self._lock:
                if self._aclient is None or self._aclient_loop is not loop:
                    self._aclient = self._make_client(use_async=True)
                    self._aclient_loop = loop
        return self._aclient

    def _options(self, request: Request | None) -> dict[str, Any]:
        timeout: Any = self._timeout
        if request is not None and request.timeout is not None:
            t = request.timeout
            timeout = self._httpx2.Timeout(t, connect=min(t, self.settings.connect_timeout))
        return {"timeout": timeout, **self._extra_options()}

    def _error(
        self, exc: BaseException, request: Request | None, *, mid_stream: bool = False
    ) -> ProviderError:
        provider = request.provider if request is not None else self.settings.name
        model = request.model if request is not None else ""
        kw: dict[str, Any] = {"provider": provider, "model": model, "secret": self._secret}
        broken = isinstance(exc, self._errors.connection) and not isinstance(
            exc, self._errors.timeout
        )
        if mid_stream and broken:
            detail = f"stream ended before its terminal event: {_errors.describe(exc)}"
            return _errors.make_error(ProviderUnavailable, detail, **kw)
        return _errors.translate(exc, self._errors, **kw)

    def _wire_body(self, request: Request, *, stream: bool) -> dict[str, Any]:
        try:
            return self._body(request, stream=stream)
        except ValueError as exc:  # a request this provider cannot express
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
            err = _errors.bad_body(content, ctype, provider=name, model=model, secret=self._secret)
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
            secret=self._secret,
        )

    # -- the Adapter API --------------------------------------------------------------------
    def complete(self, request: Request) -> Response:
        body = self._wire_body(request, stream=False)
        start = time.perf_counter()
        try:
            http = self._sync().post(
                self.completion_path,
                body=body,
                cast_to=self._httpx2.Response,
                options=self._options(request),
            )
        except self._catch as exc:
            raise self._error(exc, request) from exc
        return self._response(http, request, start)

    async def acomplete(self, request: Request) -> Response:
        body = self._wire_body(request, stream=False)
        start = time.perf_counter()
        try:
            http = await self._async().post(
                self.completion_path,
                body=body,
                cast_to=self._httpx2.Response,
                options=self._options(request),
            )
        except self._catch as exc:
            raise self._error(exc, request) from exc
        return self._response(http, request, start)

    def stream(self, request: Request) -> Iterator[Chunk]:
        body = self._wire_body(request, stream=True)
        state = self._stream_state(request)
        try:
            http = self._sync().post(
                self.completion_path,
                body=body,
                cast_to=self._httpx2.Response,
                options=self._options(request),
                stream=True,
            )
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

    async def astream(self, request: Request) -> AsyncIterator[Chunk]:
        body = self._wire_body(request, stream=True)
        state = self._stream_state(request)
        try:
            http = await self._async().post(
                self.completion_path,
                body=body,
                cast_to=self._httpx2.Response,
                options=self._options(request),
                stream=True,
            )
        except self._catch as exc:
            raise self._error(exc, request) from exc
        try:
            if "event-stream" not in http.headers.get("content-type", ""):
                await http.aread()
                raise self._not_a_stream(http, request)
            async for chunk in astream_chunks(http, state):
                yield chunk
        except self._catch as exc:
            raise self._error(exc, request, mid_stream=True) from exc
        finally:
            await http.aclose()
        yield state.final()

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

    async def alist_models(self) -> list[str]:
        ids: list[str] = []
        params: dict[str, Any] | None = {}
        try:
            while params is not None:
                options = {**self._options(None), "params": params}
                http = await self._async().get(
                    self.models_path, cast_to=self._httpx2.Response, options=options
                )
                params = _collect_page(self._decode(http, None), ids)
        except self._catch as exc:
            raise self._error(exc, None) from exc
        return ids

    def close(self) -> None:
        """Closes the sync client. The async one needs ``aclose()`` (it cannot be awaited
        here); ``aclose()`` closes both."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        aclient, loop = self._aclient, self._aclient_loop
        self._aclient = self._aclient_loop = None
        if aclient is not None and loop is asyncio.get_running_loop():
            await aclient.close()
        self.close()


def _collect_page(page: Mapping[str, Any], ids: list[str]) -> dict[str, Any] | None:
    """Adds a model-list page's ids; returns the query for the next page (Anthropic pages
    with ``has_more``/``last_id``; OpenAI answers in one go), or None."""
    ids.extend(str(m["id"]) for m in page.get("data", ()))
    last = page.get("last_id")
    return {"after_id": last} if page.get("has_more") and last else None
