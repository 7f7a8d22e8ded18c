"""The public face: an in-process Sandbox on a background thread, and a foreground serve()."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import urllib.parse
from collections.abc import Callable
from types import TracebackType
from typing import Any

from .server import SandboxServer
from .state import RecordedRequest, SandboxState

_START_TIMEOUT_S = 10.0


class Sandbox:
    """A local OpenAI + Anthropic compatible server; see router/sandbox/__init__.py."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        *,
        seed: int = 0,
        keyless: bool = False,
    ) -> None:
        """``api_key``: the only key accepted (None: any); ``keyless``: requests without a key
        are answered too, as a local server without auth answers them."""
        self.host = host
        self._requested_port = port
        self._state = SandboxState(seed=seed, api_key=api_key, keyless=keyless)
        self._server = SandboxServer(self._state)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._port = loop.run_until_complete(
                    self._server.start(self.host, self._requested_port)
                )
            except BaseException as exc:  # surfaced to the caller of start()
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._server.close())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=run, name="router-sandbox", daemon=True)
        thread.start()
        if not started.wait(_START_TIMEOUT_S):
            raise RuntimeError("sandbox did not start in time")
        if failure:
            thread.join()
            raise failure[0]
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already stopped
            loop.call_soon_threadsafe(loop.stop)
        thread.join(_START_TIMEOUT_S)
        self._loop = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("sandbox is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return self.url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def fault_url(self, spec: str) -> str:
        """A base URL whose every request gets `spec` (append /v1 for OpenAI clients)."""
        return f"{self.url}/fault/{urllib.parse.quote(spec, safe=',=.;-')}"

    # -- faults and observations -------------------------------------------------------------
    def script(self, spec: str, times: int = 1, model: str | None = None) -> None:
        """The next `times` completion requests (for `model`, if given) get this fault."""
        self._state.faults.script(spec, times, model)

    def set_fault(self, spec: str | None, model: str | None = None) -> None:
        """A persistent fault for `model` (None: every model); spec None clears it."""
        self._state.faults.set(spec, model)

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._state.requests

    @property
    def stats(self) -> dict[str, Any]:
        return self._state.stats()

    def reset(self) -> None:
        """Clear scripts, faults, recorded requests and stats counters."""
        self._state.reset()


def serve(
    host: str,
    port: int,
    api_key: str | None,
    *,
    ready: Callable[[int], None] | None = None,
    seed: int = 0,
) -> None:
    """Run a sandbox in the foreground until SIGINT/SIGTERM; ready(port) once listening."""

    async def main() -> None:
        server = SandboxServer(SandboxState(seed=seed, api_key=api_key))
        bound = await server.start(host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Off the main thread signal handlers cannot be installed; Ctrl-C still works
            # through KeyboardInterrupt there.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        if ready is not None:
            ready(bound)
        try:
            await stop.wait()
        finally:
            await server.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
