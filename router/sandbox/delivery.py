"""How an answer goes out on the wire: whole, as an SSE stream, or as a fault shapes it
(an HTML page, an error, trickled, stalled, cut, or reset). The server decides what to answer
(:mod:`router.sandbox.server`); these functions only write it, counting what happened in the
sandbox's state."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import struct

from .answer import Api, Prompt
from .faults import FaultSpec
from .http11 import CHUNK_END, REASONS, Headers, chunk, sse_head
from .state import SandboxState
from .wire import StreamPlan, Wire, WireError

STREAM_ERROR_STATUS: dict[Api, int] = {"openai": 500, "anthropic": 529}

# An SSE comment: bytes on the wire, no event (what servers send to keep a connection alive).
KEEPALIVE = b": keep-alive\n\n"


def html_page(status: int) -> bytes:
    title = "Welcome" if status == 200 else f"{status} {REASONS.get(status, 'Error')}"
    return (
        f"<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><center><h1>"
        f"{title}</h1></center><hr><center>router-sandbox-edge</center></body></html>\n"
    ).encode()


def rst(writer: asyncio.StreamWriter) -> None:
    """Drop the connection with a TCP RST rather than an orderly FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def send(writer: asyncio.StreamWriter, data: bytes, keep: bool) -> bool:
    """Write ``data``; ``keep`` says whether the connection may serve another request."""
    writer.write(data)
    await writer.drain()
    return keep


async def hang(state: SandboxState, reader: asyncio.StreamReader | None) -> bool:
    """Send nothing more until the client hangs up (stall=N)."""
    with contextlib.suppress(ConnectionError):
        while reader is not None and await reader.read(4096):
            pass  # a client does not send while its answer is pending; ignore it if so
    state.bump("hangups")
    return False


async def trickle(
    state: SandboxState,
    writer: asyncio.StreamWriter,
    reader: asyncio.StreamReader | None,
    content: list[bytes],
    gap: float,
) -> bool:
    """``content`` over and over, one event every ``gap`` seconds, never the terminal
    event, until the client hangs up (trickle=MS: the content events; stall=N with
    keepalive=MS: SSE comments)."""
    with contextlib.suppress(ConnectionError):
        for event in itertools.cycle(content):
            if (reader is not None and reader.at_eof()) or writer.transport.is_closing():
                break
            writer.write(chunk(event))
            await writer.drain()
            await asyncio.sleep(gap)
    state.bump("hangups")
    return False


async def trickle_head(
    state: SandboxState,
    writer: asyncio.StreamWriter,
    reader: asyncio.StreamReader | None,
    gap: float,
) -> bool:
    """A status line, then one more header line every ``gap`` seconds, never the end of
    the head, until the client hangs up (keepalive=MS on a non-streamed request)."""
    with contextlib.suppress(ConnectionError):
        writer.write(b"HTTP/1.1 200 OK\r\n")
        while not ((reader is not None and reader.at_eof()) or writer.transport.is_closing()):
            await writer.drain()
            await asyncio.sleep(gap)
            writer.write(b"x-keep-alive: 1\r\n")
    state.bump("hangups")
    return False


async def trickle_body(
    state: SandboxState,
    writer: asyncio.StreamWriter,
    reader: asyncio.StreamReader | None,
    full: bytes,
    body_len: int,
    gap_ms: float,
) -> bool:
    """A non-streamed answer whose head goes at once and whose body follows one byte every
    ``gap_ms`` (trickle=MS); a client that hangs up first is counted in ``hangups``."""
    head = len(full) - body_len
    with contextlib.suppress(ConnectionError):
        writer.write(full[:head])
        await writer.drain()
        for i in range(head, len(full)):
            await asyncio.sleep(gap_ms / 1000)
            if (reader is not None and reader.at_eof()) or writer.transport.is_closing():
                break
            writer.write(full[i : i + 1])
            await writer.drain()
        else:
            return False  # the whole body went out; close (this fault is for tests)
    state.bump("hangups")
    return False


def fault_error(
    wire: Wire, prompt: Prompt, spec: FaultSpec, credential: str | None = None
) -> WireError | None:
    """The HTTP error a fault asks for, if any (mid-stream errors are not HTTP errors)."""
    if spec.stream_error is not None and prompt.stream:
        return None
    if spec.status is not None or spec.stream_error is not None:
        status = spec.status or STREAM_ERROR_STATUS[wire.api]
        return wire.status_error(
            status, prompt.model, quota=spec.quota, credential=credential, echo=spec.echo_key
        )
    if spec.context:
        return wire.context_error(prompt)
    if spec.filter == "error" and wire.api == "openai":
        return wire.filter_error()
    return None


async def send_stream(
    state: SandboxState,
    writer: asyncio.StreamWriter,
    wire: Wire,
    plan: StreamPlan,
    spec: FaultSpec | None,
    headers: Headers,
    close: bool,
    reader: asyncio.StreamReader | None = None,
) -> bool:
    events = plan.events
    abrupt = False
    holds = False  # after the events: hold the connection open until the client hangs up
    if spec is not None and spec.badjson:
        broken = plan.content[0] if plan.content else plan.terminal[0]
        events = [*plan.preamble, broken[: len(broken) // 2] + b"\n\n"]
    elif spec is not None and spec.cut is not None:
        state.bump("cuts")
        events = plan.preamble + plan.content[: spec.cut]
        abrupt = not spec.clean
    elif spec is not None and spec.stall is not None:
        events = plan.preamble + plan.content[: spec.stall]
        holds = True
    elif spec is not None and spec.trickle_ms is not None and plan.content:
        events = plan.preamble
        holds = True
    elif spec is not None and spec.stream_error is not None:
        status = spec.status or STREAM_ERROR_STATUS[wire.api]
        events = [
            *plan.preamble,
            *plan.content[: spec.stream_error],
            wire.stream_error_event(status),
        ]
    elif spec is not None and spec.linger:
        holds = True
    gap = spec.chunk_delay_s if spec is not None else 0.0
    kind = getattr(wire, "stream_content_type", None)
    head = sse_head(headers, close=close, content_type=kind) if kind else None
    writer.write(head or sse_head(headers, close=close))
    await writer.drain()
    for i, event in enumerate(events):
        if gap and i:
            await asyncio.sleep(gap)
        writer.write(chunk(event))
        await writer.drain()
    if holds and spec is not None:
        if spec.trickle_ms is not None:
            return await trickle(state, writer, reader, plan.content, spec.trickle_ms / 1000)
        if spec.keepalive_ms is not None:
            return await trickle(state, writer, reader, [KEEPALIVE], spec.keepalive_ms / 1000)
        return await hang(state, reader)
    if abrupt:
        # No chunked terminator: the client sees the body end mid-message.
        writer.close()
        return False
    return await send(writer, CHUNK_END, not close)
