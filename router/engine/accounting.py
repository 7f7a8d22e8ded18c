"""What happens around a request besides calling models: spend caps before it, and after it
the latency observed, the cost charged to budgets, and one telemetry record.

The drivers call :meth:`Accounting.gate` once before walking the chain and one of
:meth:`ok`, :meth:`failed` or :meth:`interrupted` once at the end (``a``-prefixed twins for
the async driver); a request its guardrails refused is recorded by :meth:`refused`. Each record
carries what the guardrails found (counts, never values). Telemetry never raises into a
request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from router.engine.latency import LatencyTracker
from router.engine.spend import BudgetKeeper
from router.errors import StreamInterrupted
from router.routing.call import Call
from router.routing.plan import cheapest_only
from router.routing.walk import ChainRun
from router.specmodel import ModelSpec, Spec
from router.state.base import StateBackend
from router.telemetry import Telemetry, records_from
from router.telemetry.records import GuardrailCount
from router.types import Attempt, Response

if TYPE_CHECKING:
    from router.guardrails import Finding


def _counts(findings: Sequence[Finding]) -> tuple[GuardrailCount, ...]:
    return tuple(GuardrailCount(f.guardrail, f.kind, f.outcome, f.count) for f in findings)


def guardrail_counts(call: Call) -> tuple[GuardrailCount, ...]:
    """What ``call``'s guardrails found, as telemetry records it."""
    return _counts(call.hooks.findings) if call.hooks is not None else ()


class Accounting:
    __slots__ = ("breaker_state", "budget", "latency", "spec", "telemetry", "wall")

    def __init__(
        self,
        spec: Spec,
        state: StateBackend,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        secrets: Iterable[str] = (),
        redact: Callable[[str], str] | None = None,
        breaker_state: Callable[[str], str] | None = None,
    ) -> None:
        self.spec = spec
        self.breaker_state = breaker_state
        self.wall = wall
        self.latency = LatencyTracker(clock)
        self.budget = BudgetKeeper(spec, state, wall)
        self.telemetry: Telemetry = Telemetry.from_config(
            dict(spec.telemetry), secrets=[s for s in secrets if s], redact=redact
        )

    def breaker_key(self, model: str, deployment: str | None) -> str:
        """The state key of ``model``'s deployment named ``deployment`` (its breaker's name)."""
        spec = self.spec.models.get(model)
        for d in spec.deployments if spec is not None else ():
            if d.name == deployment:
                return d.key
        return model

    def expected_latency(self, model: ModelSpec) -> float | None:
        return self.latency.p50(model)

    # -- before -------------------------------------------------------------------------------

    def _apply(self, call: Call, exceeded: Exception | None) -> Call:
        if exceeded is None:
            return call
        if call.task.on_budget == "refuse":
            raise exceeded
        return replace(call, plan=cheapest_only(call.plan))

    def gate(self, call: Call) -> Call:
        if not self.budget.applies(call.task):
            return call
        return self._apply(call, self.budget.check(call.task))

    async def agate(self, call: Call) -> Call:
        if not self.budget.applies(call.task):
            return call
        return self._apply(call, await self.budget.acheck(call.task))

    # -- after --------------------------------------------------------------------------------

    def _breakers(self, call: Call, attempts: Iterable[Attempt]) -> None:
        """Publish the circuit state of every deployment the request touched (metrics only),
        labelled by its state key (the model's name, or model/deployment)."""
        if self.telemetry.metrics is not None and self.breaker_state is not None:
            for key in {self.breaker_key(a.model, a.deployment) for a in attempts}:
                self.telemetry.set_breaker(key, self.breaker_state(key))

    def _observe(self, call: Call, response: Response) -> bool:
        """The latency of every model that answered; True when a spend cap is to be charged
        (the one step that needs I/O: :meth:`ok` and :meth:`aok` differ only there)."""
        for attempt in response.attempts:
            if attempt.outcome == "ok" and not attempt.cached:
                self.latency.observe(attempt.model, attempt.latency_s)
        return self.budget.applies(call.task)

    def _record_ok(self, call: Call, response: Response, stream: bool) -> Response:
        self._breakers(call, response.attempts)
        content = self.telemetry.wants_content
        shown = response
        if content and call.hooks is not None:  # the answer as the model gave it: no values
            shown = replace(response, content=call.hooks.conceal(response.content))
        self.telemetry.record(
            records_from(
                response.attempts,
                task=call.task.name,
                requested_task=call.plan.requested_task,
                response=shown,
                stream=stream,
                content=content,
                messages=call.messages,
                now=self.wall(),
                guardrails=guardrail_counts(call),
            )
        )
        return response

    def ok(self, call: Call, response: Response, *, stream: bool = False) -> Response:
        if self._observe(call, response):
            self.budget.charge(call.task, response.cost)
        return self._record_ok(call, response, stream)

    async def aok(self, call: Call, response: Response, *, stream: bool = False) -> Response:
        if self._observe(call, response):
            await self.budget.acharge(call.task, response.cost)
        return self._record_ok(call, response, stream)

    def failed(self, call: Call, run: ChainRun, *, stream: bool = False) -> None:
        self._breakers(call, run.attempts)
        self.telemetry.record(
            records_from(
                run.attempts,
                task=call.task.name,
                requested_task=call.plan.requested_task,
                latency_s=run.clock() - run.started,
                stream=stream,
                now=self.wall(),
                guardrails=guardrail_counts(call),
            )
        )

    def interrupted(
        self,
        call: Call,
        run: ChainRun,
        error: StreamInterrupted,
        cost: float | None,
        savings: float | None = None,
    ) -> None:
        self.telemetry.record(
            records_from(
                error.attempts,
                task=call.task.name,
                requested_task=call.plan.requested_task,
                interrupted=error,
                interrupted_cost=cost,
                interrupted_savings=savings,
                latency_s=run.clock() - run.started,
                stream=True,
                now=self.wall(),
                guardrails=guardrail_counts(call),
            )
        )

    def refused(self, call: Call, findings: Sequence[Finding], latency_s: float) -> None:
        """A request its guardrails refused: nothing was sent, nothing of it is logged but
        what they found."""
        self.telemetry.record(
            records_from(
                (),
                task=call.task.name,
                requested_task=call.plan.requested_task,
                latency_s=latency_s,
                stream="streaming" in call.plan.features.capabilities,
                now=self.wall(),
                guardrails=_counts(findings),
                refused=True,
            )
        )

    def close(self) -> None:
        self.telemetry.close()
