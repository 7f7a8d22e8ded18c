"""The chain walk: one request going through its plan, as pure bookkeeping shared by the sync
and async drivers. It says what to do next (``Go`` to a target with a timeout, ``Wait`` so
long, or ``None``: done) and what each outcome means (retry, move on, stop).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from router.errors import (
    AllModelsFailed,
    ContentFiltered,
    HookFailed,
    NoRouteError,
    ProviderError,
    ProviderTimeout,
)
from router.routing.balance import Pool
from router.routing.call import Call, Target, cost_of, savings_of
from router.routing.retry import RetryShare, backoff
from router.routing.steps import Entry, Go, Outcome, Wait, entry_of, make_attempt
from router.specmodel import Spec
from router.types import Attempt, Response

__all__ = ["DEPLOYMENT_KINDS", "ChainRun", "Go", "Wait"]

#: Failures that belong to one deployment (its quota, its endpoint, its key): the walk moves on
#: to the model's other deployments after them, whatever the task's ``fallback_on`` says.
DEPLOYMENT_KINDS = frozenset({"rate_limit", "timeout", "unavailable", "authentication", "config"})


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

    - A hook that fails during an attempt ends the walk (:meth:`halted`): the same hook would
      fail for the next model too; :meth:`give_up` then returns its HookFailed.

    ``clock`` is monotonic seconds, injected in tests; ``started`` is when the request began
    (its deadline counts from there: its hooks' ``before`` ran in it), default now.
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
        "fatal",
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
        targets: Mapping[str, Target | Pool],
        clock: Callable[[], float],
        budget: RetryShare | None = None,
        started: float | None = None,
    ) -> None:
        self.spec = spec
        self.call = call
        self.targets = targets
        self.clock = clock
        self.budget = budget
        self.started = clock() if started is None else started
        self.deadline = self.started + call.task.timeouts.total
        self._pending = [entry_of(targets[c.model]) for c in call.plan.chain]
        self._min_window: int | None = None
        self._inflight: dict[str, Entry] = {}
        self.attempts: list[Attempt] = []
        self.errors: list[ProviderError] = []
        self.stop_reason: str | None = None
        self.retry_after: float | None = None
        self.fatal: HookFailed | None = None
        if budget is not None:
            budget.request()

    # -- what next ----------------------------------------------------------------------------

    def _fits(self, entry: Entry) -> bool:
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
        chosen: Entry | None = None
        blocker: Entry | None = None
        refused: list[Entry] = []
        pending = self._pending
        i = 0
        while i < len(pending):
            entry = pending[i]
            i += 1
            if entry.pool is not None:
                pending[i - 1 : i] = self._deployments(entry, now)
                entry = pending[i - 1]
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
            per_attempt = self.call.timeout or self._attempt_timeout(chosen.target)
            self._inflight[chosen.target.key] = chosen
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

    def _deployments(self, entry: Entry, now: float) -> list[Entry]:
        """A model's turn (``entry.pool``): the deployment its strategy (or the session)
        chooses, then a place holder for the others, ordered only if that one fails."""
        pool = entry.pool
        assert pool is not None
        if entry.after is not None:
            return [Entry(t) for t in pool.rest(now, entry.after)]
        first = pool.first(now, self.call.session)
        if first is None:  # every one is held: each is refused in turn, its wait counted
            return [Entry(t) for t in pool.targets]
        return [Entry(first), Entry(first, pool=pool, after=first)]

    def _attempt_timeout(self, target: Target) -> float:
        task = self.call.task
        if target.request_timeout is None or "request" in task.timeouts_set:
            return self.spec.attempt_timeout(task, target.model)
        return target.request_timeout

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
        self, target: Target, error: ProviderError, latency: float, outcome: Outcome = "error"
    ) -> None:
        self.errors.append(error)
        self.attempts.append(make_attempt(target, outcome, error, latency))

    def failed(self, target: Target, error: ProviderError, latency: float) -> bool:
        """Record a failed attempt; True when the run should go on (``next_step``)."""
        entry = self._inflight.pop(target.key, None) or Entry(target)
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
        # Another deployment of the same model gives the same answer: a failure of this one
        # (its quota, its endpoint, its key) moves to them whatever fallback_on says.
        siblings = error.kind in DEPLOYMENT_KINDS and self._siblings(target)
        moves_on = error.kind in task.fallback_on or siblings
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
            elif error.kind not in task.fallback_on:
                self._only_model(target)
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
        if error.kind not in task.fallback_on:
            self._only_model(target)  # on to its other deployments, not to other models
        return bool(self._pending)

    def halted(
        self, target: Target, error: ProviderError, fatal: HookFailed, latency: float
    ) -> bool:
        """A hook failed during this attempt (``fatal``): the attempt is recorded with
        ``error`` (the answer withheld) and the walk ends; always False."""
        self._inflight.pop(target.key, None)
        self._record(target, error, latency)
        self.fatal = fatal
        self.stop_reason = str(fatal)
        self._pending.clear()
        return False

    def _siblings(self, target: Target) -> bool:
        """Another deployment of ``target``'s model is still to be tried."""
        name = target.model.name
        return any(e.target.model.name == name for e in self._pending)

    def _only_model(self, target: Target) -> None:
        name = target.model.name
        self._pending = [e for e in self._pending if e.target.model.name == name]

    def _requeue(self, entry: Entry) -> None:
        if entry.sticky:
            # Waits at the head of the line, behind the other deployments of its model.
            name = entry.target.model.name
            at = 0
            while at < len(self._pending) and self._pending[at].target.model.name == name:
                at += 1
            self._pending.insert(at, entry)
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
        """Hedged attempts still in flight (but ``keep``, the winner's ``Target.key``) lost
        the race and were cancelled: recorded as such, never retried."""
        for name, entry in list(self._inflight.items()):
            if name == keep:
                continue
            target = entry.target
            self.attempts.append(make_attempt(target, "cancelled", None, latency))
            del self._inflight[name]

    def succeeded(self, target: Target, response: Response, latency: float) -> Response:
        self._inflight.pop(target.key, None)
        self.attempts.append(make_attempt(target, "ok", None, latency, response.cached))
        session = self.call.session
        if session is not None and not response.cached:
            pool = self.targets.get(target.model.name)
            if isinstance(pool, Pool):
                pool.bind(session, target)
        return replace(
            response,
            model=target.model.name,
            provider=target.provider,
            cost=0.0 if response.cached else cost_of(target.model, response.usage),
            latency_s=self.clock() - self.started,
            attempts=tuple(self.attempts),
            deployment=target.deployment,
            cache_savings=0.0 if response.cached else savings_of(target.model, response.usage),
        )

    def give_up(self) -> AllModelsFailed | NoRouteError | HookFailed:
        task = self.call.task.name
        if self.fatal is not None:
            self.fatal.attempts = tuple(self.attempts)
            return self.fatal
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
