"""The guardrails on the request path. :class:`Guarding` is a spec's part, made once per Router
when some task or rule names a guardrail (the :class:`~router.guardrails.Catalog`, built then,
and the worker thread a large request is checked in); :class:`GuardrailRun` is one request's:

- ``check``/``acheck``: once the ``before`` hooks have left the request (so the guardrails read
  what will be sent, and a hook cannot add a secret behind them), its messages pass its
  guardrails. A refusal raises :class:`~router.errors.GuardrailRefused` before anything is sent;
  masked messages replace the call's (its plan is kept: it was made on the caller's request,
  so a rule's confinement holds). Read: the caller's messages (or, of an embedding call, each
  text as a user message), never the task's ``system_prompt`` the router added. On an event
  loop, more than ``THREAD_ABOVE_CHARS`` of text is checked in a worker thread; either way the
  check is bounded by the request's deadline (an overrun: HookTimeout, hook ``guardrails``; a
  guardrail that raised, which none should: HookFailed, its type and line only).
- ``response``/``stream``: each answer, before any ``after`` or ``after_chunk`` hook reads it,
  gets this request's masked values back (a stream through a restorer of its own per attempt,
  which holds back only what may be the start of a placeholder).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from router.aio.deadline import DeadlineReached, within
from router.aio.workers import Workers
from router.engine.hooks import where_raised
from router.errors import GuardrailRefused, HookFailed, HookTimeout
from router.routing.call import Call
from router.types import Message, Response

if TYPE_CHECKING:
    from router.guardrails import Catalog, Decision, Finding, Guardrails, StreamRestorer
    from router.specmodel import Spec

__all__ = ["GUARDRAILS_HOOK", "Guarding", "GuardrailRun"]

#: The name a HookTimeout gives the guardrails' check (they run where the hooks' ``before`` do).
GUARDRAILS_HOOK = "guardrails"


class Guarding:
    """A spec's guardrails, built once (:meth:`of`), and the threads large requests are
    checked in (started on first use)."""

    __slots__ = ("_workers", "catalog")

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._workers = Workers(4, "router-guardrails")

    @classmethod
    def of(cls, spec: Spec) -> Guarding | None:
        """The spec's guardrails, or None when no task or rule names one (then nothing of
        this runs, and the guardrails' package is not even imported)."""
        if not any(t.guardrails for t in spec.tasks.values()) and not any(
            r.guardrails for r in spec.rules
        ):
            return None
        from router.guardrails import Catalog  # built with the Router, never on a request

        return cls(Catalog.from_spec(spec))

    def select(self, call: Call) -> Guardrails:
        """The guardrails ``call`` passes (falsy: none), in the order they run."""
        return self.catalog.for_request(call.plan.task, call.plan.rule)

    @property
    def pool(self) -> ThreadPoolExecutor:
        return self._workers.pool

    def close(self) -> None:
        self._workers.close()


def _read(call: Call) -> tuple[int, tuple[Message, ...]]:
    """The messages the guardrails read, and how many of the call's come before them (the
    system prompt the router added)."""
    if call.embed is not None:
        return 0, tuple(Message("user", text) for text in call.embed)
    skip = 1 if call.system_added else 0
    return skip, call.messages[skip:]


def _embedding_argument(argument: str) -> str:
    """``messages[2].content`` as an embedding call names it: ``input[2]``."""
    if argument.startswith("messages["):
        return "input[" + argument[len("messages[") :].split("]", 1)[0] + "]"
    return argument


class GuardrailRun:
    """One request's guardrails: the check, what it decided, and the answers restored."""

    __slots__ = ("_guarding", "decision", "guardrails")

    def __init__(self, guarding: Guarding, guardrails: Guardrails) -> None:
        self._guarding = guarding
        self.guardrails = guardrails
        self.decision: Decision | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.decision.findings if self.decision is not None else ()

    def _overran(self, total: float) -> HookTimeout:
        names = ", ".join(self.guardrails.names)
        return HookTimeout(
            f"the guardrails ({names}) were still checking the request when its deadline "
            f"({total:g}s) came; nothing was sent",
            hook=GUARDRAILS_HOOK,
            stage="before",
        )

    def _checked(self, messages: tuple[Message, ...]) -> Decision | HookFailed:
        """The decision; or, should a guardrail raise (a bug: each is bounded and total), the
        HookFailed to end the request with (its type and line, never its words)."""
        try:
            return self.guardrails.check(messages)
        except Exception as exc:
            return HookFailed(
                f"the guardrails ({', '.join(self.guardrails.names)}) failed: it raised "
                f"{type(exc).__name__}{where_raised(exc)}; nothing was sent",
                hook=GUARDRAILS_HOOK,
                stage="before",
            )

    def _apply(self, call: Call, skip: int, decision: Decision | HookFailed) -> Call:
        """The call to send, or the refusal raised (outside any handler: nothing chained)."""
        if isinstance(decision, HookFailed):
            raise decision
        self.decision = decision
        refusal = decision.refusal
        if refusal is not None:
            if call.embed is not None:
                refusal = replace(refusal, argument=_embedding_argument(refusal.argument))
            error: GuardrailRefused = refusal.error()
            raise error
        if not decision.changed:
            return call
        if call.embed is not None:
            texts = tuple(m.text for m in decision.messages)
            return replace(call, embed=texts, messages=(Message("user", "\n".join(texts)),))
        return replace(call, messages=(*call.messages[:skip], *decision.messages))

    def check(self, call: Call, clock: Callable[[], float], deadline: float, total: float) -> Call:
        """On the caller's thread (a sync call has no event loop to keep free); an overrun
        of the deadline fails once the check returns (pure CPU cannot be interrupted)."""
        skip, messages = _read(call)
        decision = self._checked(messages)
        if clock() > deadline:
            raise self._overran(total)
        return self._apply(call, skip, decision)

    async def acheck(
        self, call: Call, clock: Callable[[], float], deadline: float, total: float
    ) -> Call:
        """On the event loop when the text is small; in a worker thread, waited for until the
        deadline, when it is large (:meth:`Guardrails.wants_thread`)."""
        skip, messages = _read(call)
        left = deadline - clock()
        if left <= 0:
            raise self._overran(total)
        if self.guardrails.wants_thread(messages):
            loop = asyncio.get_running_loop()
            job = loop.run_in_executor(self._guarding.pool, self._checked, messages)
            try:
                decision = await within(left, job)
            except DeadlineReached:
                decision = None
            if decision is None:
                raise self._overran(total)
        else:
            decision = self._checked(messages)
        if clock() > deadline:
            raise self._overran(total)
        return self._apply(call, skip, decision)

    # -- answers ------------------------------------------------------------------------------

    def response(self, response: Response) -> Response:
        """``response`` with this request's masked values back (text, reasoning, tool calls)."""
        decision = self.decision
        if decision is None or not decision.restore:
            return response
        return decision.restore.response(response)

    def restorer(self) -> StreamRestorer | None:
        """A restorer for one streamed attempt (its own: what one attempt held back never
        reaches another), or None when nothing restorable was masked."""
        decision = self.decision
        if decision is None or not decision.restore:
            return None
        return decision.restore.stream()

    def conceal(self, text: str) -> str:
        """An answer as the model gave it (placeholders, not values), for content logging."""
        decision = self.decision
        return decision.restore.conceal(text) if decision is not None else text
