"""Hot reload: a new spec served without a restart, on SIGHUP, on a changed config file, or
on ``POST /admin/reload``.

The new spec is read, validated and compiled beside the old one in a worker thread (never on
the event loop): every provider's SDK and clients are made before it serves. Then:

- valid: :meth:`GatewayApp.swap` serves new requests on it; requests in flight finish on
  the Router they started on, which is closed once none is left on it. The new Router takes
  over the old one's state backend when the ``state`` section is unchanged (limits, holds,
  spend caps, the cache) and the breakers of unchanged models (``Router(carry_from=...)``);
- invalid (or unreadable): nothing changes, the old graph keeps serving. ``/readyz`` stays
  200 but says ``"stale": true`` with the diagnostics, and so do the log (one JSON line,
  ``"event": "reload"``) and ``GET``/``POST /admin/reload``. Not 503: a bad file rolled out
  to every replica must not take them all out of the load balancer while they serve well.

One reload runs at a time. The file watch is a thread polling the file's mtime and size
every ``interval`` seconds and reloading when its SHA-256 differs from the last one read
(so touching a file, or a bad version seen once, is not reloaded again and again).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from router.errors import ConfigError, RouterError
from router.gateway.errors import Failure
from router.gateway.exchange import Exchange

if TYPE_CHECKING:
    from router.engine.router import Router
    from router.gateway.app import GatewayApp
    from router.sandbox import Sandbox

__all__ = ["Reloader", "SpecSource", "admin_reload"]


def _utc(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


class SpecSource:
    """Where the gateway's Routers come from: the config file, the environment, the hooks
    registered for them, and with ``--sandbox`` one sandbox for the process that every
    Router (old and new) runs on."""

    def __init__(
        self,
        path: str,
        environ: Mapping[str, str],
        *,
        sandbox: bool = False,
        hooks: Mapping[str, object] | None = None,
    ) -> None:
        self.path = path
        self.environ = environ
        self.hooks = hooks  # what every Router built from the file runs (router serve --hooks)
        self.sandbox: Sandbox | None = None
        if sandbox:
            from router.sandbox import Sandbox

            self.sandbox = Sandbox().start()

    def digest(self) -> str:
        """The SHA-256 of the file as it is now (blocking). Raises ConfigError."""
        try:
            with open(self.path, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read the spec: {exc.strerror or exc}") from None

    def build(self, carry_from: Router | None = None) -> Router:
        """A Router for the file as it is now (blocking: a thread's work). Raises
        ConfigError."""
        from router.engine.router import Router
        from router.spec import load_spec

        spec = load_spec(self.path, environ=self.environ)
        options: dict[str, Any] = {"carry_from": carry_from, "hooks": self.hooks}
        if self.sandbox is not None:
            options["sandbox"] = self.sandbox
        return Router(spec, environ=self.environ, **options)

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()


class Reloader:
    """Replaces ``app``'s Router with one built from ``source``; see the module's doc."""

    def __init__(
        self, app: GatewayApp, source: SpecSource, digest: str, *, interval: float = 1.0
    ) -> None:
        self.app = app
        self.source = source
        self.interval = interval
        self.generation = 1
        self.loaded_at = time.time()
        self.digest = digest  # of the file the serving Router was built from
        self._seen = digest  # the last content read (a bad one is not retried until it changes)
        self.failure: dict[str, Any] | None = None  # the last reload's, while it is the last
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._retiring: list[tuple[Router, int]] = []  # replaced (and its generation)

    # --- what is served ----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "generation": self.generation,
            "loaded_at": _utc(self.loaded_at),
            "sha256": self.digest,
            "stale": self.failure is not None,
        }
        if self.failure is not None:
            out["last_reload"] = self.failure
        return out

    # --- reloading ---------------------------------------------------------------------------

    async def reload(self, source: str) -> dict[str, Any]:
        """Build, check and swap in the file's spec now (``source`` says why: ``sighup``,
        ``file``, ``admin``). Returns what happened; never raises for a bad spec."""
        async with self._lock:
            old = self.app.router
            started = time.time()
            try:
                new, digest = await asyncio.to_thread(self._build, old)
            except ConfigError as exc:
                self.failure = {
                    "outcome": "invalid",
                    "source": source,
                    "at": _utc(started),
                    "error": str(exc).splitlines()[0],
                    "diagnostics": [d.as_dict() for d in exc.diagnostics],
                }
                return self._done(self.failure)
            except Exception as exc:  # e.g. a missing extra; the type only for the unexpected
                known = isinstance(exc, RouterError | OSError | ImportError)
                self.failure = {
                    "outcome": "failed",
                    "source": source,
                    "at": _utc(started),
                    "error": f"{type(exc).__name__}: {exc}" if known else type(exc).__name__,
                    "diagnostics": [],
                }
                return self._done(self.failure)
            self.app.swap(new)
            retired = (old, self.generation)
            self._retiring.append(retired)
            self.generation += 1
            self.loaded_at, self.digest, self.failure = time.time(), digest, None
            task = asyncio.get_running_loop().create_task(self._retire(retired))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return self._done(
                {
                    "outcome": "reloaded",
                    "source": source,
                    "at": _utc(started),
                    "generation": self.generation,
                    "sha256": digest,
                    "tasks": sorted(new.spec.tasks),
                }
            )

    def _build(self, old: Router) -> tuple[Router, str]:
        self._seen = digest = self.source.digest()
        new = self.source.build(carry_from=old)
        metrics = self.app.metrics
        if metrics is not None:
            metrics.adopt(new)
        return new, digest

    def _done(self, result: dict[str, Any]) -> dict[str, Any]:
        self.app.record_event({**result, "at": time.time(), "event": "reload"})
        if self.app.metrics is not None:
            self.app.metrics.reloaded(result["outcome"], result["source"], self)
        return result

    async def _retire(self, retired: tuple[Router, int]) -> None:
        """Closes a replaced Router once no request is left on it; logs ``"event":
        "retire"``."""
        old, generation = retired
        while self.app.in_flight_on(old):
            await asyncio.sleep(0.05)
        self._retiring.remove(retired)
        # In a thread: closing may flush a ledger file. Its async clients are closed on this
        # loop when it next runs.
        await asyncio.to_thread(old.close)
        self.app.record_event({"at": time.time(), "event": "retire", "generation": generation})

    # --- triggers ----------------------------------------------------------------------------

    def start(self) -> None:
        """On the event loop at startup: SIGHUP (main thread only), and the file watch."""
        self._loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                self._loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
        if self.interval > 0:
            self._watcher = threading.Thread(
                target=self._watch, name="router-config-watch", daemon=True
            )
            self._watcher.start()

    def _on_sighup(self) -> None:
        task = asyncio.get_running_loop().create_task(self.reload("sighup"))
        self._tasks.add(task)  # kept referenced until done
        task.add_done_callback(self._tasks.discard)

    def _watch(self) -> None:
        def signature() -> tuple[int, int, int] | None:
            try:
                st = os.stat(self.source.path)
            except OSError:
                return None  # being replaced: look again next time
            return (st.st_mtime_ns, st.st_size, st.st_ino)

        last = None  # the first look reads the file: a change made before it is not missed
        while not self._stop.wait(self.interval):
            now = signature()
            if now is None or now == last:
                continue
            last = now
            try:
                with open(self.source.path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            except OSError:
                continue
            if digest == self._seen or self._loop is None:
                continue
            done: Future[dict[str, Any]] = asyncio.run_coroutine_threadsafe(
                self.reload("file"), self._loop
            )
            with contextlib.suppress(Exception):
                done.result(600.0)  # one at a time; the outcome is logged by reload()

    async def aclose(self) -> None:
        """At shutdown: stops the watch, closes the Routers being retired, the sandbox."""
        self._stop.set()
        if self._watcher is not None:
            await asyncio.to_thread(self._watcher.join, 5.0)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for old, _ in self._retiring:  # what the drain left on them has been cancelled
            with contextlib.suppress(Exception):
                await old.aclose()
        self._retiring.clear()
        await asyncio.to_thread(self.source.close)


async def admin_reload(app: GatewayApp, ex: Exchange) -> None:
    """``POST /admin/reload``: reload now, answer what happened (200 reloaded, 422 invalid:
    the old spec keeps serving); ``GET``: what is served and the last failure."""
    refused = app.operators.refusal(ex, "admin")
    if refused is not None:
        await ex.fail(refused)
        return
    reloader = app.reloader
    if reloader is None:
        await ex.fail(Failure(404, "this gateway has no reloadable spec", code="unknown_url"))
        return
    method = ex.scope["method"]
    if method == "GET":
        await ex.reply(200, json.dumps(reloader.status()).encode())
        return
    if method != "POST":
        message = f"{method} is not allowed on /admin/reload; use GET or POST"
        allow = [(b"allow", b"GET, POST")]
        await ex.fail(Failure(405, message, code="method_not_allowed"), allow)
        return
    result = await reloader.reload("admin")
    status = 200 if result["outcome"] == "reloaded" else 422
    await ex.reply(status, json.dumps({**result, "serving": reloader.status()}).encode())
