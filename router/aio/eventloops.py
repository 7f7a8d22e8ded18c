"""One resource per event loop (an async HTTP or Redis client), closed before its loop closes.

Async clients pool connections that belong to the loop that opened them: a client used from a
second loop fails with "Event loop is closed", and one dropped after its loop closed can only
be collected with its sockets still open (asyncio warns "unclosed transport"; the SDKs'
finalizers even schedule a close on whatever loop runs then, which fails as "Task exception
was never retrieved"). So :class:`LoopLocal` keeps one resource per loop and closes it:

- when the loop shuts down: a resource registers a tiny async generator with its loop, and
  ``asyncio.run()`` / ``asyncio.Runner`` (anything that calls ``loop.shutdown_asyncgens()``,
  as a loop must before it closes) closes it, which closes the resource on its own loop;
- when ``aclose()`` is awaited on the loop (``Router.aclose()``);
- on ``close()`` from outside: a live loop is asked to close it (thread-safely); the resource
  of a loop that is already closed is *abandoned*, never touched through that loop.

:func:`untracked` is the other side of the same mechanism: a streamed answer is a stack of
async generators (the router's stream, the nodes', the adapter's, the SSE reader's), each
closing the one beneath it. If the loop tracked them all, ``shutdown_asyncgens()`` would close
them all at once and an inner one would be closed twice concurrently ("aclose(): asynchronous
generator is already running"), and a stream dropped without ``aclose()`` would have each of
its generators closed by its own task when collected. So only the outermost is known to the
loop; it closes the rest in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sys
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["LoopLocal", "retrack", "untracked"]

_T = TypeVar("_T")
_log = logging.getLogger("router.eventloops")
#: Close tasks started from sync code: the loop holds its tasks only weakly.
_closing: set[asyncio.Task[Any]] = set()


_UNTRACKED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "router_untracked_asyncgens", default=False
)


class _Owned:
    """The async generators started while :func:`untracked` was in force (their owner closes
    them), noted by id: the collector clears weak references before it calls finalizers, so
    a ``WeakSet`` would no longer know a generator by the time its finalizer asks."""

    __slots__ = ("notes", "prune_at")

    def __init__(self) -> None:
        self.notes: dict[int, weakref.ref[Any]] = {}
        self.prune_at = 4096

    def add(self, agen: Any) -> None:
        notes = self.notes
        if len(notes) >= self.prune_at:  # forget the generators that are gone
            for key, ref in list(notes.items()):
                if ref() is None and notes.get(key) is ref:
                    del notes[key]
            self.prune_at = max(4096, 2 * len(notes))
        notes[id(agen)] = weakref.ref(agen)

    def pop(self, agen: Any) -> bool:
        """Forgets ``agen``'s note; whether there was one. A note at a generator's id is that
        generator's: each generator started under :class:`_FirstIter` replaced or removed any
        older note at its id."""
        return self.notes.pop(id(agen), None) is not None


_owned = _Owned()


class _FirstIter:
    """Wraps the running loop's first-iteration hook: a generator started while
    :func:`untracked` is in force is noted as owned instead of being tracked by the loop."""

    __slots__ = ("loop_hook",)

    def __init__(self, loop_hook: Callable[[Any], object]) -> None:
        self.loop_hook = loop_hook

    def __call__(self, agen: Any) -> None:
        if _UNTRACKED.get():
            _owned.add(agen)
        else:
            _owned.pop(agen)  # the note of a generator gone before, at this id
            self.loop_hook(agen)


class _Finalizer:
    """Wraps the running loop's finalizer hook (called when a suspended generator is
    collected): an owned generator is left to its owner. A stream dropped without ``aclose()``
    is collected as a whole (its generators reference each other); the loop then closes the
    outermost, which closes the rest in order, instead of closing each at once."""

    __slots__ = ("loop_hook",)

    def __init__(self, loop_hook: Callable[[Any], object]) -> None:
        self.loop_hook = loop_hook

    def __call__(self, agen: Any) -> None:
        if not _owned.pop(agen):
            self.loop_hook(agen)


def untracked() -> contextvars.Token[bool]:
    """From now until :func:`retrack` (in this task), async generators started are left out
    of the running loop's list of generators to close at shutdown, and out of its finalizer:
    their owner (an outer generator the loop does track) closes them. Set around each step of
    an owned stack, never across a ``yield`` to a caller. The running loop's hooks are wrapped
    once per run of the loop (the loop puts its own back when it stops)."""
    first, final = sys.get_asyncgen_hooks()
    if first is not None and not isinstance(first, _FirstIter):
        if final is not None and not isinstance(final, _Finalizer):
            final = _Finalizer(final)
        sys.set_asyncgen_hooks(firstiter=_FirstIter(first), finalizer=final)
    return _UNTRACKED.set(True)


def retrack(token: contextvars.Token[bool]) -> None:
    _UNTRACKED.reset(token)


@dataclass(eq=False, slots=True)
class _Entry(Generic[_T]):
    loop: asyncio.AbstractEventLoop
    value: _T | None = None
    closer: AsyncGenerator[None, None] | None = None
    pending: asyncio.Future[_T] | None = None


async def _close_at_shutdown(
    owner: weakref.ref[LoopLocal[Any]], entry: _Entry[Any]
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        local = owner()
        if local is not None:
            await local._close_entry(entry)


class LoopLocal(Generic[_T]):
    """Per-loop instances of a resource. ``aclose(value)`` closes one on its loop; ``abandon``
    (optional) releases one whose loop is already closed, without touching that loop."""

    def __init__(
        self,
        aclose: Callable[[_T], Awaitable[object]],
        *,
        abandon: Callable[[_T], None] | None = None,
    ) -> None:
        self._aclose = aclose
        self._abandon = abandon
        self._lock = threading.Lock()
        self._entries: dict[asyncio.AbstractEventLoop, _Entry[_T]] = {}
        self._last: _Entry[_T] | None = None  # the last loop's entry: one lookup per call

    def current(self) -> _T | None:
        """The running loop's resource, or None (raises RuntimeError with no running loop)."""
        loop = asyncio.get_running_loop()
        last = self._last
        if last is not None and last.loop is loop:
            return last.value
        entry = self._entries.get(loop)
        if entry is None or entry.value is None:
            return None
        self._last = entry
        return entry.value

    def get(self, make: Callable[[], _T]) -> _T:
        """The running loop's resource; ``make()`` (cheap: it runs on the loop) the first time."""
        value = self.current()
        if value is None:
            with self._lock:
                entry = self._entry(asyncio.get_running_loop())
                if entry.value is None:
                    self._register(entry, make())
                value = entry.value
        assert value is not None
        return value

    async def aget(self, make: Callable[[], Awaitable[_T]]) -> _T:
        """The running loop's resource; the first time, ``await make()`` (which may build it in
        a thread). Callers arriving meanwhile wait for the same build, and a cancelled caller
        does not cancel it for the others."""
        value = self.current()
        if value is not None:
            return value
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._entry(loop)
            if entry.value is not None:
                return entry.value
            if entry.pending is None:
                entry.pending = loop.create_task(self._build(entry, make))
                # Retrieved here, so a build that fails after its callers were cancelled is
                # not reported as "Task exception was never retrieved".
                entry.pending.add_done_callback(_retrieve)
            pending = entry.pending
        return await asyncio.shield(pending)

    async def _build(self, entry: _Entry[_T], make: Callable[[], Awaitable[_T]]) -> _T:
        try:
            value = await make()
        except BaseException:
            with self._lock:
                if self._entries.get(entry.loop) is entry:
                    del self._entries[entry.loop]
            raise
        with self._lock:
            entry.pending = None
            current = self._entries.setdefault(entry.loop, entry)
            if current is entry:
                self._register(entry, value)
                return value
        # close() ran meanwhile and another caller has made this loop's resource since: use
        # that one.
        await self._aclose(value)
        return await self.aget(make)

    def _entry(self, loop: asyncio.AbstractEventLoop) -> _Entry[_T]:
        """The loop's entry, made (and those of closed loops forgotten) when it has none.
        Under the lock."""
        entry = self._entries.get(loop)
        if entry is None:
            self._prune()
            entry = self._entries[loop] = _Entry(loop)
        return entry

    def _register(self, entry: _Entry[_T], value: _T) -> None:
        """Makes ``value`` the entry's and hooks its close to the loop's shutdown. Called on
        the loop's thread, under the lock."""
        entry.value = value
        self._last = entry
        if sys.get_asyncgen_hooks().firstiter is None:
            return  # a loop that does not track async generators: closed by aclose() only
        closer = _close_at_shutdown(weakref.ref(self), entry)
        # Starting the generator registers it with the running loop (its first-iteration hook);
        # the loop keeps it only weakly, the entry keeps it alive.
        tracked = _UNTRACKED.set(False)  # made during a stream's step: tracked all the same
        try:
            with contextlib.suppress(StopIteration):
                closer.asend(None).send(None)
        finally:
            _UNTRACKED.reset(tracked)
        entry.closer = closer

    def _prune(self) -> None:
        """Forgets the resources of closed loops (under the lock)."""
        for loop in [loop for loop in self._entries if loop.is_closed()]:
            self._forget(self._entries.pop(loop))

    def _forget(self, entry: _Entry[_T]) -> None:
        if self._last is entry:
            self._last = None
        value, entry.value, entry.closer = entry.value, None, None
        if value is not None and self._abandon is not None:
            self._abandon(value)

    async def _close_entry(self, entry: _Entry[_T]) -> None:
        with self._lock:
            if self._entries.get(entry.loop) is entry:
                del self._entries[entry.loop]
            if self._last is entry:
                self._last = None
            value, entry.value = entry.value, None
        if value is None:
            return
        try:
            await self._aclose(value)
        except Exception as exc:  # closing is best effort: the loop is ending anyway
            _log.debug("closing a per-loop client failed: %s", type(exc).__name__)

    async def aclose(self) -> None:
        """Closes the running loop's resource (waiting for one being made)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._entries.get(loop)
            pending = entry.pending if entry is not None else None
        if entry is None:
            return
        if pending is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(pending)
        closer = entry.closer
        if closer is not None:
            await closer.aclose()  # runs _close_entry on this loop
        else:
            await self._close_entry(entry)

    def close(self) -> None:
        """From any thread: every loop's resource is closed on its own loop if that loop is
        still open (asked thread-safely; it closes when the loop next runs), and abandoned if
        the loop is closed."""
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
            self._last = None
        for entry in entries:
            closer = entry.closer
            if closer is None or entry.loop.is_closed():
                self._forget(entry)
                continue
            try:
                entry.loop.call_soon_threadsafe(_start_close, entry.loop, closer)
            except RuntimeError:  # closed in the meantime
                self._forget(entry)


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _start_close(loop: asyncio.AbstractEventLoop, closer: AsyncGenerator[None, None]) -> None:
    task = loop.create_task(closer.aclose())
    _closing.add(task)
    task.add_done_callback(_closing.discard)
