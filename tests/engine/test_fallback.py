"""Fallback chains: which failures move on, which stop, and what the caller gets to see."""

from __future__ import annotations

from typing import Any

import pytest

from router import (
    AllModelsFailed,
    AuthenticationError,
    BadRequestError,
    ContentFiltered,
    ContextWindowExceeded,
    ModelError,
    NoRouteError,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimitError,
    RequestError,
)
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter, RequestClock, attempt_log, models_sent

# Model ids equal model names, so sandbox faults can target a model by its spec name.
CHAINS = (
    PROVIDERS
    + """
  other:
    type: anthropic
    base_url: "{anthropic}"
    api_key_env: OTHER_KEY
    local: true
models:
  oai-a: {provider: oai, id: oai-a, context_window: 8000}
  ant-a: {provider: ant, id: ant-a, context_window: 8000}
  oai-b: {provider: oai, id: oai-b, context_window: 4000}
  ant-big: {provider: ant, id: ant-big, context_window: 64000}
  keyed: {provider: other, id: keyed}
tasks:
  openai-first: {candidates: [oai-a], fallback: [ant-a]}
  anthropic-first: {candidates: [ant-a], fallback: [oai-a]}
  auth-moves-on:
    candidates: [oai-a]
    fallback: [ant-a]
    fallback_on: [authentication, unavailable]
  three: {candidates: [oai-a], fallback: [ant-a, oai-b]}
  two-tries: {candidates: [oai-a], fallback: [ant-a, oai-b], max_attempts: 2}
  windows: {candidates: [oai-a], fallback: [ant-a, oai-b, ant-big]}
  via-task: {candidates: [oai-a], fallback: [{task: backup}]}
  backup: {candidates: [ant-a], fallback: [oai-b]}
  deadline:
    candidates: [oai-a]
    fallback: [ant-a, oai-b]
    timeouts: {total: 150}
  keyed-first: {candidates: [keyed], fallback: [oai-a]}
"""
)
FIRST = {
    "openai": ("openai-first", "oai-a", "ant-a"),
    "anthropic": ("anthropic-first", "ant-a", "oai-a"),
}

FALLBACK_CLASSES: list[tuple[str, type[ProviderError], dict[str, Any]]] = [
    ("429", RateLimitError, {}),
    ("delay=5000", ProviderTimeout, {"timeout": 0.5}),
    ("500", ProviderUnavailable, {}),
    ("503", ProviderUnavailable, {}),
    ("529", ProviderUnavailable, {}),
    ("reset", ProviderUnavailable, {}),
    ("cut=1", ProviderUnavailable, {}),
    ("filter", ContentFiltered, {}),
    ("filter=finish", ContentFiltered, {}),
    ("badjson", ModelError, {}),
    ("html", ModelError, {}),
]


@pytest.mark.parametrize(
    ("fault", "error", "params"), FALLBACK_CLASSES, ids=[f[0] for f in FALLBACK_CLASSES]
)
def test_each_fallback_class_moves_to_the_next_model_and_is_recorded(
    make_router: MakeRouter,
    sb: Sandbox,
    kind: str,
    fault: str,
    error: type[ProviderError],
    params: dict[str, Any],
) -> None:
    task, first, second = FIRST[kind]
    sb.script(fault, model=first)
    r = make_router(CHAINS).complete(task, prompt="Keep going. Please.", **params)
    assert r.content == "Summary: Keep going. Please."
    assert attempt_log(r.attempts) == [(first, error.__name__), (second, None)]
    failed = r.attempts[0].error
    assert failed is not None and (failed.provider, failed.model) == (
        {"oai-a": "oai", "ant-a": "ant"}[first],
        first,
    )
    assert models_sent(sb) == [first, second]


def test_rate_limit_attempt_carries_retry_after(make_router: MakeRouter, sb: Sandbox) -> None:
    sb.script("429,retry-after=7", model="oai-a")
    r = make_router(CHAINS).complete("openai-first", prompt="Hi.")
    error = r.attempts[0].error
    assert isinstance(error, RateLimitError)
    assert (error.status, error.retry_after) == (429, 7.0)


def test_context_window_error_skips_to_a_model_with_a_larger_window(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    # oai-a (8k) fails; ant-a (8k, same) and oai-b (4k, smaller) cannot help; ant-big (64k) can.
    sb.script("context", model="oai-a")
    r = make_router(CHAINS).complete("windows", prompt="A long document.")
    assert attempt_log(r.attempts) == [("oai-a", "ContextWindowExceeded"), ("ant-big", None)]
    assert models_sent(sb) == ["oai-a", "ant-big"]


def test_context_window_error_ends_the_chain_when_no_larger_window_is_left(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.script("context", model="ant-a")  # the fallback oai-a has the same 8k window
    with pytest.raises(AllModelsFailed) as info:
        make_router(CHAINS).complete("anthropic-first", prompt="Hi.")
    assert [type(e) for e in info.value.exceptions] == [ContextWindowExceeded]
    assert models_sent(sb) == ["ant-a"]


@pytest.mark.parametrize("status", ["401", "403"])
def test_authentication_error_stops_the_chain_by_default(
    make_router: MakeRouter, sb: Sandbox, kind: str, status: str
) -> None:
    task, first, _ = FIRST[kind]
    sb.script(status, model=first)
    with pytest.raises(AllModelsFailed) as info:
        make_router(CHAINS).complete(task, prompt="Hi.")
    [error] = info.value.exceptions
    assert isinstance(error, AuthenticationError) and error.model == first
    assert models_sent(sb) == [first]


def test_authentication_error_moves_on_when_the_task_lists_it(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.script("401", model="oai-a")
    r = make_router(CHAINS).complete("auth-moves-on", prompt="Hi.")
    assert attempt_log(r.attempts) == [("oai-a", "AuthenticationError"), ("ant-a", None)]


@pytest.mark.parametrize("status", ["400", "404", "422"])
def test_bad_request_does_not_fall_back(
    make_router: MakeRouter, sb: Sandbox, kind: str, status: str
) -> None:
    task, first, _ = FIRST[kind]
    sb.script(status, model=first)
    with pytest.raises(AllModelsFailed) as info:
        make_router(CHAINS).complete(task, prompt="Hi.")
    assert [type(e) for e in info.value.exceptions] == [BadRequestError]
    assert models_sent(sb) == [first]


def test_error_kind_not_in_fallback_on_stops_the_chain(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.script("429", model="oai-a")  # auth-moves-on only moves on after authentication/unavailable
    with pytest.raises(AllModelsFailed) as info:
        make_router(CHAINS).complete("auth-moves-on", prompt="Hi.")
    assert [type(e) for e in info.value.exceptions] == [RateLimitError]
    assert models_sent(sb) == ["oai-a"]


def test_when_every_model_fails_all_errors_are_raised_in_order(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.script("429", model="oai-a")
    sb.script("529", model="ant-a")
    sb.script("badjson", model="oai-b")
    with pytest.raises(AllModelsFailed) as info:
        make_router(CHAINS).complete("three", prompt="Hi.")
    group = info.value
    assert isinstance(group, ExceptionGroup) and group.task == "three"
    assert [(type(e), e.model) for e in group.exceptions] == [
        (RateLimitError, "oai-a"),
        (ProviderUnavailable, "ant-a"),
        (ModelError, "oai-b"),
    ]
    assert models_sent(sb) == ["oai-a", "ant-a", "oai-b"]


def test_except_star_splits_all_models_failed_by_error_class(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.script("429", model="oai-a")
    sb.set_fault("503")
    router = make_router(CHAINS)
    rate_limited: tuple[ProviderError, ...] = ()
    unavailable: tuple[ProviderError, ...] = ()
    try:
        router.complete("three", prompt="Hi.")
    except* RateLimitError as group:
        rate_limited = group.exceptions
    except* ProviderUnavailable as group:
        assert isinstance(group, AllModelsFailed)
        unavailable = group.exceptions
    assert [e.model for e in rate_limited] == ["oai-a"]
    assert [e.model for e in unavailable] == ["ant-a", "oai-b"]


def test_max_attempts_bounds_the_models_tried(make_router: MakeRouter, sb: Sandbox) -> None:
    sb.set_fault("503")
    with pytest.raises(AllModelsFailed) as info:
        make_router(CHAINS).complete("two-tries", prompt="Hi.")
    assert len(info.value.exceptions) == 2
    assert models_sent(sb) == ["oai-a", "ant-a"]


def test_task_fallback_continues_with_that_tasks_chain(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    sb.script("503", model="oai-a")
    sb.script("503", model="ant-a")
    r = make_router(CHAINS).complete("via-task", prompt="Hi.")
    assert attempt_log(r.attempts) == [
        ("oai-a", "ProviderUnavailable"),
        ("ant-a", "ProviderUnavailable"),
        ("oai-b", None),
    ]
    assert r.model == "oai-b"


def test_total_deadline_stops_the_chain(make_router: MakeRouter, sb: Sandbox) -> None:
    # Each request "takes" 100 s on the fake clock; the task allows 150 s in total.
    sb.set_fault("503")
    router = make_router(CHAINS, clock=RequestClock(sb, per_request=100))
    with pytest.raises(AllModelsFailed) as info:
        router.complete("deadline", prompt="Hi.")
    errors = info.value.exceptions
    assert [type(e) for e in errors] == [ProviderUnavailable, ProviderUnavailable, ProviderTimeout]
    expired = errors[-1]
    assert isinstance(expired, ProviderTimeout) and expired.model == "oai-b"  # never sent
    assert "deadline of 150s passed" in str(expired)
    assert models_sent(sb) == ["oai-a", "ant-a"]


def test_attempt_timeout_never_exceeds_the_time_left(make_router: MakeRouter, sb: Sandbox) -> None:
    sb.script("503", model="oai-a")
    router = make_router(CHAINS, clock=RequestClock(sb, per_request=100))
    assert router.complete("deadline", prompt="Hi.").model == "ant-a"
    timeouts = [q.headers.get("x-stainless-read-timeout") for q in sb.requests]
    assert timeouts == ["60.0", "50.0"]  # 150 s total, 100 s spent on the first attempt


def test_latencies_are_measured_on_the_injected_clock(make_router: MakeRouter, sb: Sandbox) -> None:
    sb.script("503", model="oai-a")
    router = make_router(CHAINS, clock=RequestClock(sb, per_request=100))
    r = router.complete("openai-first", prompt="Hi.")
    assert [a.latency_s for a in r.attempts] == [100.0, 100.0]
    assert r.latency_s == 200.0


def test_a_request_no_model_can_serve_fails_without_sending(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    # None of these models declares vision.
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    with pytest.raises(NoRouteError, match="no model can take this request") as info:
        make_router(CHAINS).complete("openai-first", [{"role": "user", "content": [image]}])
    assert isinstance(info.value, RequestError) and not isinstance(info.value, AllModelsFailed)
    assert info.value.task == "openai-first"
    assert info.value.skipped == (("oai-a", "lacks vision"), ("ant-a", "lacks vision"))
    assert "oai-a: lacks vision; ant-a: lacks vision" in str(info.value)
    assert sb.requests == []


def test_provider_with_unset_key_variable_is_skipped(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(CHAINS)
    plan = router.explain("keyed-first", prompt="Hi.")
    assert {c.model: c.skipped for c in plan.skipped} == {"keyed": "OTHER_KEY is not set"}
    r = router.complete("keyed-first", prompt="Hi.")
    assert attempt_log(r.attempts) == [("oai-a", None)]
    assert models_sent(sb) == ["oai-a"]


def test_provider_with_its_key_variable_set_is_called(make_router: MakeRouter, sb: Sandbox) -> None:
    r = make_router(CHAINS, OTHER_KEY="sk-other").complete("keyed-first", prompt="Hi.")
    assert r.model == "keyed" and models_sent(sb) == ["keyed"]
