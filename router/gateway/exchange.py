"""One request through the gateway, as raw ASGI: reading the body within its limit, writing
the answer (JSON, or an SSE stream chunk by chunk), the headers every answer carries, the
watch for a client that hangs up, and what the access log records.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from router.gateway.errors import Failure, anthropic_error, openai_error
from router.types import Embeddings, Response

__all__ = ["Api", "BodyTooLarge", "ClientGone", "Exchange", "decision_headers"]

#: Which API a request called, so its errors come in that API's shape: Chat Completions
#: (OpenAI's) or Messages (Anthropic's).
Api = Literal["chat", "messages"]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

JSON = b"application/json"
SSE = b"text/event-stream; charset=utf-8"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
_SSE_HEADERS = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    """The client hung up before its request body arrived."""


def _value(text: str) -> bytes:
    return text.encode("ascii", "backslashreplace")


def decision_headers(task: str, r: Response | Embeddings) -> list[tuple[bytes, bytes]]:
    """What the router decided, for the caller: never a key, only the spec's names."""
    route = ",".join(
        f"{a.model}:{'ok' if a.outcome == 'ok' else (a.error.kind if a.error else a.outcome)}"
        for a in r.attempts
    )
    out = [
        (b"x-router-task", _value(task)),
        (b"x-router-model", _value(r.model)),
        (b"x-router-provider", _value(r.provider)),
    ]
    if r.deployment is not None:
        out.append((b"x-router-deployment", _value(r.deployment)))
    out += [
        (b"x-router-attempts", b"%d" % len(r.attempts)),
        (b"x-router-route", _value(route)),
    ]
    if r.cost is not None:
        out.append((b"x-router-cost-usd", b"%.8f" % r.cost))
    if r.cached:
        out.append((b"x-router-cached", b"true"))
    return out


class Exchange:
    __slots__ = (
        "_main",
        "_watcher",
        "api",
        "attempts",
        "caller",
        "cost",
        "deployment",
        "disconnected",
        "done",
        "error",
        "model",
        "outcome",
        "receive",
        "request_id",
        "scope",
        "send",
        "started",
        "status",
        "stream",
        "task",
    )

    def __init__(self, scope: Scope, receive: Receive, send: Send, api: Api) -> None:
        self.scope = scope
        self.receive = receive
        self.send = send
        self.api: Api = api
        self.started = time.time()
        given = self.header(b"x-request-id")
        self.request_id = given if given and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        self.status = 0
        self.outcome = "ok"
        self.caller: str | None = None
        self.task: str | None = None
        self.model: str | None = None
        self.deployment: str | None = None
        self.attempts: int | None = None
        self.cost: float | None = None
        self.error: str | None = None
        self.stream = False
        self.disconnected = False
        self.done = False
        self._main: asyncio.Task[Any] | None = None
        self._watcher: asyncio.Task[None] | None = None

    def answered(self, result: Response | Embeddings) -> None:
        """Record what answered (for the access log and the metrics): the model, its
        deployment, how many attempts it took and what it cost."""
        self.model, self.deployment = result.model, result.deployment
        self.attempts, self.cost = len(result.attempts), result.cost

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    # --- the request ---------------------------------------------------------------------

    async def body(self, limit: int) -> bytes:
        length = self.header(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise BodyTooLarge()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge()
            chunks.append(chunk)
            if not message.get("more_body"):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def watch(self) -> None:
        """From now until :meth:`unwatch`, a client that hangs up cancels this task (and so
        the router's call or stream it awaits, which closes the upstream request)."""
        self._main = asyncio.current_task()
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        if not self.done and self._main is not None:
            self.disconnected = True
            self._main.cancel()

    def unwatch(self) -> None:
        self.done = True
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None

    # --- the answer ----------------------------------------------------------------------

    def _headers(self, content_type: bytes) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", content_type), (b"x-request-id", _value(self.request_id))]

    async def reply(
        self,
        status: int,
        body: bytes,
        headers: list[tuple[bytes, bytes]] | None = None,
        *,
        content_type: bytes = JSON,
    ) -> None:
        self.unwatch()
        out = self._headers(content_type)
        out.append((b"content-length", b"%d" % len(body)))
        if headers:
            out += headers
        self.status = status
        await self.send({"type": "http.response.start", "status": status, "headers": out})
        await self.send({"type": "http.response.body", "body": body})

    async def fail(self, f: Failure, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        """Answers with ``f`` in the called API's error shape."""
        if self.outcome == "ok":
            self.outcome = "error"
        self.error = self.error or f.code or f.type
        await self.reply(f.status, self.error_body(f), [*f.headers(), *(headers or [])])

    def error_body(self, f: Failure) -> bytes:
        return anthropic_error(f, self.request_id) if self.api == "messages" else openai_error(f)

    async def start_stream(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = 200
        self.stream = True
        out = self._headers(SSE) + _SSE_HEADERS + headers
        await self.send({"type": "http.response.start", "status": 200, "headers": out})

    async def write(self, data: bytes) -> None:
        if data:
            await self.send({"type": "http.response.body", "body": data, "more_body": True})

    async def finish(self, data: bytes) -> None:
        self.unwatch()
        await self.send({"type": "http.response.body", "body": data})

    def entry(self) -> dict[str, Any]:
        now = time.time()
        entry: dict[str, Any] = {
            "at": self.started,
            "request_id": self.request_id,
            "method": self.scope["method"],
            "path": self.scope["path"],
            "status": self.status,
            "outcome": self.outcome,
            "ms": round((now - self.started) * 1000, 2),
        }
        for name in ("caller", "task", "model", "deployment", "attempts", "cost", "error"):
            value = getattr(self, name)
            if value is not None:
                entry["cost_usd" if name == "cost" else name] = value
        if self.stream:
            entry["stream"] = True
        return entry
