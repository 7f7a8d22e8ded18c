"""Streaming drivers: ``Router.stream`` returns a :class:`Stream`, ``Router.astream`` an
:class:`AsyncStream`. Both walk the chain like ``complete`` does, with the streaming contract:
failover is transparent until the first chunk with content has reached the caller; after
that a failure, or an end without the terminal event, raises StreamInterrupted carrying the
partial text. A cut stream never ends as a clean stop.

The request's deadline (``timeouts.total``) runs to the last chunk. Each attempt's read
timeout (``timeouts.request``, capped by the time left) is the idle bound; the deadline ends a
wait for the next chunk that is still going when it comes (async: one loop timer per attempt;
sync: the process's watchdog thread shuts the socket down, see :mod:`router.aio.deadline`), and a
chunk that arrives after it is not passed on. Either way the attempt fails with a ProviderTimeout:
before any output the chain moves on (if time is left), after it StreamInterrupted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
)
from dataclasses import dataclass, field
from typing import Any

from router.aio.deadline import DeadlineReached, StreamDeadline, reset_current, set_current
from router.aio.eventloops import retrack, untracked
from router.engine.compile import Runtime
from router.errors import ProviderError, ProviderUnavailable, StreamInterrupted
from router.routing.attempt import Try
from router.routing.call import Call, Target, cost_of, savings_of
from router.routing.walk import Wait
from router.types import Chunk, Response, ToolCall, Usage

__all__ = ["AsyncStream", "Stream"]


@dataclass(slots=True)
class _Delivered:
    """What one streamed attempt has delivered so far (pure bookkeeping)."""

    parts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    delivered: bool = False
    cached: bool = False
    reasoning: list[str] = field(default_factory=list)
    thinking_blocks: tuple[Mapping[str, Any], ...] = ()

    def admit(self, chunk: Chunk) -> bool:
        """Record ``chunk``; True when it should be passed to the caller. Empty chunks before
        the first content (reasoning counts as content) are held back, so failover stays
        possible until real output."""
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
            self.tool_calls = chunk.tool_calls or self.tool_calls
            self.thinking_blocks = chunk.thinking_blocks or self.thinking_blocks
            self.cached = chunk.cached
        if not (
            chunk.delta
            or chunk.reasoning
            or chunk.finish_reason
            or chunk.tool_calls
            or self.delivered
        ):
            return False
        if chunk.reasoning:
            self.reasoning.append(chunk.reasoning)
        self.parts.append(chunk.delta)
        self.delivered = True
        return True

    def accept(self, t: Try, chunk: Chunk) -> bool:
        """:meth:`admit`, after turning a refusal that arrives before any output into a
        failure the chain can move on from."""
        if not self.delivered:
            t.refusal(chunk.finish_reason)
        return self.admit(chunk)

    def check_terminated(self, target: Target) -> None:
        """A stream that ended without its terminal event is a failure, never a clean stop."""
        if self.finish_reason is None:
            raise ProviderUnavailable(
                _UNTERMINATED, provider=target.provider, model=target.model.name
            )

    def cut(self, t: Try) -> StreamInterrupted | None:
        """After output reached the caller a failure cannot be failed over: the attempt is
        recorded and the StreamInterrupted to raise returned. None before any output."""
        if not self.delivered or t.failure is None:
            return None
        t.settle()
        target = t.target
        return StreamInterrupted(
            f"the stream from {target.model.name} was cut after it had started: {t.failure}",
            partial_text="".join(self.parts),
            usage=self.usage,
            model=target.model.name,
            provider=target.provider,
            attempts=tuple(t.run.attempts),
        )

    def assembled(self, target: Target, latency: float) -> Response:
        return Response(
            content="".join(self.parts),
            finish_reason=self.finish_reason or "stop",
            usage=self.usage or Usage(),
            model=target.model.name,
            model_id=target.model.id,
            provider=target.provider,
            cost=cost_of(target.model, self.usage),
            latency_s=latency,
            tool_calls=self.tool_calls,
            cached=self.cached,
            reasoning="".join(self.reasoning) or None,
            thinking_blocks=self.thinking_blocks,
        )


_UNTERMINATED = "the stream ended before its terminal event"


def _settle(rt: Runtime, call: Call, t: Try, state: _Delivered) -> Response | bool:
    """After a streamed attempt: raises StreamInterrupted when it failed after output had
    reached the caller (no failover then); else :meth:`Try.settle` (the answer assembled
    from its chunks)."""
    if (cut := state.cut(t)) is not None:
        model = t.target.model
        rt.accounting.interrupted(
            call, t.run, cut, cost_of(model, state.usage), savings_of(model, state.usage)
        )
        raise cut from t.failure
    if t.failure is None:
        latency = t.elapsed()
        t.answered(state.assembled(t.target, latency), latency=latency, check=False)
    return t.settle()


class _AsyncDeadline:
    """The request's deadline over one async streamed attempt: one loop timer for the whole
    attempt (not one per chunk, as ``asyncio.timeout`` around each wait would be) that
    cancels the task only while it waits for the next chunk; the wait then raises
    DeadlineReached. Between chunks the task runs the caller's code, which it never cancels."""

    __slots__ = ("_handle", "_waiting", "fired")

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._waiting: asyncio.Task[Any] | None = None
        self._handle = asyncio.get_running_loop().call_later(max(seconds, 0.0), self._fire)

    def _fire(self) -> None:
        self.fired = True
        if self._waiting is not None:
            self._waiting.cancel()

    async def next(self, chunks: AsyncIterator[Chunk]) -> Chunk:
        if self.fired:
            raise DeadlineReached()
        task = self._waiting = asyncio.current_task()
        # The generators beneath are this stream's to close (see router.aio.eventloops).
        token = untracked()
        try:
            return await chunks.__anext__()
        except asyncio.CancelledError:
            # Ours alone (no other cancellation pending): the deadline, not a cancelled caller.
            if self.fired and task is not None and task.uncancel() == 0:
                raise DeadlineReached() from None
            raise
        finally:
            retrack(token)
            self._waiting = None

    def cancel(self) -> None:
        self._handle.cancel()


class Stream:
    """Iterate for Chunks; after the last one, ``response`` holds the assembled answer (with
    usage, cost and every attempt)."""

    def __init__(self, rt: Runtime, call: Call) -> None:
        self._rt = rt
        self._call = call
        self.response: Response | None = None
        self._iter = self._run()

    def __iter__(self) -> Iterator[Chunk]:
        return self._iter

    def __next__(self) -> Chunk:
        return next(self._iter)

    def close(self) -> None:
        self._iter.close()

    def _run(self) -> Generator[Chunk, None, None]:
        rt, call = self._rt, self._call
        run = rt.run(call)
        while (step := run.next_step()) is not None:
            if isinstance(step, Wait):
                rt.sleep(step.seconds)
                continue
            t = rt.attempt(run, step)
            state = _Delivered()
            # The request's deadline on the real monotonic clock: a watchdog ends the read
            # that is blocked when it comes (see router.aio.deadline).
            deadline = StreamDeadline(time.monotonic() + t.time_left)
            chunks: Iterator[Chunk] = t.target.node.stream(t.request)
            try:
                while True:
                    token = set_current(deadline)
                    try:
                        chunk = next(chunks, None)
                    finally:
                        reset_current(token)
                    if chunk is None:
                        break
                    if deadline.fired or rt.clock() >= run.deadline:
                        raise DeadlineReached()  # it came after the deadline: not passed on
                    if state.accept(t, chunk):
                        yield chunk
                state.check_terminated(t.target)
            except (ProviderError, DeadlineReached) as caught:
                t.caught(caught, overdue=deadline.fired)
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            # Settled out here: nothing internal in the chain of the error a request ends with.
            if isinstance(outcome := _settle(rt, call, t, state), Response):
                self.response = rt.accounting.ok(call, outcome, stream=True)
                return
            if not outcome:
                break
        rt.accounting.failed(call, run, stream=True)
        raise run.give_up()


class AsyncStream:
    """``async for chunk in stream``; afterwards ``response`` holds the assembled answer."""

    def __init__(self, rt: Runtime, call: Call | Callable[[], Awaitable[Call]]) -> None:
        """``call``, or how to prepare it (awaited when iteration starts: a classification
        that runs in a thread)."""
        self._rt = rt
        self._call = call
        self.response: Response | None = None
        self._iter = self._run()

    def __aiter__(self) -> AsyncIterator[Chunk]:
        return self._iter

    async def __anext__(self) -> Chunk:
        return await self._iter.__anext__()

    async def aclose(self) -> None:
        await self._iter.aclose()

    async def _run(self) -> AsyncGenerator[Chunk, None]:
        rt = self._rt
        prepared = self._call if isinstance(self._call, Call) else await self._call()
        call = self._call = await rt.accounting.agate(prepared)
        run = rt.run(call)
        while (step := run.next_step()) is not None:
            if isinstance(step, Wait):
                await rt.asleep(step.seconds)
                continue
            t = rt.attempt(run, step)
            state = _Delivered()
            deadline = _AsyncDeadline(t.time_left)
            chunks: AsyncGenerator[Chunk, None] = t.target.node.astream(t.request)
            try:
                while True:
                    try:
                        chunk = await deadline.next(chunks)
                    except StopAsyncIteration:
                        break
                    if deadline.fired or rt.clock() >= run.deadline:
                        raise DeadlineReached()  # it came after the deadline: not passed on
                    if state.accept(t, chunk):
                        yield chunk
                state.check_terminated(t.target)
            except (ProviderError, DeadlineReached) as caught:
                t.caught(caught, overdue=deadline.fired)
            finally:
                deadline.cancel()
                await chunks.aclose()
            if isinstance(outcome := _settle(rt, call, t, state), Response):
                self.response = await rt.accounting.aok(call, outcome, stream=True)
                return
            if not outcome:
                break
        rt.accounting.failed(call, run, stream=True)
        raise run.give_up()
