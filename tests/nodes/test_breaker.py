"""The circuit breaker's state machine on an injected clock: only the probe's outcome moves an
open breaker. Calls that were in flight when it opened are stale evidence: their failures do
not double the cooldown, their successes do not close it, and their ending never frees the
probe's slot."""

from __future__ import annotations

from router.nodes.breaker import PROBE, CircuitBreaker
from router.specmodel import BreakerPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(failures: int = 2) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    policy = BreakerPolicy(failures=failures, cooldown=10.0, max_cooldown=80.0)
    return CircuitBreaker("m", policy, clock), clock


def test_failures_in_flight_when_it_opened_do_not_double_the_cooldown() -> None:
    b, _ = breaker()
    tickets = [b.admit() for _ in range(5)]  # five calls go out while it is closed
    assert all(wait is None for wait, _ in tickets)
    assert b.record(True, tickets[0][1]) is None
    assert b.record(True, tickets[1][1]) == 1010.0  # the second failure opens it
    for _, ticket in tickets[2:]:  # the rest fail afterwards
        assert b.record(True, ticket) is None
    snap = b.snapshot()
    assert snap["state"] == "open" and snap["cooldown"] == 10.0 and snap["opened_count"] == 1
    assert snap["open_for"] == 10.0


def test_a_success_in_flight_when_it_opened_does_not_close_it() -> None:
    b, _ = breaker(failures=1)
    (_, early), (_, late) = b.admit(), b.admit()
    b.record(True, early)
    assert b.state == "open"
    b.record(False, late)
    assert b.state == "open"


def test_only_the_probe_moves_it_and_a_failed_probe_doubles_the_cooldown() -> None:
    b, clock = breaker(failures=1)
    _, ticket = b.admit()
    b.record(True, ticket)
    clock.now += 10
    wait, probe = b.admit()
    assert wait is None and probe == PROBE
    assert b.admit()[0] == 10.0  # a second caller waits for the probe
    b.record(True, probe)
    assert b.snapshot()["cooldown"] == 20.0
    clock.now += 20
    _, probe = b.admit()
    b.record(False, probe)
    assert b.state == "closed" and b.snapshot()["cooldown"] == 10.0


def test_a_stale_call_ending_without_a_verdict_keeps_the_probe_slot() -> None:
    b, clock = breaker(failures=1)
    (_, first), (_, stale) = b.admit(), b.admit()
    b.record(True, first)
    clock.now += 10
    _, probe = b.admit()
    assert probe == PROBE
    b.release(stale)  # e.g. the stale call ended in a rate limit
    assert b.admit()[0] is not None  # still one probe at a time
    b.release(probe)
    assert b.admit() == (None, PROBE)


def test_an_outcome_without_a_ticket_counts_as_before() -> None:
    # A call admitted on a shared hold's say, not the local breaker's, has no ticket.
    b, clock = breaker(failures=1)
    assert b.admit()[0] is None
    assert b.record(True) == 1010.0
    clock.now += 10
    assert b.admit()[0] is None  # the probe
    b.record(True)
    assert b.snapshot()["cooldown"] == 20.0
