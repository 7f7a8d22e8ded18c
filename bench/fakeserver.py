"""A fake LLM server for the overhead benchmark: OpenAI and Anthropic wire formats, JSON and SSE.

It has to cost far less CPU per request than the clients it serves, so it does the least work
that answers correctly: a raw ``asyncio.Protocol`` (on uvloop when importable), HTTP/1.1 with
keep-alive and pipelining, and responses rendered once per (API, model, stream) and then
written with a single ``transport.write``. The request body is only ``json.loads``-ed when it
mentions ``"stream"`` or ``"model"`` (every chat request does; it is one small parse).

    python bench/fakeserver.py --port 0     # prints "READY <port>" once listening

Endpoints:

- ``POST /v1/chat/completions`` (also ``/chat/completions``): a Chat Completions answer, or
  with ``"stream": true`` an SSE stream: role chunk, 8 content chunks, finish chunk, usage
  chunk, ``data: [DONE]``.
- ``POST /v1/messages``: an Anthropic Messages answer, or its SSE stream (``message_start``,
  ``content_block_start``, ``ping``, 8 ``content_block_delta``, ``content_block_stop``,
  ``message_delta``, ``message_stop``).
- ``GET /v1/models``, ``GET /health``, and ``GET /stats``: request and connection counts and
  the server's own CPU seconds, read by the benchmark before and after a measured window.
- ``/fault/<status>/...``: the same endpoints answer with that HTTP status and the API's own
  error body (e.g. ``base_url: http://127.0.0.1:PORT/fault/503/v1`` for a failing model).

The model name is echoed from the request; the answer text contains "fake completion".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import time
from typing import Any

CONTENT = "This is a fake completion from the bench server."
TOKENS = ("This", " is", " a", " fake", " completion", " from", " the bench", " server.")
PROMPT_TOKENS = 12
_CREATED = int(time.time())
_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    401: b"Unauthorized",
    404: b"Not Found",
    429: b"Too Many Requests",
    500: b"Internal Server Error",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
    529: b"Overloaded",
}

STATS = {"requests": 0, "completions": 0, "connections": 0, "faults": 0}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _http(status: int, body: bytes, ctype: bytes = b"application/json") -> bytes:
    reason = _REASONS.get(status, b"Status")
    head = b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n" % (
        status,
        reason,
        ctype,
        len(body),
    )
    return head + body


def _sse(events: list[bytes]) -> bytes:
    head = (
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
        b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    return head + b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"


def openai_json(model: str) -> bytes:
    n = len(TOKENS)
    body = {
        "id": "chatcmpl-bench0001",
        "object": "chat.completion",
        "created": _CREATED,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": CONTENT, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": PROMPT_TOKENS,
            "completion_tokens": n,
            "total_tokens": PROMPT_TOKENS + n,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "service_tier": "default",
        "system_fingerprint": "fp_bench",
    }
    return _http(200, _dumps(body))


def openai_sse(model: str) -> bytes:
    base = {
        "id": "chatcmpl-bench0001",
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": model,
        "system_fingerprint": "fp_bench",
    }
    events = []

    def add(choices: list[Any], usage: Any = None) -> None:
        events.append(b"data: " + _dumps({**base, "choices": choices, "usage": usage}) + b"\n\n")

    add([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    for t in TOKENS:
        add([{"index": 0, "delta": {"content": t}, "finish_reason": None}])
    add([{"index": 0, "delta": {}, "finish_reason": "stop"}])
    n = len(TOKENS)
    add([], {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": n, "total_tokens": 12 + n})
    events.append(b"data: [DONE]\n\n")
    return _sse(events)


def anthropic_json(model: str) -> bytes:
    body = {
        "id": "msg_bench0001",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": CONTENT}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": PROMPT_TOKENS,
            "output_tokens": len(TOKENS),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    return _http(200, _dumps(body))


def anthropic_sse(model: str) -> bytes:
    events = []

    def add(name: str, data: Any) -> None:
        events.append(b"event: " + name.encode() + b"\ndata: " + _dumps(data) + b"\n\n")

    message = {
        "id": "msg_bench0001",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": PROMPT_TOKENS, "output_tokens": 1},
    }
    add("message_start", {"type": "message_start", "message": message})
    block = {"type": "text", "text": ""}
    add("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block})
    add("ping", {"type": "ping"})
    for t in TOKENS:
        delta = {"type": "text_delta", "text": t}
        add("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
    add("content_block_stop", {"type": "content_block_stop", "index": 0})
    add(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": len(TOKENS)},
        },
    )
    add("message_stop", {"type": "message_stop"})
    return _sse(events)


def error_body(api: str, status: int) -> bytes:
    message = f"bench server: injected {status}"
    if api == "anthropic":
        kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
        return _http(status, _dumps({"type": "error", "error": {"type": kind, "message": message}}))
    kind = {429: "rate_limit_exceeded"}.get(status, "server_error")
    return _http(status, _dumps({"error": {"message": message, "type": kind, "code": kind}}))


_RENDER = {
    ("openai", False): openai_json,
    ("openai", True): openai_sse,
    ("anthropic", False): anthropic_json,
    ("anthropic", True): anthropic_sse,
}
_CACHE: dict[tuple[str, str, bool], bytes] = {}


def answer(api: str, model: str, stream: bool) -> bytes:
    key = (api, model, stream)
    out = _CACHE.get(key)
    if out is None:
        if len(_CACHE) > 1024:
            _CACHE.clear()
        out = _CACHE[key] = _RENDER[api, stream](model)
    return out


_ROUTES = {
    (b"POST", b"/v1/chat/completions"): "openai",
    (b"POST", b"/chat/completions"): "openai",
    (b"POST", b"/v1/messages"): "anthropic",
    (b"POST", b"/messages"): "anthropic",
}
_NOT_FOUND = _http(404, b'{"error":{"message":"not found","type":"invalid_request_error"}}')
_BAD = _http(400, b'{"error":{"message":"bad request","type":"invalid_request_error"}}')
_HEALTH = _http(200, b"ok", b"text/plain")
_MODELS = _http(
    200,
    _dumps(
        {
            "object": "list",
            "data": [{"id": m, "object": "model", "owned_by": "bench"} for m in ("fake-model",)],
        }
    ),
)


class FakeServer(asyncio.Protocol):
    __slots__ = ("buf", "transport")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        STATS["connections"] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        out = []
        while buf:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end]
            lower = head.lower()
            length = 0
            i = lower.find(b"\r\ncontent-length:")
            if i >= 0:
                j = lower.find(b"\r\n", i + 2)
                length = int(lower[i + 17 : j if j >= 0 else len(lower)])
            stop = end + 4 + length
            if len(buf) < stop:
                break
            out.append(self.handle(head, buf[end + 4 : stop]))
            buf = buf[stop:]
        self.buf = buf
        if out and self.transport is not None:
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))

    def handle(self, head: bytes, body: bytes) -> bytes:
        STATS["requests"] += 1
        line = head[: head.find(b"\r\n")] if b"\r\n" in head else head
        method, _, rest = line.partition(b" ")
        path = rest.partition(b" ")[0].partition(b"?")[0]
        fault = 0
        if path.startswith(b"/fault/"):
            status, _, tail = path[7:].partition(b"/")
            fault, path = int(status), b"/" + tail
        api = _ROUTES.get((method, path))
        if api is None:
            if path in (b"/v1/models", b"/models"):
                return _MODELS
            if path == b"/health":
                return _HEALTH
            if path == b"/stats":
                ru = resource.getrusage(resource.RUSAGE_SELF)
                stats = {**STATS, "cpu_s": ru.ru_utime + ru.ru_stime, "pid": os.getpid()}
                return _http(200, _dumps(stats))
            return _NOT_FOUND
        STATS["completions"] += 1
        if fault:
            STATS["faults"] += 1
            return error_body(api, fault)
        model, stream = "fake-model", False
        if b'"stream"' in body or b'"model"' in body:
            try:
                req = json.loads(body)
            except ValueError:
                return _BAD
            model = str(req.get("model") or model)
            stream = req.get("stream") is True
        return answer(api, model, stream)


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FakeServer, host, port, backlog=1024, reuse_address=True)
    for api, stream in _RENDER:
        answer(api, "fake-model", stream)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765, help="0: any free port")
    ap.add_argument("--no-uvloop", action="store_true")
    args = ap.parse_args(argv)
    if not args.no_uvloop:
        try:
            import uvloop  # type: ignore[import-not-found]
        except ImportError:
            pass
        else:
            uvloop.run(serve(args.host, args.port))
            return
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    sys.exit(main())
