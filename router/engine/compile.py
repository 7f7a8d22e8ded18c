"""What a model compiles into, around its provider adapter: the adapter (made and prepared
when the Router is built, so no call imports an SDK or builds a client on the event loop), the
innermost node of the stack, and what the environment provides (keys, header values, the
Redis URL), never shown anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from router.errors import ConfigError
from router.providers.base import Adapter
from router.redaction import url_secrets
from router.routing.plan import DEFAULT_EXPECTED_OUTPUT, estimate_tokens
from router.specmodel import EnvRef, ProviderSpec, Spec
from router.state import StateBackend, make_backend
from router.types import Chunk, Request, Response

__all__ = [
    "AdapterNode",
    "LazyAdapter",
    "estimate_request",
    "make_state",
    "resolve",
    "secrets_of",
    "unavailable_reason",
]


_log = logging.getLogger("router.engine")


class LazyAdapter:
    """The provider's adapter. :meth:`prepare` makes it and has it do its slow one-time work
    (SDK import, clients) at start-up; an SDK that cannot be imported is a ConfigError then,
    other problems (no key) are left for the first call that needs this provider to report.
    Not prepared, it is made on first use: by sync calls on their thread, by async calls in a
    worker thread (:meth:`aget`), never on the event loop."""

    __slots__ = ("_adapter", "_lock", "_make")

    def __init__(self, make: Callable[[], Adapter]) -> None:
        self._make = make
        self._adapter: Adapter | None = None
        self._lock = threading.Lock()

    def get(self) -> Adapter:
        adapter = self._adapter
        if adapter is None:
            with self._lock:
                if self._adapter is None:
                    self._adapter = self._make()
                adapter = self._adapter
        return adapter

    async def aget(self) -> Adapter:
        adapter = self._adapter
        if adapter is None:
            adapter = await asyncio.to_thread(self._prepared)
        return adapter

    def _prepared(self) -> Adapter:
        created = self._adapter is None
        adapter = self.get()
        if created:
            adapter.prepare()
        return adapter

    def prepare(self) -> None:
        try:
            self.get().prepare()
        except ConfigError:
            raise  # its SDK cannot be imported: no call to this provider could work
        except Exception as exc:  # the first call to this provider raises it
            _log.debug("provider not prepared at start-up: %s", type(exc).__name__)

    @property
    def created(self) -> Adapter | None:
        return self._adapter


class AdapterNode:
    """The innermost node of a target's stack: forwards to the provider's adapter."""

    __slots__ = ("_lazy",)

    def __init__(self, lazy: LazyAdapter) -> None:
        self._lazy = lazy

    def complete(self, request: Any) -> Response:
        return self._lazy.get().complete(request)

    async def acomplete(self, request: Any) -> Response:
        adapter = self._lazy.created or await self._lazy.aget()
        return await adapter.acomplete(request)

    def stream(self, request: Any) -> Iterator[Chunk]:
        return self._lazy.get().stream(request)

    def astream(self, request: Any) -> AsyncIterator[Chunk]:
        adapter = self._lazy.created
        if adapter is not None:
            return adapter.astream(request)
        return self._astream_when_made(request)

    async def _astream_when_made(self, request: Any) -> AsyncIterator[Chunk]:
        chunks = (await self._lazy.aget()).astream(request)
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    def describe(self) -> str:
        return "adapter"


def estimate_request(request: Request) -> int:
    return estimate_tokens(request.messages) + (request.max_tokens or DEFAULT_EXPECTED_OUTPUT)


def make_state(spec: Spec, environ: Mapping[str, str], wall: Callable[[], float]) -> StateBackend:
    state = spec.state
    url = None
    if state.backend == "redis":
        url = environ.get(state.url_env or "")
        if not url:
            raise ConfigError(
                f"state.backend is redis but the environment variable {state.url_env} is not set"
            )
    return make_backend(
        state.backend,
        url=url,
        key_prefix=state.key_prefix,
        on_unavailable=state.on_unavailable,
        connect_timeout=state.connect_timeout,
        clock=wall,
        cache_max_entries=spec.defaults.cache.max_entries,
    )


def secrets_of(spec: Spec, environ: Mapping[str, str]) -> list[str]:
    """Every value read from the environment that could be a secret: keys, header values,
    the Redis URL's password. Telemetry redacts them wherever they might appear."""
    names = [p.api_key_env for p in spec.providers.values() if p.api_key_env]
    names += [
        v.name for p in spec.providers.values() for v in p.headers.values() if isinstance(v, EnvRef)
    ]
    found = [environ[n] for n in names if environ.get(n)]
    url = environ.get(spec.state.url_env or "")
    return found + url_secrets(url) if url else found


def resolve(value: str | EnvRef, environ: Mapping[str, str]) -> str | None:
    return environ.get(value.name) if isinstance(value, EnvRef) else value


def unavailable_reason(provider: ProviderSpec, environ: Mapping[str, str]) -> str | None:
    if provider.api_key_env and not environ.get(provider.api_key_env):
        return f"{provider.api_key_env} is not set"
    for header, value in provider.headers.items():
        if isinstance(value, EnvRef) and not environ.get(value.name):
            return f"{value.name} (header {header}) is not set"
    return None


#: What an HTTP header value may hold: visible ASCII, spaces and tabs.
