"""The asyncio HTTP/1.1 server: connections, routing, and what each completion answers
(faults chosen here; :mod:`router.sandbox.delivery` writes the answer as they shape it)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import time
from collections.abc import Mapping
from typing import Any

from . import control
from .answer import CONTEXT_WINDOW, Api, Prompt, compose
from .delivery import (
    fault_error,
    hang,
    html_page,
    rst,
    send,
    send_stream,
    trickle_body,
    trickle_head,
)
from .embeddings import EmbedCall, embed_route, parse_embed, render_embed
from .faults import (
    FAULT_HEADERS,
    FaultSpec,
    fault_headers,
    parse_fault,
    split_fault_prefix,
)
from .http11 import (
    Headers,
    HttpError,
    HttpRequest,
    dumps,
    json_response,
    read_body,
    read_head,
    response,
)
from .state import RecordedRequest, SandboxState, redact
from .wire import Wire, WireError, presented_key
from .wire_anthropic import AnthropicWire
from .wire_cloud import AZURE, cloud_route
from .wire_openai import OpenAIWire

_COMPLETION_PATHS: dict[str, Api] = {
    "/v1/chat/completions": "openai",
    "/chat/completions": "openai",
    "/v1/messages": "anthropic",
    "/messages": "anthropic",
}
_STARTED = int(time.time())


class SandboxServer:
    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.wires: dict[Api, Wire] = {"openai": OpenAIWire(), "anthropic": AnthropicWire()}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._connection, host, port, backlog=1024)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Python 3.11's Server.close() leaves accepted connections open; end them here so
        # no handler outlives the loop (idle keep-alives and sleeping delay= faults).
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.state.bump("connections")
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Each SSE event must leave as its own segment, not wait for Nagle.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                req = await read_head(reader)
                if req is None:
                    break
                if req.expects_continue:
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                req.body = await read_body(reader, req)
                req.reader = reader
                self.state.bump("requests")
                if not await self._dispatch(req, writer) or not req.keep_alive:
                    break
        except HttpError as exc:
            body = {"error": {"message": exc.message, "type": "invalid_request_error"}}
            with contextlib.suppress(ConnectionError):
                writer.write(json_response(exc.status, body, close=True))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only close() cancels; finishing quietly keeps asyncio's stream callback from
            # reporting the cancellation as an unhandled error.
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            if not writer.transport.is_closing():
                writer.close()

    async def _dispatch(self, req: HttpRequest, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must not be reused."""
        path, fault_text = split_fault_prefix(req.path)
        keep = req.keep_alive
        close = not keep
        api = _COMPLETION_PATHS.get(path)
        wire = self.wires["anthropic" if "anthropic-version" in req.headers else "openai"]
        if path.startswith("/openai/"):
            wire = AZURE
        if api is not None and req.method == "POST":
            return await self._completion(req, writer, self.wires[api], path, fault_text)
        embedding = embed_route(path)
        if embedding is not None and req.method == "POST":
            on = AZURE if embedding[1] is not None else self.wires["openai"]
            return await self._completion(
                req, writer, on, path, fault_text, model=embedding[1], embed=True
            )
        cloud = cloud_route(path)
        if cloud is not None and req.method == "POST":
            return await self._completion(
                req, writer, cloud.wire, path, fault_text, model=cloud.model, stream=cloud.stream
            )
        if req.method == "GET" and path in ("/v1/models", "/models", "/openai/models"):
            return await self._models(req, writer, wire, None, fault_text)
        if req.method == "GET" and path.startswith(("/v1/models/", "/models/")):
            return await self._models(req, writer, wire, path.rsplit("/", 1)[1], fault_text)
        if req.method == "GET" and path == "/health":
            return await send(writer, response(200, b"ok", "text/plain", close=close), keep)
        if req.method == "GET" and path == "/stats":
            stats = self.state.stats()
            return await send(writer, json_response(200, stats, close=close), keep)
        if path.startswith(control.PREFIX):
            status, body = control.handle(self.state, req.method, path, req.body)
            return await send(writer, json_response(status, body, close=close), keep)
        if api is not None or path in ("/v1/models", "/models", "/health", "/stats"):
            err = wire.invalid(f"Method {req.method} not allowed for {path}")
            err.status = 405
        else:
            err = wire.invalid(f"Invalid URL ({req.method} {path})")
            err.status = 404
        return await send(writer, json_response(err.status, err.body, close=close), keep)

    def _check_auth(self, wire: Wire, headers: Mapping[str, str]) -> None:
        if self.state.keyless and presented_key(headers) is None:
            return
        wire.check_auth(headers, self.state.api_key)

    async def _models(
        self,
        req: HttpRequest,
        writer: asyncio.StreamWriter,
        wire: Wire,
        model: str | None,
        fault_text: str | None = None,
    ) -> bool:
        """The model list (or one model). A fault with an HTTP status (path prefix or
        header) answers with that error instead, as a provider whose list fails would."""
        keep = req.keep_alive
        ids = self.state.model_ids()
        header_fault = next((req.headers[h] for h in FAULT_HEADERS if h in req.headers), None)
        texts = [t for t in (fault_text, header_fault) if t]
        try:
            try:
                fault = parse_fault(",".join(texts)) if texts else None
            except ValueError as bad_spec:
                raise wire.invalid(f"invalid sandbox fault spec: {bad_spec}") from None
            self._check_auth(wire, req.headers)
            if fault is not None and fault.status is not None and fault.status >= 400:
                raise wire.status_error(fault.status, model or "models")
            if model is not None and model not in ids:
                raise wire.status_error(404, model)
        except WireError as err:
            return await send(writer, json_response(err.status, err.body, close=not keep), keep)
        body = wire.models_body(ids if model is None else [model], _STARTED)
        if model is not None:
            body = body["data"][0]
        return await send(writer, json_response(200, body, close=not keep), keep)

    async def _completion(
        self,
        req: HttpRequest,
        writer: asyncio.StreamWriter,
        wire: Wire,
        path: str,
        fault_text: str | None,
        *,
        model: str | None = None,
        stream: bool | None = None,
        embed: bool = False,
    ) -> bool:
        """A completion (or with ``embed``, embeddings); ``model``/``stream``: what the path
        says (the clouds' endpoints carry them in the URL, not the body)."""
        state = self.state
        state.bump("embeddings" if embed else "completions")
        key = state.next_key()
        rid = "req_" + hashlib.sha256(key.encode()).hexdigest()[:24]
        close = not req.keep_alive
        try:
            body: Any = json.loads(req.body)
        except ValueError:
            body = None
        if isinstance(body, dict) and model is not None:
            body = {**body, "model": model}
            if stream:
                body["stream"] = True
        header_fault = next((req.headers[h] for h in FAULT_HEADERS if h in req.headers), None)
        texts = [t for t in (fault_text, header_fault) if t]
        named = body.get("model") if isinstance(body, dict) else None
        rec = state.record(
            RecordedRequest(
                api=wire.api,
                path=path,
                headers=redact(req.headers),
                body=body,
                model=named if isinstance(named, str) else None,
                stream=isinstance(body, dict) and body.get("stream") is True,
                raw_path=req.target,
                fault=",".join(texts) or None,
            )
        )
        explicit: FaultSpec | None = None
        try:
            try:
                explicit = parse_fault(",".join(texts)) if texts else None
            except ValueError as bad_spec:
                raise wire.invalid(f"invalid sandbox fault spec: {bad_spec}") from None
            self._check_auth(wire, req.headers)
            if body is None:
                raise wire.invalid("We could not parse the JSON body of your request.")
            if embed:
                prompt, vectors = parse_embed(wire, body)
            else:
                prompt, vectors = wire.parse(body), None
            if prompt.prompt_tokens > CONTEXT_WINDOW[wire.api]:
                raise wire.context_error(prompt)
        except WireError as exc:
            state.bump("errors")
            return await self._error(writer, wire, exc, rid, close, rec, None)
        spec = state.faults.choose(explicit, prompt.model)
        rec.fault = spec.text if spec is not None else None
        if spec is not None:
            state.bump("faults")
            if spec.delay_ms:
                await asyncio.sleep(spec.delay_s)
        credential = presented_key(req.headers)
        return await self._answer(
            writer, wire, prompt, spec, key, rid, close, rec, credential, req.reader, vectors
        )

    async def _error(
        self,
        writer: asyncio.StreamWriter,
        wire: Wire,
        err: WireError,
        rid: str,
        close: bool,
        rec: RecordedRequest,
        spec: FaultSpec | None,
    ) -> bool:
        rec.status = err.status
        body = err.body
        if wire.api == "anthropic" and "type" in err.body:  # not the clouds' own shapes
            body = {**err.body, "request_id": rid}
        headers = [*wire.id_headers(rid), *err.headers, *fault_headers(spec)]
        return await send(writer, json_response(err.status, body, headers, close=close), not close)

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        wire: Wire,
        prompt: Prompt,
        spec: FaultSpec | None,
        key: str,
        rid: str,
        close: bool,
        rec: RecordedRequest,
        credential: str | None = None,
        reader: asyncio.StreamReader | None = None,
        vectors: EmbedCall | None = None,
    ) -> bool:
        headers = [*wire.id_headers(rid), *fault_headers(spec)]
        if spec is not None:
            if spec.keepalive_ms is not None and not prompt.stream:
                return await trickle_head(self.state, writer, reader, spec.keepalive_ms / 1000)
            if spec.stall is not None and not prompt.stream:
                return await hang(self.state, reader)
            if spec.reset:
                self.state.bump("resets")
                rst(writer)
                return False
            if spec.redirect is not None:
                rec.status = spec.status if spec.status and 300 <= spec.status < 400 else 307
                location = [*headers, ("location", spec.redirect)]
                moved = response(rec.status, b"", "text/plain", location, close=close)
                return await send(writer, moved, not close)
            if spec.html:
                rec.status = spec.status or 200
                page = response(
                    rec.status,
                    html_page(rec.status),
                    "text/html; charset=utf-8",
                    headers,
                    close=close,
                )
                return await send(writer, page, not close)
            error = fault_error(wire, prompt, spec, credential)
            if error is not None:
                return await self._error(writer, wire, error, rid, close, rec, spec)
        rec.status = 200
        if vectors is not None:
            body = dumps(render_embed(prompt, vectors))
            return await self._body(writer, body, spec, headers, close, reader)
        refuse = spec is not None and spec.filter is not None
        self.state.prompt_cache.settle(prompt)
        completion = compose(prompt, key, refuse=refuse)
        if prompt.stream:
            self.state.bump("streams")
            return await send_stream(
                self.state,
                writer,
                wire,
                wire.stream(completion, prompt),
                spec,
                headers,
                close,
                reader,
            )
        body = dumps(wire.render(completion, prompt))
        return await self._body(writer, body, spec, headers, close, reader)

    async def _body(
        self,
        writer: asyncio.StreamWriter,
        body: bytes,
        spec: FaultSpec | None,
        headers: Headers,
        close: bool,
        reader: asyncio.StreamReader | None,
    ) -> bool:
        """A JSON answer, as a fault shapes it (cut in half, trickled, broken off)."""
        if spec is not None and spec.badjson:
            body = body[: len(body) // 2]
        if spec is not None and spec.trickle_ms is not None:
            full = response(200, body, "application/json", headers, close=close)
            return await trickle_body(self.state, writer, reader, full, len(body), spec.trickle_ms)
        if spec is not None and spec.cut is not None:
            self.state.bump("cuts")
            full = response(200, body, "application/json", headers)
            writer.write(full[: len(full) - len(body) // 2])
            await writer.drain()
            writer.close()
            return False
        return await send(
            writer, response(200, body, "application/json", headers, close=close), not close
        )
