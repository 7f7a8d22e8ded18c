"""The chain walk (``ChainRun``) decided step by step, with no HTTP, no sandbox and no threads:
a scripted node stands for each model's I/O and the test moves the clock."""

from __future__ import annotations

from dataclasses import replace

import pytest

from router.errors import (
    AllModelsFailed,
    BadRequestError,
    ContentFiltered,
    ContextWindowExceeded,
    NoRouteError,
    ProviderConfigError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimitError,
)
from router.routing.retry import RetryShare
from router.routing.walk import ChainRun, Go, Wait
from router.types import Response

from .helpers import Clock, answer, call, call_unrouted, drive, load, run_of, script, targets

NO_RETRY = "    retry: {attempts: 1}\n"


def task(body: str = "", candidates: str = "[small, medium, large]") -> str:
    """A ``default`` task over the three models, with ``body`` (task keys, 4 spaces in)."""
    return f"  default:\n    candidates: {candidates}\n{body}"


def down(model: str) -> ProviderUnavailable:
    return ProviderUnavailable("503 from the provider", provider="p", model=model, status=503)


def limited(model: str, retry_after: float | None = None) -> RateLimitError:
    return RateLimitError("429", provider="p", model=model, status=429, retry_after=retry_after)


def local_limit(model: str, retry_after: float | None) -> RateLimitError:
    return RateLimitError("limit reached", model=model, retry_after=retry_after, local=True)


def open_circuit(model: str, retry_after: float) -> ProviderUnavailable:
    return ProviderUnavailable(
        "circuit open", model=model, retry_after=retry_after, local=True, circuit_open=True
    )


# --- going down the chain -------------------------------------------------------------------


def test_the_first_model_that_answers_ends_the_walk_with_its_response() -> None:
    clock = Clock()
    run, ts = run_of(load(task(NO_RETRY)), clock)
    script(ts, small=[down("small")], medium=[answer("hi")])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s"]
    assert isinstance(result, Response)
    assert (result.content, result.model, result.provider) == ("hi", "medium", "oai")
    assert [(a.model, a.outcome) for a in result.attempts] == [
        ("small", "error"),
        ("medium", "ok"),
    ]
    assert ts["large"].node.requests == []


def test_a_failure_outside_fallback_on_stops_the_chain_and_says_why() -> None:
    clock = Clock()
    run, ts = run_of(load(task(NO_RETRY)), clock)
    script(ts, small=[BadRequestError("400", model="small", status=400)])
    trace, result = drive(run)
    assert trace == ["go small 60s"]
    assert isinstance(result, AllModelsFailed)
    assert "BadRequestError does not move to the next model" in str(result)
    assert [type(e) for e in result.exceptions] == [BadRequestError]


def test_every_model_failing_ends_in_all_models_failed_carrying_every_error_in_order() -> None:
    clock = Clock()
    run, ts = run_of(load(task(NO_RETRY)), clock)
    script(ts, small=[down("small")], medium=[down("medium")], large=[down("large")])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s", "go large 60s"]
    assert isinstance(result, AllModelsFailed)
    assert "every model in the chain failed" in str(result)
    assert [e.model for e in result.exceptions] == ["small", "medium", "large"]
    assert result.task == "default" and result.retry_after is None


def test_a_misconfigured_provider_moves_on_even_when_fallback_on_excludes_its_kind() -> None:
    spec = load(task(NO_RETRY + "    fallback_on: [timeout]\n"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[ProviderConfigError("bad key header", model="small")], medium=[answer()])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s"]
    assert isinstance(result, Response)
    assert [a.outcome for a in result.attempts] == ["skipped", "ok"]


def test_a_misconfigured_last_model_ends_the_walk() -> None:
    clock = Clock()
    run, ts = run_of(load(task(NO_RETRY, "[small]")), clock)
    script(ts, small=[ProviderConfigError("bad key header", model="small")])
    trace, result = drive(run)
    assert trace == ["go small 60s"]
    assert isinstance(result, AllModelsFailed)


# --- timeouts and deadlines -----------------------------------------------------------------


def test_each_attempt_gets_the_task_request_timeout_cut_to_what_is_left_of_the_total() -> None:
    spec = load(task(NO_RETRY + "    timeouts: {request: 10, total: 25}\n"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    for t in ts.values():
        t.node.latency = 9.0
    script(ts, small=[down("small")], medium=[down("medium")], large=[answer()])
    trace, _ = drive(run)
    assert trace == ["go small 10s", "go medium 10s", "go large 7s"]


def test_a_per_call_timeout_replaces_the_spec_attempt_timeout() -> None:
    clock = Clock()
    run, ts = run_of(load(task(NO_RETRY)), clock, timeout=2.5)
    script(ts, small=[answer()])
    trace, _ = drive(run)
    assert trace == ["go small 2.5s"]


def test_the_provider_request_timeout_applies_when_the_task_sets_none() -> None:
    spec = load(
        task(NO_RETRY),
        base="models.yaml",
        extra="defaults:\n  timeouts: {request: 42}\n",
    )
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[answer()])
    assert drive(run)[0] == ["go small 42s"]


def test_a_model_not_reached_before_the_deadline_is_recorded_as_skipped_by_a_timeout() -> None:
    spec = load(task(NO_RETRY + "    timeouts: {request: 10, total: 10}\n"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    ts["small"].node.latency = 10.0
    script(ts, small=[down("small")])
    trace, result = drive(run)
    assert trace == ["go small 10s"]
    assert isinstance(result, AllModelsFailed)
    assert "the request's deadline passed" in str(result)
    skipped = result.exceptions[-1]
    assert isinstance(skipped, ProviderTimeout) and skipped.model == "medium"
    assert "before this model could be tried" in str(skipped)
    assert [a.outcome for a in run.attempts] == ["error", "skipped"]


def test_overdue_names_the_model_still_answering_when_the_deadline_passed() -> None:
    spec = load(task(NO_RETRY + "    timeouts: {total: 7}\n"))
    run, ts = run_of(spec, Clock())
    error = run.overdue(ts["large"])
    assert isinstance(error, ProviderTimeout)
    assert (error.model, error.provider) == ("large", "ant")
    assert "deadline of 7s passed while this model was still answering" in str(error)


def test_no_retry_is_scheduled_once_the_deadline_has_passed() -> None:
    spec = load(task("    retry: {attempts: 5}\n    timeouts: {total: 5}\n", "[small]"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    ts["small"].node.latency = 6.0
    script(ts, small=[down("small")])
    trace, result = drive(run)
    assert trace == ["go small 5s"]
    assert isinstance(result, AllModelsFailed)


# --- retries --------------------------------------------------------------------------------


def test_a_failure_that_stops_the_chain_drops_a_retry_still_due() -> None:
    spec = load(task("    retry: {attempts: 2, initial_backoff: 1, max_backoff: 1}\n"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(
        ts,
        small=[down("small"), answer("second try")],
        medium=[BadRequestError("400", model="medium")],
    )
    # small's retry waits at the end of the line; medium's bad request ends the walk first
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s"]
    assert isinstance(result, AllModelsFailed)


def test_with_prefer_fallback_the_retry_comes_after_the_remaining_models() -> None:
    spec = load(task("    retry: {attempts: 2, initial_backoff: 0.001, max_backoff: 0.001}\n"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(
        ts,
        small=[down("small"), answer("small again")],
        medium=[answer("no", "content_filter")],  # moves on, never retried
        large=[answer("no", "content_filter")],
    )
    trace, result = drive(run)
    assert [t.split()[1] for t in trace if t.startswith("go")] == [
        "small",
        "medium",
        "large",
        "small",
    ]
    assert isinstance(result, Response) and result.content == "small again"


def test_with_prefer_same_model_the_chain_waits_for_the_retry_before_moving_on() -> None:
    spec = load(
        task("    retry: {attempts: 3, prefer: same_model, initial_backoff: 1, max_backoff: 1}\n")
    )
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[down("small"), down("small"), down("small")], medium=[answer("m")])
    trace, result = drive(run)
    goes = [t for t in trace if t.startswith("go")]
    assert goes == ["go small 60s"] * 3 + ["go medium 60s"]
    waits = [float(t.split()[1][:-1]) for t in trace if t.startswith("wait")]
    assert all(0 <= w <= 1 for w in waits)  # full-jitter backoff, capped by max_backoff
    assert isinstance(result, Response) and result.model == "medium"
    assert [a.outcome for a in result.attempts] == ["error"] * 3 + ["ok"]


def test_a_rate_limited_model_waits_its_retry_after_while_the_next_model_goes() -> None:
    spec = load(task("    retry: {attempts: 2}\n"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    ts["medium"].node.latency = 1.0
    script(
        ts,
        small=[limited("small", retry_after=4.0), answer("after the hold")],
        medium=[answer("no", "content_filter")],
        large=[answer("no", "content_filter")],
    )
    trace, result = drive(run)
    # medium took 1s: small's 4s hold has 3s left when large has failed too
    assert trace == ["go small 60s", "go medium 60s", "go large 60s", "wait 3s", "go small 60s"]
    assert isinstance(result, Response) and result.content == "after the hold"
    assert [a.model for a in result.attempts] == ["small", "medium", "large", "small"]


def test_a_retry_after_longer_than_max_retry_after_is_not_waited_for() -> None:
    spec = load(task("    retry: {attempts: 3, max_retry_after: 5}\n", "[small, medium]"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[limited("small", retry_after=6.0)], medium=[down("medium")] * 3)
    trace, result = drive(run)
    assert trace[:2] == ["go small 60s", "go medium 60s"]
    assert "go small" not in " ".join(trace[2:])
    assert isinstance(result, AllModelsFailed)


def test_a_retry_after_within_max_retry_after_is_waited_for_exactly() -> None:
    spec = load(task("    retry: {attempts: 2, max_retry_after: 5}\n", "[small]"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[limited("small", retry_after=5.0), answer()])
    trace, result = drive(run)
    assert trace == ["go small 60s", "wait 5s", "go small 60s"]
    assert isinstance(result, Response)


def test_retries_stop_at_retry_attempts_sends_of_the_same_model() -> None:
    spec = load(task("    retry: {attempts: 2, initial_backoff: 0.01}\n", "[small]"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[down("small"), down("small")])
    trace, result = drive(run)
    assert [t for t in trace if t.startswith("go")] == ["go small 60s"] * 2
    assert isinstance(result, AllModelsFailed) and len(result.exceptions) == 2


def test_a_non_retriable_failure_is_never_retried() -> None:
    spec = load(task("    retry: {attempts: 3}\n", "[small, medium]"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[ContextWindowExceeded("too long", model="small")], medium=[answer()])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s"]
    assert isinstance(result, Response)


def test_a_retriable_failure_outside_fallback_on_retries_the_same_model_only() -> None:
    spec = load(
        task(
            "    retry: {attempts: 2, initial_backoff: 0.01}\n    fallback_on: [rate_limit]\n",
        )
    )
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[down("small"), down("small")])
    trace, result = drive(run)
    assert [t for t in trace if t.startswith("go")] == ["go small 60s"] * 2
    assert isinstance(result, AllModelsFailed)
    assert "ProviderUnavailable does not move to the next model" in str(result)
    assert ts["medium"].node.requests == []


def test_an_exhausted_retry_budget_moves_on_instead_of_retrying() -> None:
    spec = load(task("    retry: {attempts: 3}\n", "[small, medium]"))
    clock = Clock()
    budget = RetryShare(0.0, floor=0, clock=clock)
    run, ts = run_of(spec, clock, budget=budget)
    script(ts, small=[down("small")], medium=[down("medium")])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s"]
    assert isinstance(result, AllModelsFailed)


def test_a_run_counts_its_request_in_the_retry_budget_and_spends_one_retry_per_retry() -> None:
    spec = load(task("    retry: {attempts: 2, initial_backoff: 0.01}\n", "[small]"))
    clock = Clock()
    budget = RetryShare(0.0, floor=1, clock=clock)  # one retry in the window, whatever else
    run, ts = run_of(spec, clock, budget=budget)
    script(ts, small=[down("small"), answer()])
    trace, result = drive(run)
    assert [t for t in trace if t.startswith("go")] == ["go small 60s"] * 2
    assert isinstance(result, Response)
    assert not budget.try_retry()  # the floor was spent by that retry


# --- local refusals: limits, holds, open circuits -------------------------------------------


def test_a_local_limit_sends_nothing_and_the_model_goes_to_the_back_of_the_line() -> None:
    clock = Clock()
    run, ts = run_of(load(task(NO_RETRY)), clock)
    script(
        ts,
        small=[local_limit("small", 3.0), answer("freed")],
        medium=[down("medium")],
        large=[down("large")],
    )
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s", "go large 60s", "wait 3s", "go small 60s"]
    assert isinstance(result, Response) and result.content == "freed"
    assert [a.outcome for a in result.attempts] == ["skipped", "error", "error", "ok"]


def test_a_local_refusal_is_not_a_retry_and_needs_no_retry_attempts_left() -> None:
    clock = Clock()
    run, ts = run_of(load(task(NO_RETRY, "[small]")), clock)
    script(ts, small=[local_limit("small", None), local_limit("small", 1.0), answer()])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go small 60s", "wait 1s", "go small 60s"]
    assert isinstance(result, Response)


def test_on_limit_wait_keeps_the_limited_model_first_in_line() -> None:
    spec = load(task(NO_RETRY + "    on_limit: wait\n"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[local_limit("small", 2.0), answer("kept its place")])
    trace, result = drive(run)
    assert trace == ["go small 60s", "wait 2s", "go small 60s"]
    assert isinstance(result, Response) and result.content == "kept its place"
    assert ts["medium"].node.requests == []


def test_on_limit_wait_does_not_hold_the_line_for_a_non_rate_limit_refusal() -> None:
    spec = load(task(NO_RETRY + "    on_limit: wait\n    on_all_open: wait\n"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[open_circuit("small", 2.0)], medium=[answer("next")])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s"]
    assert isinstance(result, Response)


def test_when_every_remaining_circuit_is_open_on_all_open_fail_gives_up_with_retry_after() -> None:
    clock = Clock()
    run, ts = run_of(load(task(NO_RETRY, "[small, medium]")), clock)
    script(ts, small=[open_circuit("small", 30.0)], medium=[open_circuit("medium", 12.0)])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s"]
    assert isinstance(result, AllModelsFailed)
    assert result.retry_after == 12.0
    assert "every remaining model's circuit is open; retry in 12.0s" in str(result)
    assert [a.outcome for a in run.attempts] == ["skipped", "skipped"]


def test_on_all_open_wait_waits_for_the_first_circuit_to_close() -> None:
    spec = load(task(NO_RETRY + "    on_all_open: wait\n", "[small, medium]"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(
        ts,
        small=[open_circuit("small", 30.0)],
        medium=[open_circuit("medium", 12.0), answer("half-open probe")],
    )
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s", "wait 12s", "go medium 60s"]
    assert isinstance(result, Response)


def test_an_open_circuit_and_a_limited_model_are_waited_for_even_with_on_all_open_fail() -> None:
    clock = Clock()
    run, ts = run_of(load(task(NO_RETRY, "[small, medium]")), clock)
    script(
        ts,
        small=[open_circuit("small", 30.0)],
        medium=[local_limit("medium", 5.0), answer()],
    )
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s", "wait 5s", "go medium 60s"]
    assert isinstance(result, Response)


def test_a_model_freeing_up_after_the_deadline_ends_the_walk_with_its_retry_after() -> None:
    spec = load(task(NO_RETRY + "    timeouts: {total: 10}\n", "[small]"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[local_limit("small", 15.0)])
    trace, result = drive(run)
    assert trace == ["go small 10s"]
    assert isinstance(result, AllModelsFailed)
    assert result.retry_after == 15.0
    assert "frees up in 15.0s, after the request's deadline (10.0s left)" in str(result)


def test_a_sticky_model_blocks_later_ready_models_until_it_frees_up() -> None:
    spec = load(task(NO_RETRY + "    on_limit: wait\n"))
    clock = Clock()
    run, _ = run_of(spec, clock)
    step = run.next_step()
    assert isinstance(step, Go)
    run.failed(step.target, local_limit("small", 3.0), 0.0)
    # medium and large are ready, but small waits first in line
    assert run.next_step() == Wait(3.0)
    clock.advance(3.0)
    again = run.next_step()
    assert isinstance(again, Go) and again.target.model.name == "small"


# --- context windows ------------------------------------------------------------------------


def test_a_context_window_failure_skips_every_model_with_no_larger_window() -> None:
    spec = load(task(NO_RETRY, "[medium, small, large]"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, medium=[ContextWindowExceeded("too long", model="medium")], large=[answer()])
    trace, result = drive(run)
    assert trace == ["go medium 60s", "go large 60s"]  # small (8k < 32k) is not tried
    assert isinstance(result, Response) and result.model == "large"


def test_a_context_window_failure_as_the_last_model_that_fits_ends_the_walk() -> None:
    spec = load(task(NO_RETRY, "[large, small]"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, large=[ContextWindowExceeded("too long", model="large")])
    trace, result = drive(run)
    assert trace == ["go large 60s"]
    assert isinstance(result, AllModelsFailed)
    assert "every model in the chain failed" in str(result)


def test_a_model_with_an_unknown_context_window_is_still_tried_after_a_window_failure() -> None:
    spec = load(task(NO_RETRY, "[small, unsized]"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[ContextWindowExceeded("too long", model="small")], unsized=[answer()])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go unsized 60s"]
    assert isinstance(result, Response)


# --- refusals, hedges, answers, giving up ---------------------------------------------------


def test_a_content_filter_answer_is_a_failure_when_the_task_moves_on_after_filtering() -> None:
    clock = Clock()
    run, ts = run_of(load(task(NO_RETRY)), clock)
    script(ts, small=[answer("no", "content_filter")], medium=[answer("yes")])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s"]
    assert isinstance(result, Response) and result.content == "yes"
    assert isinstance(run.errors[0], ContentFiltered)
    assert run.errors[0].model == "small"


def test_a_content_filter_answer_is_returned_when_the_task_does_not_move_on_after_it() -> None:
    spec = load(task(NO_RETRY + "    fallback_on: [timeout]\n"))
    run, ts = run_of(spec, Clock())
    assert run.refused(ts["small"], "content_filter") is None
    script(ts, small=[answer("no", "content_filter")])
    trace, result = drive(run)
    assert trace == ["go small 60s"]
    assert isinstance(result, Response) and result.finish_reason == "content_filter"


def test_an_ordinary_finish_reason_is_never_a_refusal() -> None:
    run, ts = run_of(load(task(NO_RETRY)), Clock())
    assert run.refused(ts["small"], "stop") is None
    assert run.refused(ts["small"], None) is None


def test_hedged_attempts_that_lost_the_race_are_recorded_as_cancelled_and_never_retried() -> None:
    clock = Clock()
    run, _ = run_of(load(task("    retry: {attempts: 3}\n")), clock)
    first, second, third = run.next_step(), run.next_step(), run.next_step()
    assert isinstance(first, Go) and isinstance(second, Go) and isinstance(third, Go)
    clock.advance(2.0)
    run.cancel_inflight(2.0, keep="medium")
    response = run.succeeded(second.target, answer("won"), 2.0)
    assert [(a.model, a.outcome) for a in response.attempts] == [
        ("small", "cancelled"),
        ("large", "cancelled"),
        ("medium", "ok"),
    ]
    assert run.next_step() is None  # nothing left to try, nothing retried


def test_cancelling_with_no_winner_cancels_every_attempt_in_flight() -> None:
    run, _ = run_of(load(task(NO_RETRY)), Clock())
    run.next_step(), run.next_step()
    run.cancel_inflight(1.0)
    assert [(a.model, a.outcome, a.latency_s) for a in run.attempts] == [
        ("small", "cancelled", 1.0),
        ("medium", "cancelled", 1.0),
    ]


def test_a_failure_reported_for_a_target_not_in_flight_is_still_recorded() -> None:
    run, ts = run_of(load(task(NO_RETRY)), Clock())
    assert run.failed(ts["large"], down("large"), 0.5)
    assert [(a.model, a.outcome) for a in run.attempts] == [("large", "error")]


def test_the_response_names_the_spec_model_and_provider_prices_it_and_times_the_request() -> None:
    clock = Clock()
    spec = load("  default: {candidates: [priced]}\n", base="priced.yaml")
    run, ts = run_of(spec, clock)
    ts["priced"].node.latency = 1.5
    script(ts, priced=[answer()])
    _, result = drive(run)
    assert isinstance(result, Response)
    assert (result.model, result.model_id, result.provider) == ("priced", "wire-id", "oai")
    assert result.cost == pytest.approx((1_000 * 3.0 + 500 * 15.0) / 1e6)
    assert result.latency_s == 1.5
    assert result.attempts[0].latency_s == 1.5


def test_a_cached_answer_costs_nothing_and_says_it_was_cached() -> None:
    spec = load("  default: {candidates: [priced]}\n", base="priced.yaml")
    run, ts = run_of(spec, Clock())
    script(ts, priced=[answer(cached=True)])
    _, result = drive(run)
    assert isinstance(result, Response)
    assert result.cost == 0.0 and result.cached and result.attempts[0].cached


def test_an_unpriced_model_answer_has_no_cost() -> None:
    run, ts = run_of(load(task(NO_RETRY)), Clock())
    script(ts, small=[answer()])
    _, result = drive(run)
    assert isinstance(result, Response) and result.cost is None


def test_a_run_that_tried_nothing_gives_up_with_no_route_naming_each_skipped_model() -> None:
    spec = load(task(NO_RETRY))
    planned = call_unrouted(spec, response_format={"type": "json_object"})  # none takes JSON
    run = ChainRun(spec, planned, targets(spec, Clock()), Clock())
    assert run.next_step() is None
    error = run.give_up()
    assert isinstance(error, NoRouteError)
    assert error.task == "default"
    assert [m for m, _ in error.skipped] == ["small", "medium", "large"]
    assert "no model can take this request (small: " in str(error)


def test_a_run_over_an_empty_chain_with_nothing_skipped_says_the_chain_is_empty() -> None:
    spec = load(task(NO_RETRY))
    planned = call(spec)
    empty = replace(planned, plan=replace(planned.plan, chain=(), skipped=()))
    error = ChainRun(spec, empty, targets(spec, Clock()), Clock()).give_up()
    assert isinstance(error, NoRouteError)
    assert "(the chain is empty)" in str(error)


# --- retries that cannot go, and the retry share --------------------------------------------------


def test_a_same_model_retry_that_cannot_happen_before_the_deadline_lets_the_chain_move_on() -> None:
    spec = load(task("    retry: {attempts: 2, prefer: same_model}\n    timeouts: {total: 10}\n"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[limited("small", retry_after=20.0)], medium=[answer("served")])
    trace, result = drive(run)
    assert trace == ["go small 10s", "go medium 10s"]
    assert isinstance(result, Response)


def test_a_retry_that_cannot_happen_before_the_deadline_spends_no_retry_budget() -> None:
    spec = load(task("    retry: {attempts: 2}\n    timeouts: {total: 10}\n", "[small]"))
    clock = Clock()
    budget = RetryShare(0.0, floor=1, clock=clock)
    run, ts = run_of(spec, clock, budget=budget)
    script(ts, small=[limited("small", retry_after=20.0)])
    trace, result = drive(run)
    assert trace == ["go small 10s"]
    assert isinstance(result, AllModelsFailed)
    assert budget.try_retry()  # the one retry of the window is still there


def test_a_retry_never_sent_because_a_later_model_answered_spends_no_retry_budget() -> None:
    spec = load(task("    retry: {attempts: 2}\n", "[small, medium]"))
    clock = Clock()
    budget = RetryShare(0.0, floor=1, clock=clock)
    run, ts = run_of(spec, clock, budget=budget)
    script(ts, small=[down("small")], medium=[answer("served")])
    trace, result = drive(run)
    assert trace == ["go small 60s", "go medium 60s"]
    assert isinstance(result, Response)
    assert budget.try_retry()  # no retry was sent: the window's one retry is still there


def test_on_limit_wait_never_holds_the_line_for_a_model_freeing_up_after_the_deadline() -> None:
    # `on_limit: wait` keeps a limited model first in line only while it can still go in time:
    # one that frees up after the deadline lets the ready models go, so no request is lost
    # while a healthy model remains.
    spec = load(task(NO_RETRY + "    on_limit: wait\n    timeouts: {total: 10}\n"))
    clock = Clock()
    run, ts = run_of(spec, clock)
    script(ts, small=[local_limit("small", 15.0)], medium=[answer("in time")])
    trace, result = drive(run)
    assert trace == ["go small 10s", "go medium 10s"]
    assert isinstance(result, Response) and result.content == "in time"
