"""One request's hooks at work (:class:`HookRun`): ``before`` when its walk begins, ``after``
and ``after_chunk`` on each answer, ``on_attempt`` after each attempt. What each stage does
with what a hook returns is written once, as a generator of the calls to make
(:data:`Flow`); :meth:`HookRun._run` makes them in worker threads for the sync drivers,
:meth:`HookRun._arun` on the event loop (and its threads) for the async ones. See
:mod:`router.engine.hooks` for the contract a hook meets.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
import os
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Sequence,
)
from dataclasses import replace
from typing import Any, TypeVar

from router.aio.deadline import DeadlineReached, within
from router.engine.delivered import Delivered
from router.engine.hooks import HookContext, HookFns, HookRegistry, SharedRequest
from router.errors import (
    HookFailed,
    HookTimeout,
    NoRouteError,
    RequestError,
    RequestRefused,
    ResponseRejected,
    RouterError,
)
from router.routing.attempt import Try
from router.routing.call import Call, ParamsFor, Target, prepare_call
from router.routing.embed import prepare_embed
from router.routing.walk import ChainRun
from router.specmodel import ModelSpec, Spec
from router.types import Attempt, Chunk, Message, Response

__all__ = ["HookRun", "Replan", "embed_texts_of", "hooks_of", "replanner"]

_log = logging.getLogger("router.hooks")
T = TypeVar("T")

#: One call to make: the hook, its stage (the method's name), the method, its arguments, and
#: the target whose answer it reads (None before the request).
Invocation = tuple[HookFns, str, Callable[..., Any], tuple[Any, ...], Target | None]
Flow = Generator[Invocation, Any, T]
#: Checks and plans a call again with the messages and keyword arguments its hooks left.
Replan = Callable[[Call, Sequence[Any], dict[str, Any]], Call]


class _Overran(Exception):
    """An ``async def`` hook on a sync call outlived the time it was given."""


async def _bounded(pending: Awaitable[Any], seconds: float) -> Any:
    """A sync call's ``async def`` hook, on the hook loop (:attr:`HookRegistry.loop`)."""
    try:
        return await within(seconds, pending)
    except DeadlineReached:
        raise _Overran() from None


def _where(exc: BaseException) -> str:
    """`` at file.py:12``: the innermost line the exception passed (never its message)."""
    tb = exc.__traceback__
    if tb is None:
        return ""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"


class HookRun:
    """The hooks of one request, from the start of its walk (``started``, which its deadline
    counts from) to its end. Made by :meth:`Runtime.enter` for a call whose plan has hooks."""

    __slots__ = (
        "_contexts",
        "_holds",
        "_registry",
        "_replan",
        "_request",
        "_seen",
        "clock",
        "deadline",
        "started",
        "total",
    )

    def __init__(
        self, registry: HookRegistry, call: Call, clock: Callable[[], float], replan: Replan
    ) -> None:
        self.clock = clock
        self.started = clock()
        self.total = call.task.timeouts.total
        self.deadline = self.started + self.total
        self._registry = registry
        self._replan = replan
        self._request = SharedRequest(call)
        task = call.task.name
        self._contexts = tuple(
            (fns, HookContext(self._request, fns.name, task))
            for fns in registry.chain(call.plan.hooks)
        )
        self._holds = any(fns.holds_streams for fns, _ in self._contexts)
        self._seen = 0

    # -- before -------------------------------------------------------------------------------

    def _before(self) -> Flow[list[str]]:
        """Every ``before`` in order; the names of those that changed the request."""
        request = self._request
        changed = []
        for fns, ctx in self._contexts:
            if fns.before is None:
                continue
            messages, params = list(request.messages), dict(request.params)
            result = yield fns, "before", fns.before, (ctx,), None
            if result is not None:
                raise self._failed(
                    fns,
                    "before",
                    f"it returned {type(result).__name__}: a before hook changes ctx.messages "
                    "or ctx.params and returns None",
                )
            if request.messages != messages or request.params != params:
                changed.append(fns.name)
        return changed

    def _rewritten(self, call: Call, changed: list[str]) -> Call:
        """The call as its hooks left it, checked and planned again under its rule."""
        request = self._request
        request.stage = "walk"
        if not changed:
            return replace(call, hooks=self)
        error: RequestError | None = None
        try:
            new = self._replan(call, request.messages, request.params)
        except RequestError as exc:
            by = ", ".join(f"'{n}'" for n in changed)
            said = f"the request as hook {by} rewrote it: {exc}"
            if isinstance(exc, NoRouteError):
                error = NoRouteError(said, task=exc.task, skipped=exc.skipped)
            else:
                error = RequestError(said, argument=exc.argument)
        if error is not None:
            raise error  # out of the handler: the first error is not chained to it
        request.messages = list(new.embed) if new.embed is not None else list(new.messages)
        return replace(new, hooks=self)

    def before(self, call: Call) -> Call:
        """Runs every ``before`` (sync); the call to walk. Raises RequestRefused, HookFailed,
        HookTimeout, or the RequestError of a rewrite that is not a valid call."""
        return self._rewritten(call, self._run(self._before()))

    async def abefore(self, call: Call) -> Call:
        return self._rewritten(call, await self._arun(self._before()))

    # -- answers ------------------------------------------------------------------------------

    def _after(self, t: Try, response: Response, stream: bool = False) -> Flow[Response]:
        for fns, ctx in reversed(self._contexts):
            if fns.after is None:
                continue
            result = yield fns, "after", fns.after, (ctx, response), t.target
            if result is None or stream:
                continue  # a delivered stream's text is not rewritten
            if not isinstance(result, Response):
                raise self._failed(
                    fns,
                    "after",
                    f"it returned {type(result).__name__}: expected a Response or None",
                )
            response = result
        return response

    def after(self, t: Try) -> None:
        """The ``after`` hooks on ``t``'s answer (sync): rewrites ``t.response``, or raises
        ResponseRejected (the attempt fails) or HookFailed."""
        if t.response is not None:
            t.response = self._run(self._after(t, t.response))

    async def aafter(self, t: Try) -> None:
        if t.response is not None:
            t.response = await self._arun(self._after(t, t.response))

    def _chunk(self, t: Try, chunk: Chunk) -> Flow[Chunk]:
        for fns, ctx in reversed(self._contexts):
            if fns.after_chunk is None:
                continue
            result = yield fns, "after_chunk", fns.after_chunk, (ctx, chunk), t.target
            if result is None:
                continue
            if not isinstance(result, Chunk):
                raise self._failed(
                    fns,
                    "after_chunk",
                    f"it returned {type(result).__name__}: expected a Chunk or None",
                )
            chunk = result
        return chunk

    def _release(self, held: list[Chunk] | None, seen: Delivered, final: Response) -> list[Chunk]:
        """What a held-back stream sends once its ``after`` hooks passed the whole answer: its
        chunks, or the rewritten answer in one chunk (reasoning chunks kept before it)."""
        if held is None:
            return []
        if final.content == "".join(seen.parts) and final.tool_calls == seen.tool_calls:
            return held
        last = next((c for c in reversed(held) if c.finish_reason is not None), held[-1])
        out = [replace(c, delta="") for c in held if c.reasoning and c is not last]
        out.append(
            replace(
                last,
                delta=final.content,
                finish_reason=final.finish_reason,
                tool_calls=final.tool_calls,
                usage=seen.usage,
            )
        )
        return out

    def stream(self, t: Try, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        """``chunks`` through the hooks (sync): see :mod:`router.engine.hooks`."""
        seen = Delivered()
        held: list[Chunk] | None = [] if self._holds else None
        try:
            for raw in chunks:
                chunk = self._run(self._chunk(t, raw))
                seen.admit(chunk)
                if held is None:
                    yield chunk
                else:
                    held.append(chunk)
            seen.check_terminated(t.target)
            whole = seen.assembled(t.target, t.elapsed())
            final = self._run(self._after(t, whole, stream=held is None))
            yield from self._release(held, seen, final)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    async def astream(self, t: Try, chunks: AsyncIterator[Chunk]) -> AsyncGenerator[Chunk, None]:
        seen = Delivered()
        held: list[Chunk] | None = [] if self._holds else None
        try:
            async for raw in chunks:
                chunk = await self._arun(self._chunk(t, raw))
                seen.admit(chunk)
                if held is None:
                    yield chunk
                else:
                    held.append(chunk)
            seen.check_terminated(t.target)
            whole = seen.assembled(t.target, t.elapsed())
            final = await self._arun(self._after(t, whole, stream=held is None))
            for chunk in self._release(held, seen, final):
                yield chunk
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()

    # -- observers ----------------------------------------------------------------------------

    def _news(self, run: ChainRun) -> list[Attempt]:
        self._request.run = run
        new = run.attempts[self._seen :]
        self._seen = len(run.attempts)
        return new

    def _observe(self, attempts: list[Attempt]) -> Iterator[Invocation]:
        for attempt in attempts:
            for fns, ctx in self._contexts:
                if fns.on_attempt is not None:
                    yield fns, "on_attempt", fns.on_attempt, (ctx, attempt), None

    def observe(self, run: ChainRun) -> None:
        """``on_attempt`` for each attempt recorded since the last call (sync). Never raises."""
        for call in self._observe(self._news(run)):
            try:
                self._invoke(call)
            except RouterError as exc:
                self._logged(call, exc)

    async def aobserve(self, run: ChainRun) -> None:
        for call in self._observe(self._news(run)):
            try:
                await self._ainvoke(call)
            except RouterError as exc:
                self._logged(call, exc)

    def _logged(self, call: Invocation, exc: RouterError) -> None:
        what = "overran the request's deadline" if isinstance(exc, HookTimeout) else str(exc)
        _log.warning(
            "hook %r (on_attempt): %s; observers never change a request", call[0].name, what
        )

    # -- making the calls ---------------------------------------------------------------------

    def _run(self, flow: Flow[T]) -> T:
        try:
            call = next(flow)
            while True:
                call = flow.send(self._invoke(call))
        except StopIteration as done:
            result: T = done.value
            return result

    async def _arun(self, flow: Flow[T]) -> T:
        try:
            call = next(flow)
            while True:
                call = flow.send(await self._ainvoke(call))
        except StopIteration as done:
            result: T = done.value
            return result

    def _invoke(self, call: Invocation) -> Any:
        """One hook call from a sync driver: a plain one in a worker thread (or, ``inline``,
        here), an ``async def`` on the hook loop; waited for until the request's deadline."""
        fns, stage, fn, args, _ = call
        left = self.deadline - self.clock()
        if left <= 0:
            raise self._timeout(fns, stage)
        registry = self._registry
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
                error = self._typed(call, exc)
            else:
                future.cancel()
                error = self._timeout(fns, stage)
        except _Overran:
            error = self._timeout(fns, stage)
        except Exception as exc:
            error = self._typed(call, exc)
        if error is not None:
            raise error  # out of the handler: the hook's exception is not chained to it
        return result

    async def _ainvoke(self, call: Invocation) -> Any:
        """One hook call from an async driver: an ``async def`` on this loop, a plain one in
        a worker thread (or, ``inline``, here), bounded by the request's deadline."""
        fns, stage, fn, args, _ = call
        left = self.deadline - self.clock()
        if left <= 0:
            raise self._timeout(fns, stage)
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
                pending = await within(left, loop.run_in_executor(self._registry.pool, job))
            if inspect.isawaitable(pending):  # an async def, or a def that returned one
                pending = await within(self.deadline - self.clock(), pending)
            result = pending
        except (DeadlineReached, _Overran):
            error = self._timeout(fns, stage)
        except Exception as exc:
            error = self._typed(call, exc)
        if error is not None:
            raise error
        return result

    # -- what a hook's failure means ----------------------------------------------------------

    def _typed(self, call: Invocation, exc: Exception) -> RouterError:
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
        return self._failed(fns, stage, f"it raised {type(exc).__name__}{_where(exc)}")

    def _failed(self, fns: HookFns, stage: str, why: str) -> HookFailed:
        return HookFailed(f"hook '{fns.name}' failed in {stage}: {why}", hook=fns.name, stage=stage)

    def _timeout(self, fns: HookFns, stage: str) -> HookTimeout:
        return HookTimeout(
            f"hook '{fns.name}' was still running in {stage} when the request's deadline "
            f"({self.total:g}s) came",
            hook=fns.name,
            stage=stage,
        )


def embed_texts_of(messages: Sequence[Any]) -> tuple[str, ...]:
    """An embedding call's texts from the messages its hooks left: one user message each."""
    texts = []
    for i, m in enumerate(messages):
        content = m.content if isinstance(m, Message) else None
        if not isinstance(content, str):
            raise RequestError(
                f"input[{i}]: expected a user message with text (an embedding's input is text)",
                argument="input",
            )
        texts.append(content)
    return tuple(texts)


def replanner(
    spec: Spec,
    unavailable: Callable[[ModelSpec], str | None],
    params_for: ParamsFor,
    latency: Callable[[ModelSpec], float | None],
) -> Replan:
    """How a call its hooks rewrote is checked and planned again: as any call, under the rule
    the caller's request matched (never a rule that would let it reach other models)."""

    def replan(call: Call, messages: Sequence[Any], params: dict[str, Any]) -> Call:
        plan = call.plan
        if call.embed is not None:
            return prepare_embed(
                spec,
                plan.requested_task,
                embed_texts_of(messages),
                call.dimensions,
                params,
                unavailable=unavailable,
                params_for=params_for,
                latency=latency,
                rule=plan.rule,
            )
        return prepare_call(
            spec,
            plan.requested_task,
            messages,
            None,
            params,
            stream="streaming" in plan.features.capabilities,
            unavailable=unavailable,
            params_for=params_for,
            latency=latency,
            rule=plan.rule,
        )

    return replan


def hooks_of(call: Call) -> HookRun | None:
    """The running hooks of ``call`` (None: it passes none): what the drivers ask."""
    hooks = call.hooks
    return hooks if isinstance(hooks, HookRun) else None
