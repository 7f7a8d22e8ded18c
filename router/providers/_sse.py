"""A small Server-Sent Events decoder over raw response bytes.

The adapters read event streams themselves instead of through the SDKs' stream classes, which
build a pydantic model per event (most of a streamed call's client CPU). Lines are split on
bytes, never on decoded text, because ``str.splitlines`` would also split on U+2028 and
friends, which may legally appear unescaped inside a JSON ``data:`` line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import TYPE_CHECKING, Protocol

from router.aio.deadline import DeadlineReached, limited, watch
from router.types import Chunk

if TYPE_CHECKING:
    import httpx2

__all__ = [
    "ChunkDecoder",
    "EventDecoder",
    "SSEDecoder",
    "aiter_sse",
    "astream_chunks",
    "iter_sse",
    "stream_chunks",
]

Event = tuple[str | None, str]


class SSEDecoder:
    """Incremental: ``feed`` bytes as they arrive, get back the events they complete."""

    __slots__ = ("_buf", "_data", "_event")

    def __init__(self) -> None:
        self._buf = b""
        self._event: str | None = None
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[Event]:
        buf = self._buf + chunk if self._buf else chunk
        lines = buf.splitlines(keepends=True)
        # Hold back an unfinished line, and a lone trailing CR that may be half of a CRLF split
        # across reads (taking it as a line end would invent an empty line: a false dispatch).
        if lines and (lines[-1][-1:] not in (b"\n", b"\r") or lines[-1][-1:] == b"\r"):
            self._buf = lines.pop()
        else:
            self._buf = b""
        return self._lines(lines)

    def flush(self) -> list[Event]:
        """Whatever a final unterminated line completes (an unterminated event is dropped, as
        the SSE spec says)."""
        rest, self._buf = self._buf, b""
        return self._lines([rest]) if rest else []

    def _lines(self, lines: list[bytes]) -> list[Event]:
        out: list[Event] = []
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not line:
                if self._data:
                    out.append((self._event, b"\n".join(self._data).decode("utf-8")))
                self._event = None
                self._data = []
                continue
            name, _, value = line.partition(b":")
            if not name:  # a comment line (keep-alive)
                continue
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                self._data.append(value)
            elif name == b"event":
                self._event = value.decode("utf-8")
        return out


def iter_sse(response: httpx2.Response) -> Iterator[Event]:
    decoder = SSEDecoder()
    for chunk in response.iter_bytes():
        yield from decoder.feed(chunk)
    yield from decoder.flush()


async def aiter_sse(response: httpx2.Response) -> AsyncIterator[Event]:
    decoder = SSEDecoder()
    async for chunk in response.aiter_bytes():
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.flush():
        yield event


class EventDecoder(Protocol):
    """Bytes of a response body in, the events they complete out (SSE; AWS event streams)."""

    def feed(self, chunk: bytes) -> list[Event]: ...

    def flush(self) -> list[Event]: ...


class ChunkDecoder(Protocol):
    """Turns one stream's SSE events into chunks (per wire format)."""

    done: bool  # the terminal event was seen: stop reading

    def feed(self, event: str | None, data: str) -> Chunk | None: ...

    def final(self) -> Chunk:
        """The last chunk (finish reason, usage, tool calls); raises ProviderUnavailable when
        the stream ended before its terminal event."""
        ...


def stream_chunks(
    response: httpx2.Response, state: ChunkDecoder, decoder: EventDecoder | None = None
) -> Iterator[Chunk]:
    """The chunks of a stream up to its terminal event (the final chunk is the caller's).
    Under the sync driver's armed deadline (:mod:`router.aio.deadline`), a request deadline that
    comes while reading ends the read and raises DeadlineReached. After the terminal event the
    rest of the body is read, as :func:`astream_chunks` does and for the same reason, for at
    most :data:`DRAIN_SECONDS`. ``decoder``: how the body is framed (SSE by default)."""
    decoder = decoder or SSEDecoder()
    raw = response.iter_bytes()
    with watch(response) as deadline:
        for data in raw:
            for event, text in decoder.feed(data):
                chunk = state.feed(event, text)
                if chunk is not None:
                    yield chunk
                if state.done:
                    break
            if state.done:
                break
        else:
            for event, text in decoder.flush():
                chunk = state.feed(event, text)
                if chunk is not None:
                    yield chunk
                if state.done:
                    return
            if deadline is not None and deadline.fired:
                raise DeadlineReached()  # the shut-down socket read as the end of the body
            return
    _drain(response, raw)


async def astream_chunks(
    response: httpx2.Response, state: ChunkDecoder, decoder: EventDecoder | None = None
) -> AsyncGenerator[Chunk, None]:
    """As :func:`stream_chunks`; after the terminal event the rest of the body (normally only
    the chunked terminator, already received) is read, so that the connection goes back to
    the pool instead of being closed: a new connection per stream costs more CPU than the
    stream itself. A server that keeps the body open longer than :data:`DRAIN_SECONDS` after
    its terminal event gets the connection closed, as before."""
    decoder = decoder or SSEDecoder()
    async with contextlib.aclosing(response.aiter_bytes()) as raw:
        async for data in raw:
            for event, text in decoder.feed(data):
                chunk = state.feed(event, text)
                if chunk is not None:
                    yield chunk
                if state.done:
                    await _adrain(raw)
                    return
    for event, text in decoder.flush():
        chunk = state.feed(event, text)
        if chunk is not None:
            yield chunk
        if state.done:
            return


#: How long a finished stream waits for the end of its HTTP body before closing the connection.
DRAIN_SECONDS = 0.5


def _drain(response: httpx2.Response, raw: Iterator[bytes]) -> None:
    # Outside the request's deadline watch: a drain cut short fails nothing.
    try:
        with limited(response, DRAIN_SECONDS) as bounded:
            if bounded:
                for _ in raw:
                    pass
    except Exception:  # the answer is complete: a failure here only costs the connection
        return


async def _adrain(raw: AsyncIterator[bytes]) -> None:
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _ in raw:
                pass
    except Exception:  # the answer is complete: a failure here only costs the connection
        return
