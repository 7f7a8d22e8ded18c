"""One request's hooks at work (:class:`HookRun`): ``before`` when its walk begins, ``after``
and ``after_chunk`` on each answer, ``on_attempt`` after each attempt. What each stage does
with what a hook returns is written once, as a generator of the calls to make
(:data:`~router.engine.hookcall.Flow`); :class:`~router.engine.hookcall.HookCalls` makes them,
for the sync drivers (``run``) and the async ones (``arun``). See :mod:`router.engine.hooks`
for the contract a hook meets.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Iterator,
    Sequence,
)
from dataclasses import replace
from typing import Any, TypeVar

from router.engine.delivered import Delivered
from router.engine.hookcall import Flow, HookCalls, Invocation
from router.engine.hooks import HookContext, HookRegistry, SharedRequest
from router.errors import (
    HookTimeout,
    NoRouteError,
    RequestError,
    RouterError,
)
from router.routing.attempt import Try
from router.routing.call import Call, ParamsFor, prepare_call
from router.routing.embed import prepare_embed
from router.routing.walk import ChainRun
from router.specmodel import ModelSpec, Spec
from router.types import Attempt, Chunk, Message, Response

__all__ = ["HookRun", "Replan", "embed_texts_of", "hooks_of", "replanner"]

_log = logging.getLogger("router.hooks")
A = TypeVar("A", Response, Chunk)  # what after / after_chunk hooks read

#: Checks and plans a call again with the messages and keyword arguments its hooks left.
Replan = Callable[[Call, Sequence[Any], dict[str, Any]], Call]


class HookRun:
    """The hooks of one request, from the start of its walk (``started``, which its deadline
    counts from) to its end. Made by :meth:`Runtime.enter` for a call whose plan has hooks."""

    __slots__ = (
        "_calls",
        "_contexts",
        "_holds",
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
        self._calls = HookCalls(registry, clock, self.deadline, self.total)
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
            messages, params = list(request.messages), copy.deepcopy(request.params)
            result = yield fns, "before", fns.before, (ctx,), None
            if result is not None:
                raise self._calls.failed(
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
        if new.embed is None:  # what is sent, as the later stages show it
            request.messages = list(new.messages)
        else:
            request.messages = [Message("user", text) for text in new.embed]
        return replace(new, hooks=self)

    def before(self, call: Call) -> Call:
        """Runs every ``before`` (sync); the call to walk. Raises RequestRefused, HookFailed,
        HookTimeout, or the RequestError of a rewrite that is not a valid call."""
        return self._rewritten(call, self._calls.run(self._before()))

    async def abefore(self, call: Call) -> Call:
        return self._rewritten(call, await self._calls.arun(self._before()))

    # -- answers ------------------------------------------------------------------------------

    def _reading(self, t: Try, stage: str, value: A, keep: bool = False) -> Flow[A]:
        """The ``after`` (or ``after_chunk``) hooks on ``value`` (a Response, or a Chunk), in
        reverse order: each may return a new one or None; ``keep``: what they return is not
        used (the text of a stream that flows was delivered)."""
        kind = type(value)
        for fns, ctx in reversed(self._contexts):
            fn = fns.after if stage == "after" else fns.after_chunk
            if fn is None:
                continue
            result = yield fns, stage, fn, (ctx, value), t.target
            if result is None or keep:
                continue
            if not isinstance(result, kind):
                got = type(result).__name__
                raise self._calls.failed(
                    fns, stage, f"it returned {got}: expected a {kind.__name__} or None"
                )
            value = result
        return value

    def after(self, t: Try) -> None:
        """The ``after`` hooks on ``t``'s answer (sync): rewrites ``t.response``, or raises
        ResponseRejected (the attempt fails) or HookFailed."""
        if t.response is not None and not self._request.embed:  # vectors are not read
            t.response = self._calls.run(self._reading(t, "after", t.response))

    async def aafter(self, t: Try) -> None:
        if t.response is not None and not self._request.embed:
            t.response = await self._calls.arun(self._reading(t, "after", t.response))

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

    def _held(self) -> list[Chunk] | None:
        """Where a stream's chunks wait when a hook reads whole answers only (else None)."""
        return [] if self._holds else None

    def _take(self, seen: Delivered, held: list[Chunk] | None, chunk: Chunk) -> Chunk | None:
        """A chunk as the hooks left it: to send now, or (None) held back until the end."""
        seen.admit(chunk)
        if held is None:
            return chunk
        held.append(chunk)
        return None

    def _whole(self, t: Try, seen: Delivered) -> Response:
        """The stream's whole answer, once it ended (only a complete stream is read whole)."""
        seen.check_terminated(t.target)
        return seen.assembled(t.target, t.elapsed())

    def stream(self, t: Try, chunks: Iterator[Chunk]) -> Iterator[Chunk]:
        """``chunks`` through the hooks (sync): see :mod:`router.engine.hooks`."""
        seen, held = Delivered(), self._held()
        try:
            for raw in chunks:
                chunk = self._take(
                    seen, held, self._calls.run(self._reading(t, "after_chunk", raw))
                )
                if chunk is not None:
                    yield chunk
            whole = self._whole(t, seen)
            final = self._calls.run(self._reading(t, "after", whole, keep=held is None))
            yield from self._release(held, seen, final)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    async def astream(self, t: Try, chunks: AsyncIterator[Chunk]) -> AsyncGenerator[Chunk, None]:
        seen, held = Delivered(), self._held()
        try:
            async for raw in chunks:
                read = await self._calls.arun(self._reading(t, "after_chunk", raw))
                if (chunk := self._take(seen, held, read)) is not None:
                    yield chunk
            whole = self._whole(t, seen)
            final = await self._calls.arun(self._reading(t, "after", whole, keep=held is None))
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
                self._calls.invoke(call)
            except RouterError as exc:
                self._logged(call, exc)

    async def aobserve(self, run: ChainRun) -> None:
        for call in self._observe(self._news(run)):
            try:
                await self._calls.ainvoke(call)
            except RouterError as exc:
                self._logged(call, exc)

    def _logged(self, call: Invocation, exc: RouterError) -> None:
        what = "overran the request's deadline" if isinstance(exc, HookTimeout) else str(exc)
        _log.warning(
            "hook %r (on_attempt): %s; observers never change a request", call[0].name, what
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
