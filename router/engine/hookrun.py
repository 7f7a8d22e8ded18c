"""One request's hooks at work (:class:`HookRun`): ``before`` when its walk begins, ``after``
and ``after_chunk`` on each answer, ``on_attempt`` after each attempt. What each stage does
with what a hook returns is written once, as a generator of the calls to make
(:data:`~router.engine.hookcall.Flow`); :class:`~router.engine.hookcall.HookCalls` makes them,
for the sync drivers (``run``) and the async ones (``arun``). See :mod:`router.engine.hooks`
for the contract a hook meets.

The request's guardrails (:mod:`router.engine.guardrun`) run here too, innermost: after every
``before`` hook (on the messages that will be sent) and, on the way back, before every
``after`` and ``after_chunk`` hook (which read the answer with the masked values back).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Iterator,
)
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from router.engine.delivered import Delivered
from router.engine.guardrun import GuardrailRun
from router.engine.hookcall import Flow, HookCalls, Invocation
from router.engine.hooks import HookContext, HookRegistry, SharedRequest
from router.engine.replan import Replan
from router.errors import (
    HookTimeout,
    NoRouteError,
    RequestError,
    RouterError,
)
from router.routing.attempt import Try
from router.routing.call import Call
from router.routing.walk import ChainRun
from router.types import Attempt, Chunk, Message, Response

if TYPE_CHECKING:
    from router.guardrails import Finding, StreamRestorer

__all__ = ["HookRun", "hooks_of"]

_log = logging.getLogger("router.hooks")
A = TypeVar("A", Response, Chunk)  # what after / after_chunk hooks read


class HookRun:
    """The hooks (and guardrails) of one request, from the start of its walk (``started``,
    which its deadline counts from) to its end. Made by :meth:`Runtime.enter` for a call whose
    plan has hooks, or that passes guardrails (``guard``)."""

    __slots__ = (
        "_calls",
        "_contexts",
        "_guard",
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
        self,
        registry: HookRegistry | None,
        call: Call,
        clock: Callable[[], float],
        replan: Replan,
        guard: GuardrailRun | None = None,
    ) -> None:
        self.clock = clock
        self.started = clock() if call.started is None else call.started
        self.total = call.task.timeouts.total
        self.deadline = self.started + self.total
        self._replan = replan
        self._request = SharedRequest(call)
        self._guard = guard
        task = call.task.name
        chain = registry.chain(call.plan.hooks) if registry is not None else ()
        self._contexts = tuple((fns, HookContext(self._request, fns.name, task)) for fns in chain)
        self._calls = HookCalls(registry, clock, self.deadline, self.total)
        self._holds = any(fns.holds_streams for fns, _ in self._contexts)
        self._seen = 0

    @property
    def findings(self) -> tuple[Finding, ...]:
        """What the request's guardrails found (occurrences, never values)."""
        return self._guard.findings if self._guard is not None else ()

    def conceal(self, text: str) -> str:
        """``text`` without the values the guardrails masked (what a log may hold)."""
        return self._guard.conceal(text) if self._guard is not None else text

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
        # The task's system prompt, added for the caller, is still the spec's text when the
        # hooks left it first (the guardrails do not read it).
        kept = call.system_added and new.messages[:1] == call.messages[:1]
        return replace(new, hooks=self, system_added=kept)

    def _sent(self, call: Call) -> Call:
        """What the later stages show as sent: the call's messages (an embedding's texts)."""
        if call.embed is None:
            self._request.messages = list(call.messages)
        else:
            self._request.messages = [Message("user", text) for text in call.embed]
        return call

    def before(self, call: Call) -> Call:
        """Runs every ``before`` (sync), then the guardrails; the call to walk. Raises
        RequestRefused, GuardrailRefused, HookFailed, HookTimeout, or the RequestError of a
        rewrite that is not a valid call."""
        if self._contexts:
            call = self._rewritten(call, self._calls.run(self._before()))
        else:
            call = self._rewritten(call, [])
        if self._guard is not None:
            call = self._guard.check(call, self.clock, self.deadline, self.total)
        return self._sent(call)

    async def abefore(self, call: Call) -> Call:
        if self._contexts:
            call = self._rewritten(call, await self._calls.arun(self._before()))
        else:
            call = self._rewritten(call, [])
        if self._guard is not None:
            call = await self._guard.acheck(call, self.clock, self.deadline, self.total)
        return self._sent(call)

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

    def _restored(self, response: Response) -> Response:
        return self._guard.response(response) if self._guard is not None else response

    def after(self, t: Try) -> None:
        """``t``'s answer with the masked values back, then the ``after`` hooks on it (sync):
        rewrites ``t.response``, or raises ResponseRejected (the attempt fails) or
        HookFailed."""
        if t.response is None or self._request.embed:  # vectors are not read
            return
        response = self._restored(t.response)
        if self._contexts:
            response = self._calls.run(self._reading(t, "after", response))
        t.response = response

    async def aafter(self, t: Try) -> None:
        if t.response is None or self._request.embed:
            return
        response = self._restored(t.response)
        if self._contexts:
            response = await self._calls.arun(self._reading(t, "after", response))
        t.response = response

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
        """``chunks`` with the masked values back, through the hooks (sync): see
        :mod:`router.engine.hooks`."""
        restorer = self._guard.restorer() if self._guard is not None else None
        seen, held = Delivered(), self._held()
        try:
            for raw in chunks:
                given = _restored_chunk(restorer, raw)
                if given is None:
                    continue
                if not self._contexts:
                    yield given
                    continue
                chunk = self._take(
                    seen, held, self._calls.run(self._reading(t, "after_chunk", given))
                )
                if chunk is not None:
                    yield chunk
            if self._contexts:
                whole = self._whole(t, seen)
                final = self._calls.run(self._reading(t, "after", whole, keep=held is None))
                yield from self._release(held, seen, final)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    async def astream(self, t: Try, chunks: AsyncIterator[Chunk]) -> AsyncGenerator[Chunk, None]:
        restorer = self._guard.restorer() if self._guard is not None else None
        seen, held = Delivered(), self._held()
        try:
            async for raw in chunks:
                given = _restored_chunk(restorer, raw)
                if given is None:
                    continue
                if not self._contexts:
                    yield given
                    continue
                read = await self._calls.arun(self._reading(t, "after_chunk", given))
                if (chunk := self._take(seen, held, read)) is not None:
                    yield chunk
            if self._contexts:
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


def _restored_chunk(restorer: StreamRestorer | None, chunk: Chunk) -> Chunk | None:
    """``chunk`` with the masked values back; None when all its text is held back (the start
    of a placeholder) and it carries nothing else: no chunk is sent empty for it."""
    if restorer is None:
        return chunk
    out = restorer.chunk(chunk)
    if out.delta or out.reasoning or not (chunk.delta or chunk.reasoning):
        return out
    if out.finish_reason or out.usage or out.tool_calls or out.thinking_blocks:
        return out
    return None


def hooks_of(call: Call) -> HookRun | None:
    """The running hooks of ``call`` (None: it passes none): what the drivers ask."""
    hooks = call.hooks
    return hooks if isinstance(hooks, HookRun) else None
