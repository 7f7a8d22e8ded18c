"""The gateway as one raw ASGI application over a Router.

Raw ASGI rather than a framework: the gateway has a handful of routes, its request bodies are read
once and its streams written chunk by chunk, so a router object, middleware stacks and
request/response classes would add per-request work and nothing it uses (bench/
bench_gateway.py measures the difference; README "Gateway").

Endpoints (every one but the probes needs a key; see :mod:`router.gateway.auth`):

    POST /v1/chat/completions   OpenAI Chat Completions (also /chat/completions)
    POST /v1/messages           Anthropic Messages
    POST /v1/embeddings         OpenAI Embeddings (also /embeddings; router.gateway.embeddings)
    GET  /v1/models             the spec's tasks (Anthropic's list shape when the request
                                has an anthropic-version header); GET /v1/models/{task}
    GET  /healthz               200 while the process serves
    GET  /readyz                200 when ready (with the served spec's generation, and
                                "stale" after a failed reload), 503 while draining
    GET  /metrics               Prometheus text (router.gateway.metrics; operator key)
    GET|POST /admin/reload      the served spec, reload now (router.gateway.reload)

The app holds its Router in one attribute, :attr:`GatewayApp.router`: each request reads it
once, so a reload that swaps in a new Router (:meth:`GatewayApp.swap`) lets requests in
flight finish on the graph they started on; :meth:`in_flight_on` says when none is left.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
import time
from typing import IO, Any

from router.gateway import DEFAULT_MAX_BODY
from router.gateway.accesslog import AccessLog
from router.gateway.auth import Authenticator, Principal, Refused, credential
from router.gateway.completions import ANTHROPIC, OPENAI, Dialect, complete
from router.gateway.embeddings import embed
from router.gateway.errors import Failure
from router.gateway.exchange import Api, BodyTooLarge, ClientGone, Exchange, Receive, Scope, Send
from router.gateway.metrics import GatewayMetrics, serve_metrics
from router.gateway.opkeys import OperatorKeys
from router.gateway.reload import Reloader, admin_reload

__all__ = ["DEFAULT_MAX_BODY", "GatewayApp"]


_COMPLETIONS: dict[str, Dialect] = {
    "/v1/chat/completions": OPENAI,
    "/chat/completions": OPENAI,
    "/v1/messages": ANTHROPIC,
}
_MODELS = ("/v1/models", "/models")
_EMBEDDINGS = ("/v1/embeddings", "/embeddings")


class GatewayApp:
    """``await app(scope, receive, send)``. ``router`` is a Router; ``auth`` decides who
    may call; ``access_log`` (a text stream) gets one JSON line per request, or None."""

    def __init__(
        self,
        router: Any,
        auth: Authenticator,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        access_log: IO[str] | None = sys.stderr,
        drain_on_signal: bool = False,
    ) -> None:
        self.router = router
        self.auth = auth
        self.max_body = max_body
        self.draining = False
        self.in_flight = 0
        self.client_disconnects = 0
        self.started = time.time()
        self._log = AccessLog(access_log) if access_log is not None else None
        self._drain_on_signal = drain_on_signal
        self._on: dict[int, int] = {}  # id(router) -> its requests in flight
        self.operators = OperatorKeys(None, None, open_=not auth.requires_key)
        self.reloader: Reloader | None = None  # set by build_app: SIGHUP, file watch, admin
        self.metrics: GatewayMetrics | None = None  # None: prometheus-client is missing
        #: The team keys' admin API (router.gateway.admin), or None: ``/admin/keys...``.
        self.admin: Any = None

    def swap(self, router: Any) -> Any:
        """Serve new requests on ``router``; returns the one it replaces (requests in flight
        on it finish there; close it once they have)."""
        old, self.router = self.router, router
        return old

    def in_flight_on(self, router: Any) -> int:
        """Requests still being served on ``router``."""
        return self._on.get(id(router), 0)

    def record_event(self, entry: dict[str, Any]) -> None:
        """One JSON line in the log beside the access lines (``at``: its time); on stderr when
        the access log is off."""
        if self._log is not None:
            self._log.record(entry)
        else:
            AccessLog.write_now(sys.stderr, entry)

    # --- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self._drain_on_signal:
                    self._mark_draining_on_exit_signals()
                if self.reloader is not None:
                    self.reloader.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _mark_draining_on_exit_signals(self) -> None:
        """SIGTERM and SIGINT turn ``/readyz`` to 503, then do what the server made them do
        (stop accepting, drain). Installed over the server's handlers, in the main thread."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)

            def handler(number: int, frame: Any, previous: Any = previous) -> None:
                self.draining = True
                if callable(previous):
                    previous(number, frame)

            signal.signal(sig, handler)

    async def aclose(self) -> None:
        """Closes the router's clients and the access log (at shutdown, after the drain)."""
        try:
            await self.router.aclose()
            if self.reloader is not None:
                await self.reloader.aclose()
        finally:
            closing = getattr(self.auth, "aclose", None)  # team keys: their store
            if closing is not None:
                await closing()
            if self._log is not None:
                self._log.close()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        api: Api = "messages" if path.startswith("/v1/messages") else "chat"
        ex = Exchange(scope, receive, send, api)
        if path in ("/healthz", "/readyz"):
            await self._probe(ex, path)
            return
        router = self.router  # this request's graph, whatever a reload swaps in meanwhile
        key = id(router)
        self._on[key] = self._on.get(key, 0) + 1
        self.in_flight += 1
        try:
            if path.startswith("/admin/keys") and self.admin is not None:
                await self.admin.handle(ex)
            else:
                await self._serve(ex, path, router)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if ex.disconnected and task is not None and task.uncancel() == 0:
                # The client hung up: its call or stream was cancelled, upstream closed.
                ex.outcome = "client_disconnected"
                self.client_disconnects += 1
            else:
                ex.outcome = "cancelled"  # the server's shutdown ran out of drain time
                raise
        except Exception as exc:  # nothing raw reaches the client; the log names the type
            ex.outcome, ex.error = "error", f"internal: {type(exc).__name__}"
            if ex.status == 0:
                await ex.fail(
                    Failure(500, "internal error in the gateway", "server_error", "internal_error")
                )
        finally:
            ex.unwatch()
            self.in_flight -= 1
            left = self._on[key] - 1
            if left:
                self._on[key] = left
            else:
                del self._on[key]
            if self.metrics is not None:
                self.metrics.observe(ex, time.time() - ex.started)
            if self._log is not None:
                self._log.record(ex.entry())

    async def _serve(self, ex: Exchange, path: str, router: Any) -> None:
        if path == "/metrics":
            await serve_metrics(self, ex)
            return
        if path == "/admin/reload":
            await admin_reload(self, ex)
            return
        try:
            principal: Principal = await self.auth.authenticate(credential(ex.scope["headers"]))
        except Refused as refused:
            ex.outcome = "refused"
            await ex.fail(
                refused.failure(),
                [(b"www-authenticate", b"Bearer")] if refused.status == 401 else None,
            )
            return
        ex.caller = principal.name
        method = ex.scope["method"]
        dialect = _COMPLETIONS.get(path)
        if dialect is not None or path in _EMBEDDINGS:
            if method != "POST":
                await self._not_allowed(ex, "POST")
                return
            try:
                raw = await ex.body(self.max_body)
            except BodyTooLarge:
                await ex.fail(
                    Failure(
                        413,
                        f"the request body is larger than the gateway's limit of {self.max_body} "
                        "bytes (router serve --max-body-bytes)",
                        code="request_too_large",
                    ),
                    [(b"connection", b"close")],
                )
                return
            except ClientGone:
                ex.outcome = "client_disconnected"
                self.client_disconnects += 1
                return
            if dialect is None:
                await embed(ex, raw, router, principal)
            else:
                await complete(ex, dialect, raw, router, principal)
        elif path in _MODELS or path.startswith(("/v1/models/", "/models/")):
            if method != "GET":
                await self._not_allowed(ex, "GET")
                return
            await self._models(ex, path, principal, router)
        else:
            await ex.fail(Failure(404, f"no such endpoint: {method} {path}", code="unknown_url"))

    async def _not_allowed(self, ex: Exchange, allow: str) -> None:
        message = f"{ex.scope['method']} is not allowed on {ex.scope['path']}; use {allow}"
        await ex.fail(
            Failure(405, message, code="method_not_allowed"), [(b"allow", allow.encode())]
        )

    # --- probes and the model list -----------------------------------------------------------

    async def _probe(self, ex: Exchange, path: str) -> None:
        if path == "/healthz":
            await ex.reply(200, b'{"status":"ok"}')
            return
        if self.draining:
            await ex.reply(
                503, json.dumps({"status": "draining", "in_flight": self.in_flight}).encode()
            )
            return
        body = {
            "status": "ready",
            "tasks": len(self.router.spec.tasks),
            "auth": "keys" if self.auth.requires_key else "off",
            "in_flight": self.in_flight,
            "client_disconnects": self.client_disconnects,
        }
        if self.reloader is not None:
            body["config"] = self.reloader.status()
        await ex.reply(200, json.dumps(body).encode())

    async def _models(self, ex: Exchange, path: str, principal: Principal, router: Any) -> None:
        tasks = router.spec.tasks
        names = [n for n in tasks if principal.tasks is None or n in principal.tasks]
        if router.spec.classifier is not None and principal.tasks is None and "auto" not in tasks:
            names.append("auto")  # the classifier chooses the task
        one = path.rsplit("/models/", 1)[1] if "/models/" in path else None
        anthropic = ex.header(b"anthropic-version") is not None
        if one is not None:
            if one not in names:
                await ex.fail(
                    Failure(
                        404,
                        f"the model {one!r} does not exist (the models are the spec's tasks)",
                        code="model_not_found",
                    )
                )
                return
            names = [one]
        created = int(self.started)
        if anthropic:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(created))
            items: list[dict[str, Any]] = [
                {
                    "type": "model",
                    "id": n,
                    "display_name": tasks[n].description or n,
                    "created_at": stamp,
                }
                for n in names
            ]
            body: dict[str, Any] = (
                items[0]
                if one is not None
                else {
                    "data": items,
                    "has_more": False,
                    "first_id": names[0] if names else None,
                    "last_id": names[-1] if names else None,
                }
            )
        else:
            items = [
                {"id": n, "object": "model", "created": created, "owned_by": "router"}
                for n in names
            ]
            body = items[0] if one is not None else {"object": "list", "data": items}
        await ex.reply(200, json.dumps(body).encode())
