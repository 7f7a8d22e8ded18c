"""One attempt of a chain walk, written once: what to send, what came back means, and how it
is recorded. Pure bookkeeping, no I/O.

The drivers (:mod:`router.engine.drive` sync and async, :mod:`router.engine.streams`,
:mod:`router.engine.hedge`) differ only in how they send ``request`` to ``target.node`` and
how they wait; each reports back to its :class:`Try` (``answered`` or ``caught``, inside its
``try``) and then calls :meth:`Try.settle` (outside it, so nothing internal is chained to the
error a request may end with)::

    t = Try(run, step, request)
    try:
        t.answered(target.node.complete(t.request))
    except (ProviderError, DeadlineReached) as caught:
        t.caught(caught)
    outcome = t.settle()  # the Response, or whether the walk goes on
"""

from __future__ import annotations

from router.errors import ProviderError
from router.routing.walk import ChainRun, Go
from router.types import Request, Response

__all__ = ["Try"]


class Try:
    """One attempt: ``request`` goes to ``target``; the outcome is an answer or a failure.

    - An answer whose ``finish_reason`` is a refusal the task moves on from (see
      :meth:`ChainRun.refused`) fails as ContentFiltered.
    - A failure caught once the request's deadline has ended the attempt (``overdue``: the sync
      watchdog shut the socket, whatever error the read then gave; or a DeadlineReached) is the
      request's ProviderTimeout, never what the cut connection said.
    - The latency is taken when the outcome is known.
    """

    __slots__ = ("failure", "latency", "request", "response", "run", "start", "target")

    def __init__(self, run: ChainRun, step: Go, request: Request) -> None:
        self.run = run
        self.target = step.target
        self.request = request
        self.start = run.clock()
        self.response: Response | None = None
        self.failure: ProviderError | None = None
        self.latency = 0.0

    @property
    def time_left(self) -> float:
        """Seconds from the attempt's start to the request's deadline."""
        return self.run.deadline - self.start

    def elapsed(self) -> float:
        return self.run.clock() - self.start

    def refusal(self, finish_reason: str | None) -> None:
        """Raises the ContentFiltered an answer ending so means, when the task moves on."""
        if (refused := self.run.refused(self.target, finish_reason)) is not None:
            raise refused

    def answered(
        self, response: Response, *, latency: float | None = None, check: bool = True
    ) -> None:
        """The target answered (raises a refusal: call it inside the driver's ``try``).
        ``check=False`` for a stream's answer, whose chunks were checked as they came."""
        if check:
            self.refusal(response.finish_reason)
        self.response = response
        self.latency = self.elapsed() if latency is None else latency

    def caught(self, error: BaseException, *, overdue: bool = False) -> None:
        """The attempt failed with ``error`` (a ProviderError, or the deadline's
        DeadlineReached); ``overdue`` when the deadline fired during it."""
        if isinstance(error, ProviderError) and not overdue:
            self.failure = error
        else:
            self.failure = self.run.overdue(self.target)
        self.latency = self.elapsed()

    def settle(self) -> Response | bool:
        """Record the outcome in the run: the final Response (cost, latency and every attempt)
        on success, else whether the walk goes on (``ChainRun.next_step``)."""
        if self.failure is not None:
            return self.run.failed(self.target, self.failure, self.latency)
        assert self.response is not None, "settle() before the attempt's outcome"
        return self.run.succeeded(self.target, self.response, self.latency)
