"""An adapter's SDK clients over their lifetime: one sync client, one async client per event
loop, each with its prepared route (:mod:`router.providers._route`).

Nothing slow happens on the event loop. :meth:`Clients.prepare` (run when the Router is built)
imports what a first call would, builds the sync client and an async client for the first event
loop that calls, and reads the platform facts the SDK sends (OS, architecture: possibly
blocking I/O). Building an async client outside any loop is safe: httpx2/httpcore2 make their
locks and pick the async backend on first use, and open connections only inside the loop that
sends. Async clients are per event loop (:class:`~router.aio.eventloops.LoopLocal`): their
pooled connections belong to the loop that opened them. A loop after the first gets its client
built in a thread (``asyncio.to_thread``), so other requests on that loop go on meanwhile, and
each loop's client is closed before that loop closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
import threading
from collections.abc import Callable
from typing import Any

from router.aio.eventloops import LoopLocal
from router.providers._route import Route, Routes

#: What a first call would otherwise import on the event loop: anyio's asyncio backend (httpx2's
#: async transport loads it on its first connection), the IDNA codec (host names) and the
#: thread pool behind ``asyncio.to_thread``. :meth:`Clients.prepare` imports them.
FIRST_CALL_IMPORTS = ("anyio._backends._asyncio", "encodings.idna", "concurrent.futures.thread")

#: A client with its route (None: the client goes through the SDK's own request path).
Routed = tuple[Any, Route | None]


async def _aclose_client(pair: Routed) -> None:
    await pair[0].close()


def abandon_client(pair: Routed) -> None:
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


class Clients:
    """The clients of one adapter, made by ``make_client(use_async=...)`` on first need (or
    ahead, by :meth:`prepare`) and made again after :meth:`close` if used."""

    def __init__(
        self,
        make_client: Callable[..., Any],
        routes: Routes,
        *,
        get_platform: Callable[[], Any] | None,
    ) -> None:
        self._make_client = make_client
        self._routes = routes
        self._get_platform = get_platform
        self._client: Any = None
        self._lock = threading.Lock()
        self._route: Routed | None = None
        # Async clients with their routes: one per event loop, and one made ahead by prepare()
        # for the first loop that calls.
        self._aclients: LoopLocal[Routed] = LoopLocal(_aclose_client, abandon=abandon_client)
        self._spare: Routed | None = None

    def prepare(self) -> None:
        """Does now what a first call would: the imports, the sync client and its route, an
        async client for the first event loop, the platform facts. Raises what making a client
        raises (no key configured: AuthenticationError)."""
        for name in FIRST_CALL_IMPORTS:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        self.sync()
        if self._spare is None:
            spare = self._new_async()
            with self._lock:
                extra = spare if self._spare is not None else None
                if extra is None:
                    self._spare = spare
            if extra is not None:  # made by another thread meanwhile: one is enough
                abandon_client(extra)

    def client(self) -> Any:
        """The sync client."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client(use_async=False)
        return self._client

    def sync(self) -> Routed:
        """The sync client and its route."""
        client = self.client()
        cached = self._route
        if cached is None or cached[0] is not client:
            self._route = cached = (client, self._routes.make(client))
        return cached

    def _new_async(self) -> Routed:
        """A new async client and its route (blocking work: not on the event loop)."""
        client = self._make_client(use_async=True)
        if getattr(client, "_platform", False) is None and self._get_platform is not None:
            # What the SDK does before its first call, in a thread: it may block.
            client._platform = self._get_platform()
        return client, self._routes.make(client)

    async def _claim_async(self) -> Routed:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            return spare
        return await asyncio.to_thread(self._new_async)

    async def aget(self) -> Routed:
        """The running loop's client and route: the one prepare() made for the first loop,
        else one built in a thread (the loop goes on with other work meanwhile)."""
        current = self._aclients.current()
        if current is not None:
            return current
        return await self._aclients.aget(self._claim_async)

    def close(self) -> None:
        """Closes the sync client; each event loop's async client is closed on its own loop
        (when that loop next runs), or released if its loop is already closed."""
        with self._lock:
            client, self._client, self._route = self._client, None, None
            spare, self._spare = self._spare, None
        if client is not None:
            client.close()
        if spare is not None:
            abandon_client(spare)
        self._aclients.close()

    async def aclose(self) -> None:
        """Closes the running loop's async client now, then as :meth:`close`."""
        await self._aclients.aclose()
        self.close()
