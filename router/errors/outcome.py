"""How a whole request ended without an answer: a cut stream, every model failed, a spend
cap, the shared state gone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router.errors.base import RouterError


class StreamInterrupted(RouterError):
    """A stream failed after its first chunk had reached the caller, so it cannot be failed
    over transparently. ``partial_text`` is what the caller has received; ``usage`` is the
    usage seen so far (or None); ``__cause__`` is the provider error that cut it; ``attempts``
    lists every attempt of the request, the interrupted one last."""

    def __init__(
        self,
        message: str,
        *,
        partial_text: str = "",
        usage: Any = None,
        model: str | None = None,
        provider: str | None = None,
        attempts: Sequence[Any] = (),
    ) -> None:
        super().__init__(message)
        self.partial_text = partial_text
        self.usage = usage
        self.model = model
        self.provider = provider
        self.attempts = tuple(attempts)


class AllModelsFailed(RouterError, ExceptionGroup[Exception]):
    """Every target in the chain failed. ``.exceptions`` holds each attempt's ProviderError in
    the order tried (local refusals, which sent nothing, included); ``task`` is the task
    name; ``retry_after`` says when to try again when the chain ended waiting."""

    task: str | None
    retry_after: float | None

    def __new__(
        cls, message: str, exceptions: Sequence[Exception], *, task: str | None = None
    ) -> AllModelsFailed:
        self = super().__new__(cls, message, list(exceptions))
        self.task = task
        self.retry_after = None
        return self

    def __init__(
        self, message: str, exceptions: Sequence[Exception], *, task: str | None = None
    ) -> None:
        super().__init__(message, list(exceptions))
        self.task = task
        # Seconds after which a retry could succeed, when the chain ended waiting for a
        # model (open circuits, limits, Retry-After) rather than on errors.
        self.retry_after = None

    def derive(self, excs: Sequence[Exception]) -> AllModelsFailed:  # type: ignore[override]
        return AllModelsFailed(self.message, excs, task=self.task)

    def __str__(self) -> str:
        lines = [f"{self.message} ({_count_attempts(self.exceptions)}):"]
        lines += [f"  {i}. {type(e).__name__}: {e}" for i, e in enumerate(self.exceptions, 1)]
        return "\n".join(lines)


def _count_attempts(errors: Sequence[Exception]) -> str:
    """ "1 attempt", "3 attempts", "2 attempts, 1 not sent", "nothing was sent (2 models
    could not be tried)": local refusals (an open circuit, a limit, a hold) sent nothing."""
    unsent = sum(1 for e in errors if getattr(e, "local", False))
    sent = len(errors) - unsent
    if not sent:
        tried = "model" if unsent == 1 else "models"
        return f"nothing was sent: {unsent} {tried} could not be tried"
    text = f"{sent} attempt{'s' * (sent != 1)}"
    return f"{text}, {unsent} not sent" if unsent else text


class BudgetExceeded(RouterError):
    """A spend cap is reached and the task says ``on_budget: refuse``. ``scope`` is "all" or
    the task's name, ``period`` "daily" or "monthly"; ``resets_at`` is a UTC timestamp."""

    def __init__(
        self, message: str, *, scope: str, period: str, spent: float, cap: float, resets_at: float
    ) -> None:
        super().__init__(message)
        self.scope = scope
        self.period = period
        self.spent = spent
        self.cap = cap
        self.resets_at = resets_at


class StateUnavailable(RouterError):
    """The shared state backend is unreachable and the spec asks to refuse calls rather than
    run without it (``state.on_unavailable: fail_closed``). ``backend`` names it (kind and
    host:port, never credentials)."""

    def __init__(self, backend: str, *, detail: str | None = None) -> None:
        self.backend = backend
        self.detail = detail
        message = (
            f"the state backend ({backend}) is unreachable and the spec's "
            "state.on_unavailable is fail_closed, so the call is refused rather than run "
            "without shared rate limits, holds and caches"
        )
        if detail:
            message += f" (last error: {detail})"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_state_unavailable, (self.backend, self.detail))


def _rebuild_state_unavailable(backend: str, detail: str | None) -> StateUnavailable:
    return StateUnavailable(backend, detail=detail)
