"""One call of a hook, made for a request (:class:`HookCalls`): where it runs (a plain
``def`` in a worker thread, or on the caller's thread when ``inline``; an ``async def`` on the
caller's event loop, or the Router's hook loop for a sync call), how long it may take (until
the request's deadline), and what its failure means (the refusal of its stage, HookFailed or
HookTimeout, never the hook's own exception, and nothing chained to it). The stages
(:mod:`router.engine.hookrun`) are generators of calls (:data:`Flow`) that :meth:`HookCalls.run`
and :meth:`HookCalls.arun` carry out.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

from router.aio.deadline import DeadlineReached, within
from router.engine.hooks import HookFns, HookRegistry, where_raised
from router.errors import (
    HookFailed,
    HookTimeout,
    RequestRefused,
    ResponseRejected,
    RouterError,
)
from router.routing.call import Target

__all__ = ["Flow", "HookCalls", "Invocation"]

T = TypeVar("T")

#: One call to make: the hook, its stage (the method's name), the method, its arguments, and
#: the target whose answer it reads (None before the request).
Invocation = tuple[HookFns, str, Callable[..., Any], tuple[Any, ...], Target | None]
Flow = Generator[Invocation, Any, T]


class _Overran(Exception):
    """An ``async def`` hook on a sync call outlived the time it was given."""


async def _bounded(pending: Awaitable[Any], seconds: float) -> Any:
    """A sync call's ``async def`` hook, on the hook loop (:attr:`HookRegistry.loop`)."""
    try:
        return await within(seconds, pending)
    except DeadlineReached:
        raise _Overran() from None


class HookCalls:
    """The hook calls of one request, each bounded by its deadline (``deadline``, on
    ``clock``; ``total`` is ``timeouts.total``, for the words of a HookTimeout)."""

    __slots__ = ("clock", "deadline", "registry", "total")

    def __init__(
        self,
        registry: HookRegistry | None,
        clock: Callable[[], float],
        deadline: float,
        total: float,
    ) -> None:
        self.registry = registry
        self.clock = clock
        self.deadline = deadline
        self.total = total

    def run(self, flow: Flow[T]) -> T:
        try:
            call = next(flow)
            while True:
                call = flow.send(self.invoke(call))
        except StopIteration as done:
            result: T = done.value
            return result

    async def arun(self, flow: Flow[T]) -> T:
        try:
            call = next(flow)
            while True:
                call = flow.send(await self.ainvoke(call))
        except StopIteration as done:
            result: T = done.value
            return result

    def invoke(self, call: Invocation) -> Any:
        """One hook call from a sync driver: a plain one in a worker thread (or, ``inline``,
        here), an ``async def`` on the hook loop; waited for until the request's deadline."""
        fns, stage, fn, args, _ = call
        left = self.deadline - self.clock()
        if left <= 0:
            raise self.timeout(fns, stage)
        registry = self._registry()
        future: Any = None
        error: RouterError | None = None
        try:
            if stage in fns.asynchronous:
                pending = fn(*args)
            elif fns.inline:
                pending = fn(*args)
                if self.clock() > self.deadline:
                    raise _Overran()
            else:
                future = registry.pool.submit(contextvars.copy_context().run, fn, *args)
                pending = future.result(timeout=left)
            if inspect.isawaitable(pending):  # an async def, or a def that returned one
                left = self.deadline - self.clock()
                future = asyncio.run_coroutine_threadsafe(_bounded(pending, left), registry.loop)
                pending = future.result(timeout=left + 1.0)  # within() ends it at `left`
            result = pending
        except TimeoutError as exc:
            if future is None or future.done():  # the hook's own TimeoutError
                error = self.typed(call, exc)
            else:
                future.cancel()
                error = self.timeout(fns, stage)
        except _Overran:
            error = self.timeout(fns, stage)
        except Exception as exc:
            error = self.typed(call, exc)
        if error is not None:
            raise error  # out of the handler: the hook's exception is not chained to it
        return result

    async def ainvoke(self, call: Invocation) -> Any:
        """One hook call from an async driver: an ``async def`` on this loop, a plain one in
        a worker thread (or, ``inline``, here), bounded by the request's deadline."""
        fns, stage, fn, args, _ = call
        left = self.deadline - self.clock()
        if left <= 0:
            raise self.timeout(fns, stage)
        error: RouterError | None = None
        try:
            if stage in fns.asynchronous or fns.inline:
                pending = fn(*args)
                if fns.inline and self.clock() > self.deadline:
                    raise _Overran()
            else:
                loop = asyncio.get_running_loop()
                ctx = contextvars.copy_context()
                job = functools.partial(ctx.run, fn, *args)
                pending = await within(left, loop.run_in_executor(self._registry().pool, job))
            if inspect.isawaitable(pending):  # an async def, or a def that returned one
                pending = await within(self.deadline - self.clock(), pending)
            result = pending
        except (DeadlineReached, _Overran):
            error = self.timeout(fns, stage)
        except Exception as exc:
            error = self.typed(call, exc)
        if error is not None:
            raise error
        return result

    def _registry(self) -> HookRegistry:
        """Where hook calls run. (A request passing guardrails and no hook makes no call.)"""
        if self.registry is None:
            raise LookupError("no hook is registered")
        return self.registry

    def typed(self, call: Invocation, exc: Exception) -> RouterError:
        """What ``exc``, raised by a hook, ends in: the refusal of its stage, or HookFailed."""
        fns, stage, _, _, target = call
        if isinstance(exc, (RequestRefused, ResponseRejected)):
            code = exc.code
            if stage == "before":
                return RequestRefused(exc.message, code=code, hook=fns.name)
            if stage in ("after", "after_chunk") and target is not None:
                return ResponseRejected(
                    exc.message,
                    code=code,
                    hook=fns.name,
                    provider=target.provider,
                    model=target.model.name,
                )
        return self.failed(fns, stage, f"it raised {type(exc).__name__}{where_raised(exc)}")

    def failed(self, fns: HookFns, stage: str, why: str) -> HookFailed:
        return HookFailed(f"hook '{fns.name}' failed in {stage}: {why}", hook=fns.name, stage=stage)

    def timeout(self, fns: HookFns, stage: str) -> HookTimeout:
        return HookTimeout(
            f"hook '{fns.name}' was still running in {stage} when the request's deadline "
            f"({self.total:g}s) came",
            hook=fns.name,
            stage=stage,
        )
