"""One attempt (``Try``) written once for every driver: what its answer or its failure means,
and how it is recorded in the walk. No HTTP: the test plays the driver's I/O."""

from __future__ import annotations

from router.aio.deadline import DeadlineReached
from router.errors import ContentFiltered, ProviderTimeout, ProviderUnavailable
from router.routing.attempt import Try
from router.routing.walk import Go
from router.types import Response

from .helpers import Clock, answer, load, run_of

SPEC = "  default:\n    candidates: [small, medium]\n    retry: {attempts: 1}\n"
FILTERING = SPEC + "    fallback_on: [content_filter, unavailable]\n"
KEEPING = SPEC + "    fallback_on: [unavailable]\n"


def first_try(tasks: str = SPEC) -> tuple[Try, Clock]:
    clock = Clock()
    run, _ = run_of(load(tasks), clock)
    step = run.next_step()
    assert isinstance(step, Go)
    return Try(run, step, object()), clock  # type: ignore[arg-type]


def test_an_answer_settles_as_the_response_with_the_latency_when_it_came() -> None:
    t, clock = first_try()
    clock.advance(1.5)
    t.answered(answer("hi"))
    clock.advance(10)  # the driver's own work afterwards does not count
    response = t.settle()
    assert isinstance(response, Response)
    assert (response.content, response.model) == ("hi", "small")
    [attempt] = response.attempts
    assert (attempt.outcome, attempt.latency_s) == ("ok", 1.5)


def test_a_refusal_answer_raises_content_filtered_when_the_task_moves_on_from_it() -> None:
    t, _ = first_try(FILTERING)
    try:
        t.answered(answer("no", finish_reason="content_filter"))
    except ContentFiltered as refusal:
        t.caught(refusal)
    assert isinstance(t.failure, ContentFiltered)
    assert t.settle() is True  # recorded; the walk goes on to `medium`
    assert t.run.attempts[0].outcome == "error"


def test_a_refusal_is_an_answer_when_the_task_does_not_move_on_from_it() -> None:
    t, _ = first_try(KEEPING)
    t.answered(answer("no", finish_reason="content_filter"))
    assert isinstance(t.settle(), Response)


def test_a_streamed_answer_is_not_checked_again_for_a_refusal() -> None:
    t, _ = first_try(FILTERING)
    t.answered(answer("partial", finish_reason="content_filter"), latency=0.25, check=False)
    response = t.settle()
    assert isinstance(response, Response)
    assert response.attempts[0].latency_s == 0.25


def test_a_failure_caught_after_the_deadline_fired_is_the_requests_timeout() -> None:
    t, clock = first_try(FILTERING)
    clock.advance(2)
    t.caught(ProviderUnavailable("connection reset", provider="oai", model="small"), overdue=True)
    assert isinstance(t.failure, ProviderTimeout)
    assert "deadline" in str(t.failure)
    assert t.latency == 2


def test_the_deadline_reached_while_waiting_is_the_requests_timeout() -> None:
    t, _ = first_try()
    t.caught(DeadlineReached())
    assert isinstance(t.failure, ProviderTimeout)


def test_a_provider_failure_is_kept_and_settles_as_whether_the_walk_goes_on() -> None:
    t, _ = first_try(FILTERING)
    down = ProviderUnavailable("503", provider="oai", model="small", status=503)
    t.caught(down)
    assert t.failure is down
    assert t.settle() is True
    assert t.run.errors == [down]


def test_time_left_runs_from_the_attempts_start_to_the_requests_deadline() -> None:
    t, clock = first_try()
    assert t.time_left == t.run.deadline - clock.now
