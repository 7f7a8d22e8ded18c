"""The total deadline of a request (``timeouts.total``), enforced while a read is blocked.

An async attempt is bounded by one loop timer: a stream's cancels its wait for the next chunk
(``router.engine.streams._AsyncDeadline``), a non-streamed call's cancels the whole attempt
(:func:`within`). A sync call blocks in a socket read that only the socket's own timeout (the
``timeouts.request`` read timeout) ends, and a server that keeps sending a byte now and then
never lets that fire. So the sync drivers arm a :class:`StreamDeadline` for each attempt,
streamed or not; the adapter's reader hands it the response's socket (:func:`watch`) while it
reads the body, and one daemon thread for the whole process (not one per call or per chunk)
shuts that socket down when the deadline comes: the blocked read returns at once, the reader
raises :class:`DeadlineReached`, and the driver ends the attempt with the request's timeout.
The adapters also hand it the connection's socket while the request is sent and the answer's
head awaited (:func:`sending`); where they cannot (a client with custom transports or the
SDK's own request path) the read timeout, which the drivers cap by the time left, bounds
that wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

__all__ = [
    "DeadlineReached",
    "StreamDeadline",
    "limited",
    "reset_current",
    "sending",
    "set_current",
    "watch",
    "within",
]

_T = TypeVar("_T")


class DeadlineReached(BaseException):
    """An attempt ran into its request's deadline (raised by the sync reader when the watchdog
    shut its socket, by :func:`within` and by the stream drivers); the drivers turn it into
    the attempt's ProviderTimeout, it never reaches the caller.

    A BaseException like ``asyncio.CancelledError`` (what the async path cancels with): no
    adapter or node takes it for a provider failure, so no circuit breaker counts it."""


class StreamDeadline:
    """One sync attempt's deadline (streamed or not), at ``when`` on ``time.monotonic``'s
    scale."""

    __slots__ = ("_sock", "fired", "when")

    def __init__(self, when: float) -> None:
        self.when = when
        self.fired = False
        self._sock: socket.socket | None = None

    def _fire(self) -> None:
        """Called by the watchdog (under its lock) at ``when``."""
        self.fired = True
        sock, self._sock = self._sock, None
        if sock is not None:
            # socket.socket's own shutdown (also for an SSLSocket: its override drops the SSL
            # object, which the reading thread is using). The blocked read sees end of file.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """The process's one watchdog thread: sleeps until the earliest armed deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, StreamDeadline]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stale = 0  # disarmed entries still in the heap

    def arm(self, deadline: StreamDeadline, sock: socket.socket) -> None:
        with self._cond:
            if deadline.fired or deadline.when <= time.monotonic():
                deadline._sock = sock
                deadline._fire()
                return
            deadline._sock = sock
            heapq.heappush(self._heap, (deadline.when, next(self._seq), deadline))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="router-stream-deadlines", daemon=True
                )
                self._thread.start()
            if self._heap[0][2] is deadline:
                self._cond.notify()

    def disarm(self, deadline: StreamDeadline) -> None:
        """After this returns the watchdog never touches the deadline's socket again (it may
        go back to the connection pool)."""
        with self._cond:
            if deadline._sock is None:
                return
            deadline._sock = None  # its heap entry fires on nothing when it comes due
            self._stale += 1
            if self._stale > 1024 and self._stale * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if entry[2]._sock is not None]
                heapq.heapify(self._heap)
                self._stale = 0

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._heap:
                    self._cond.wait()
                    continue
                when, _, deadline = self._heap[0]
                wait = when - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                if deadline._sock is not None:
                    deadline._fire()
                else:
                    self._stale = max(0, self._stale - 1)

    def _after_fork(self) -> None:
        """In a forked child the thread is gone (and the lock may be held by it): start
        afresh, so the child's streams get a watchdog of their own."""
        self.__init__()  # type: ignore[misc]


_WATCHDOG = _Watchdog()
os.register_at_fork(after_in_child=_WATCHDOG._after_fork)
_CURRENT: contextvars.ContextVar[StreamDeadline | None] = contextvars.ContextVar(
    "router_stream_deadline", default=None
)


def set_current(deadline: StreamDeadline) -> contextvars.Token[StreamDeadline | None]:
    """Make ``deadline`` the one a sync stream's reader picks up while the driver asks for
    its next chunk (the adapter's generator runs in the driver's context); undo with
    :func:`reset_current`. Two calls per chunk, no context manager: this is the hot path."""
    return _CURRENT.set(deadline)


def reset_current(token: contextvars.Token[StreamDeadline | None]) -> None:
    _CURRENT.reset(token)


@contextlib.contextmanager
def watch(response: Any) -> Iterator[StreamDeadline | None]:
    """While a sync reader reads ``response`` (an httpx2 response), the armed deadline (if
    any, yielded) shuts its socket down when it comes; a read failing after that raises
    :class:`DeadlineReached`. A shut-down socket may also read as a clean end of the body:
    the reader checks ``fired`` when the body ends before its terminal event."""
    deadline = _CURRENT.get()
    sock = _socket_of(response) if deadline is not None else None
    if deadline is None or sock is None:
        yield None
        return
    _WATCHDOG.arm(deadline, sock)
    try:
        yield deadline
    except Exception:
        if deadline.fired:
            raise DeadlineReached() from None  # the read failed because the socket was shut
        raise
    finally:
        _WATCHDOG.disarm(deadline)


@contextlib.contextmanager
def sending(
    find_socket: Callable[[Any], socket.socket | None],
) -> Iterator[Callable[[str, dict[str, Any]], None] | None]:
    """While a sync attempt sends its request and waits for the answer's head: yields an
    httpcore ``trace`` extension (None when no deadline is armed) that, as the request starts
    going out on an HTTP/1.1 connection, hands the armed deadline that connection's socket
    (``find_socket(the httpcore request)``; None: it cannot be found, and the read timeout
    remains the bound). A failure after the deadline fired raises :class:`DeadlineReached`."""
    deadline = _CURRENT.get()
    if deadline is None:
        yield None
        return

    def trace(event: str, info: dict[str, Any]) -> None:
        if event == "http11.send_request_headers.started":
            sock = find_socket(info.get("request"))
            if sock is not None:
                _WATCHDOG.arm(deadline, sock)

    try:
        yield trace
    except Exception:
        if deadline.fired:
            raise DeadlineReached() from None
        raise
    finally:
        _WATCHDOG.disarm(deadline)
    if deadline.fired:  # the shut-down socket may have read as a (short) head
        raise DeadlineReached()


@contextlib.contextmanager
def limited(response: Any, seconds: float) -> Iterator[bool]:
    """While the caller reads ``response``, its socket is shut down after ``seconds`` (or at
    the armed request deadline, if sooner) by a deadline of its own: the armed one is never
    marked fired by it. Yields False, arming nothing, when there is no socket to shut (HTTP/2)
    and the caller should not read."""
    sock = _socket_of(response)
    if sock is None:
        yield False
        return
    current = _CURRENT.get()
    when = time.monotonic() + seconds
    limit = StreamDeadline(min(when, current.when) if current is not None else when)
    _WATCHDOG.arm(limit, sock)
    try:
        yield True
    finally:
        _WATCHDOG.disarm(limit)


def _socket_of(response: Any) -> socket.socket | None:
    """The socket ``response`` alone reads from: HTTP/1 only (an HTTP/2 connection carries
    other streams too; there the read timeout and the checks between chunks remain)."""
    if getattr(response, "http_version", None) not in ("HTTP/1.1", "HTTP/1.0"):
        return None
    stream = getattr(response, "extensions", {}).get("network_stream")
    get = getattr(stream, "get_extra_info", None)
    sock = get("socket") if get is not None else None
    return sock if isinstance(sock, socket.socket) else None


async def within(seconds: float, attempt: Awaitable[_T]) -> _T:
    """``await attempt``, cancelled after ``seconds`` (one loop timer) with
    :class:`DeadlineReached` raised in its place. A cancellation from anywhere else stays a
    cancellation, and a TimeoutError the attempt raises itself stays its own."""
    timer = asyncio.timeout(max(seconds, 0.0))
    try:
        async with timer:
            return await attempt
    except TimeoutError:
        if timer.expired():
            raise DeadlineReached() from None
        raise
