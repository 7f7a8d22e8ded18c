"""uvicorn's Server as the gateway runs it (imported only when uvicorn is installed: see
:func:`router.gateway.server.serve`). A module of its own, at top level, so that ``--workers``
can hand ``GatewayServer.run`` to the processes it spawns."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

__all__ = ["GatewayServer"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class GatewayServer(uvicorn.Server):
    """uvicorn's Server, which says where it listens once it does (``on_ready``), and exits
    with status 0 after a drain instead of re-raising the signal that started it."""

    on_ready: Callable[[str, int], None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.on_ready is not None and self.servers:
            bound = self.servers[0].sockets[0].getsockname()
            self.on_ready(bound[0], bound[1])
