"""The chain walk: one request going through its plan, as pure bookkeeping shared by the sync
and async drivers. It says what to do next (``Go`` to a target with a timeout, ``Wait`` so
long, or ``None``: done) and what each outcome means (retry, move on, stop).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from router.errors import (
    AllModelsFailed,
    ContentFiltered,
    NoRouteError,
    ProviderError,
    ProviderTimeout,
)
from router.routing.call import Call, Target, cost_of
from router.routing.retry import RetryShare, backoff
from router.specmodel import Spec
from router.types import Attempt, Response

__all__ = ["ChainRun", "Go", "Wait"]


@dataclass(slots=True)
class _Entry:
    """A target waiting its turn: how often it was sent, and when it may go next."""

    target: Target
    sends: int = 0
    not_before: float = 0.0
    sticky: bool = False  # later entries wait for this one (same_model retry, on_limit: wait)
    circuit: bool = False  # waiting for an open circuit
    retry: bool = False  # a retry of a sent attempt: spends the retry share when it goes


@dataclass(frozen=True, slots=True)
class Go:
    target: Target
    timeout: float


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


class ChainRun:
    """One request walking its chain. Pure bookkeeping: it says what to do next (``Go`` to a
    target with a timeout, ``Wait`` so long, or ``None``: done), and what each outcome means.

    - Targets are tried in chain order; a failure whose kind is in the task's ``fallback_on``
      moves on, any other stops the chain (a retry of the same model may still be due).
    - A retriable failure schedules a retry of the same model after its backoff, or after the
      provider's ``Retry-After`` (never one longer than ``retry.max_retry_after``), within the
      retry budget. With ``prefer: fallback`` it waits at the end of the line, so every other
      model is tried first; with ``same_model`` the chain waits for it.
    - A local refusal (limit reached, open circuit, Retry-After hold) sends nothing and puts the
      model back with the time it frees up; ``on_limit: wait`` keeps its place in line.
    - When nothing is ready, the run waits for the earliest target that frees up before the
      deadline, except when every remaining target is an open circuit and the task says
      ``on_all_open: fail``.

    ``clock`` is monotonic seconds, injected in tests.
    """

    __slots__ = (
        "_inflight",
        "_min_window",
        "_pending",
        "attempts",
        "budget",
        "call",
        "clock",
        "deadline",
        "errors",
        "retry_after",
        "spec",
        "started",
        "stop_reason",
        "targets",
    )

    def __init__(
        self,
        spec: Spec,
        call: Call,
        targets: Mapping[str, Target],
        clock: Callable[[], float],
        budget: RetryShare | None = None,
    ) -> None:
        self.spec = spec
        self.call = call
        self.targets = targets
        self.clock = clock
        self.budget = budget
        self.started = clock()
        self.deadline = self.started + call.task.timeouts.total
        self._pending = [_Entry(targets[c.model]) for c in call.plan.chain]
        self._min_window: int | None = None
        self._inflight: dict[str, _Entry] = {}
        self.attempts: list[Attempt] = []
        self.errors: list[ProviderError] = []
        self.stop_reason: str | None = None
        self.retry_after: float | None = None
        if budget is not None:
            budget.request()

    # -- what next ----------------------------------------------------------------------------

    def _fits(self, entry: _Entry) -> bool:
        window = entry.target.model.context_window
        return self._min_window is None or window is None or window > self._min_window

    def next_step(self) -> Go | Wait | None:
        """What the driver should do next."""
        self._pending = [e for e in self._pending if self._fits(e)]
        if not self._pending:
            return None
        now = self.clock()
        remaining = self.deadline - now
        if remaining <= 0:
            self._out_of_time()
            return None
        chosen: _Entry | None = None
        blocker: _Entry | None = None
        refused: list[_Entry] = []
        for entry in self._pending:
            if entry.not_before <= now:
                if entry.retry and self.budget is not None and not self.budget.try_retry():
                    refused.append(entry)  # the retry share is spent when a retry goes
                    continue
                chosen = entry
                break
            if entry.sticky:
                if entry.not_before < self.deadline:
                    blocker = entry
                    break
                entry.sticky = False  # frees up only after the deadline: the others go first
        for entry in refused:
            self._pending.remove(entry)
        if refused and not self._pending:
            self.stop_reason = "the retry share is spent (retry.budget): no retry was sent"
            return None
        if chosen is not None:
            self._pending.remove(chosen)
            chosen.retry = False  # its share is spent: a local refusal does not spend it again
            per_attempt = self.call.timeout or self.spec.attempt_timeout(
                self.call.task, chosen.target.model
            )
            self._inflight[chosen.target.model.name] = chosen
            return Go(chosen.target, min(per_attempt, remaining))
        waiting = [blocker] if blocker is not None else self._pending
        earliest = min(waiting, key=lambda e: e.not_before)
        wait = earliest.not_before - now
        if all(e.circuit for e in waiting) and self.call.task.on_all_open == "fail":
            self.retry_after = wait
            self.stop_reason = (
                f"every remaining model's circuit is open; retry in {wait:.1f}s (on_all_open: fail)"
            )
            self._pending.clear()
            return None
        if wait >= remaining:
            self.retry_after = wait
            self.stop_reason = (
                f"the next model frees up in {wait:.1f}s, after the request's deadline "
                f"({remaining:.1f}s left)"
            )
            self._pending.clear()
            return None
        return Wait(wait)

    def _out_of_time(self) -> None:
        target = self._pending[0].target
        self._record(
            target,
            ProviderTimeout(
                f"the request's deadline of {self.call.task.timeouts.total:g}s passed "
                "before this model could be tried",
                provider=target.provider,
                model=target.model.name,
            ),
            0.0,
            "skipped",
        )
        self.stop_reason = "the request's deadline passed"
        self._pending.clear()

    def overdue(self, target: Target) -> ProviderTimeout:
        """The failure of an attempt the request's deadline ended while it was still running
        (a stream still sending, or silent, when ``timeouts.total`` ran out)."""
        return ProviderTimeout(
            f"the request's deadline of {self.call.task.timeouts.total:g}s passed while "
            "this model was still answering",
            provider=target.provider,
            model=target.model.name,
        )

    # -- outcomes -----------------------------------------------------------------------------

    def _record(
        self, target: Target, error: ProviderError, latency: float, outcome: str = "error"
    ) -> None:
        self.errors.append(error)
        self.attempts.append(
            Attempt(target.model.name, target.provider, outcome, error, latency)  # type: ignore[arg-type]
        )

    def failed(self, target: Target, error: ProviderError, latency: float) -> bool:
        """Record a failed attempt; True when the run should go on (``next_step``)."""
        entry = self._inflight.pop(target.model.name, None) or _Entry(target)
        task = self.call.task
        now = self.clock()
        if error.kind == "config":
            # The model's provider is misconfigured (nothing was sent): retrying cannot help,
            # and another model may serve the request, so the chain moves on whatever
            # fallback_on says, without waiting for this one again.
            self._record(target, error, latency, "skipped")
            return bool(self._pending)
        if error.local:
            # Refused before sending: the model frees up later; nothing counts as a retry.
            self._record(target, error, latency, "skipped")
            entry.not_before = now + (error.retry_after or 0.0)
            entry.circuit = error.circuit_open
            entry.sticky = error.kind == "rate_limit" and task.on_limit == "wait"
            self._requeue(entry)
            return True
        self._record(target, error, latency)
        entry.sends += 1
        if error.kind == "context_window":
            self._min_window = max(self._min_window or 0, target.model.context_window or 0)
        moves_on = error.kind in task.fallback_on
        retry = task.retry
        wait = error.retry_after
        at = now + (wait if wait is not None else backoff(retry, entry.sends))
        if (
            error.retriable
            and entry.sends < retry.attempts
            and at < self.deadline  # a retry that cannot go before the deadline is none
            and (wait is None or wait <= retry.max_retry_after)
            and (self.budget is None or self.budget.can_retry())  # spent when it goes
        ):
            entry.not_before = at
            entry.retry = True
            entry.circuit = False
            entry.sticky = retry.prefer == "same_model"
            if not moves_on:
                self._pending.clear()
            self._requeue(entry)
            return True
        if (
            error.retriable
            and entry.sends < retry.attempts
            and at >= self.deadline
            and (wait is None or wait <= retry.max_retry_after)
        ):
            self.stop_reason = (
                f"the next retry of '{target.model.name}' would come after the request's "
                f"deadline ({max(0.0, self.deadline - now):.1f}s left)"
            )
        if not moves_on:
            self.stop_reason = f"{type(error).__name__} does not move to the next model"
            self._pending.clear()
            return False
        return bool(self._pending)

    def _requeue(self, entry: _Entry) -> None:
        if entry.sticky:
            self._pending.insert(0, entry)
        else:
            self._pending.append(entry)

    def refused(self, target: Target, finish_reason: str | None) -> ContentFiltered | None:
        """Providers report refusals as a normal answer (finish_reason content_filter). When
        the task moves on after content filtering, such an answer counts as a failure."""
        if finish_reason != "content_filter" or "content_filter" not in self.call.task.fallback_on:
            return None
        return ContentFiltered(
            "the provider refused to answer (finish_reason content_filter)",
            provider=target.provider,
            model=target.model.name,
        )

    def cancel_inflight(self, latency: float, keep: str | None = None) -> None:
        """Hedged attempts still in flight (but ``keep``, the winner) lost the race and were
        cancelled: recorded as such, never retried."""
        for name, entry in list(self._inflight.items()):
            if name == keep:
                continue
            target = entry.target
            self.attempts.append(
                Attempt(target.model.name, target.provider, "cancelled", None, latency)
            )
            del self._inflight[name]

    def succeeded(self, target: Target, response: Response, latency: float) -> Response:
        self._inflight.pop(target.model.name, None)
        self.attempts.append(
            Attempt(target.model.name, target.provider, "ok", None, latency, response.cached)
        )
        return Response(
            response.content,
            response.finish_reason,
            response.usage,
            target.model.name,
            response.model_id,
            target.provider,
            0.0 if response.cached else cost_of(target.model, response.usage),
            self.clock() - self.started,
            response.cached,
            tuple(self.attempts),
            response.tool_calls,
            response.raw_id,
        )

    def give_up(self) -> AllModelsFailed | NoRouteError:
        task = self.call.task.name
        if not self.errors:
            # prepare_call refuses a plan with an empty chain before a run starts; a run that
            # tried nothing says the same, never "all models failed" with no attempt.
            skipped = [(c.model, c.skipped or "skipped") for c in self.call.plan.skipped]
            why = "; ".join(f"{m}: {r}" for m, r in skipped) or "the chain is empty"
            return NoRouteError(
                f"task '{task}': no model can take this request ({why})",
                task=task,
                skipped=skipped,
            )
        reason = self.stop_reason or "every model in the chain failed"
        failed = AllModelsFailed(f"task '{task}': {reason}", self.errors, task=task)
        failed.retry_after = self.retry_after
        return failed
