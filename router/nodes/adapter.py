"""The innermost node of a target's stack: the provider's adapter, made once.

:class:`LazyAdapter` makes a provider's adapter and has it do its slow one-time work at
start-up (or on first use, never on the event loop); :class:`AdapterNode` is the node over it,
shared by every model of that provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncGenerator, Callable, Iterator

from router.errors import ConfigError
from router.nodes.base import NodeHealth
from router.providers.base import Adapter
from router.types import Chunk, Request, Response

__all__ = ["AdapterNode", "LazyAdapter"]

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

    def complete(self, request: Request) -> Response:
        return self._lazy.get().complete(request)

    async def acomplete(self, request: Request) -> Response:
        adapter = self._lazy.created or await self._lazy.aget()
        return await adapter.acomplete(request)

    def stream(self, request: Request) -> Iterator[Chunk]:
        return self._lazy.get().stream(request)

    def astream(self, request: Request) -> AsyncGenerator[Chunk, None]:
        adapter = self._lazy.created
        if adapter is not None:
            return adapter.astream(request)
        return self._astream_when_made(request)

    async def _astream_when_made(self, request: Request) -> AsyncGenerator[Chunk, None]:
        adapter = await self._lazy.aget()
        async with contextlib.aclosing(adapter.astream(request)) as chunks:
            async for chunk in chunks:
                yield chunk

    def describe(self) -> str:
        return "adapter"

    def health(self) -> NodeHealth:
        return {}
