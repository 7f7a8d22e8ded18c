"""Hooks around every call, through the real Router and SDKs against the sandbox: what the
sandbox received after a ``before`` rewrote the request, a refusal with nothing sent, an answer
rejected by ``after`` and the chain moving on, hooks that raise or hang (bounded by the
request's deadline), confinement holding when a hook rewrites a request, observers seeing
every attempt. Streams: tests/engine/test_hooks_streams.py."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from router import (
    ConfigError,
    Hook,
    HookContext,
    HookFailed,
    HookTimeout,
    NoRouteError,
    RequestError,
    RequestRefused,
    Response,
    ResponseRejected,
)
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter, last_user_content, models_sent, run_async

CANARY = "canary-4d1f-secret-value"

SPEC = (
    PROVIDERS
    + """
models:
  first: {provider: oai, id: first}
  second: {provider: ant, id: second}
  local: {provider: oai, id: local}
  cloud: {provider: oai, id: cloud, capabilities: [tools]}
tasks:
  chat: {candidates: [first], fallback: [second], hooks: [h]}
  plain: {candidates: [first], fallback: [second]}
  private: {candidates: [local], fallback: [cloud], hooks: [h]}
rules:
  - name: on-prem
    when: {tags: [private]}
    only: [local]
"""
)


def _user_text(body: dict[str, Any]) -> str:
    content = last_user_content(body)
    return content if isinstance(content, str) else content[0]["text"]


class Mask(Hook):
    """Replaces an e-mail address by a placeholder before, and puts it back after: the map
    lives in ctx.state, per request."""

    def before(self, ctx: HookContext) -> None:
        out = []
        for m in ctx.messages:
            if isinstance(m.content, str) and "alice@example.com" in m.content:
                ctx.state["[EMAIL_1]"] = "alice@example.com"
                out.append(
                    dataclasses.replace(
                        m, content=m.content.replace("alice@example.com", "[EMAIL_1]")
                    )
                )
            else:
                out.append(m)
        ctx.messages = out

    def after(self, ctx: HookContext, response: Response) -> Response:
        text = response.content
        for placeholder, original in ctx.state.items():
            text = text.replace(placeholder, original)
        return dataclasses.replace(response, content=text)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_masking_round_trip_sends_the_placeholder_and_answers_with_the_original(
    make_router: MakeRouter, sb: Sandbox, asynchronous: bool
) -> None:
    router = make_router(SPEC, hooks={"h": Mask()})
    prompt = "Summarize: write to alice@example.com today."
    if asynchronous:
        answer = run_async(router, lambda r: r.acomplete("chat", prompt=prompt))
    else:
        answer = router.complete("chat", prompt=prompt)

    [sent] = sb.requests
    assert _user_text(sent.body) == "Summarize: write to [EMAIL_1] today."
    assert "alice@example.com" in answer.content and "[EMAIL_1]" not in answer.content


def test_a_before_hook_may_change_the_parameters_and_they_are_checked(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    def cooler(ctx: HookContext) -> None:
        ctx.params["temperature"] = 0.1

    router = make_router(SPEC, hooks={"h": cooler})
    router.complete("chat", prompt="Hello.", temperature=1.5)
    assert sb.requests[-1].body["temperature"] == 0.1

    def broken(ctx: HookContext) -> None:
        ctx.params["temperature"] = "hot"

    router = make_router(SPEC, hooks={"h": broken})
    with pytest.raises(RequestError) as caught:
        router.complete("chat", prompt="Hello.")
    assert "hook 'h' rewrote it" in str(caught.value)
    assert caught.value.argument == "temperature"
    assert len(sb.requests) == 1  # nothing more was sent


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_refusal_sends_nothing_and_names_the_hook(
    make_router: MakeRouter, sb: Sandbox, asynchronous: bool
) -> None:
    async def no_keys(ctx: HookContext) -> None:
        if "sk-" in ctx.text():
            raise RequestRefused("a key was pasted into the prompt", code="secret_in_prompt")

    router = make_router(SPEC, hooks={"h": no_keys})
    prompt = f"Summarize: my key is sk-{CANARY}."
    with pytest.raises(RequestRefused) as caught:
        if asynchronous:
            run_async(router, lambda r: r.acomplete("chat", prompt=prompt))
        else:
            router.complete("chat", prompt=prompt)

    error = caught.value
    assert sb.requests == []
    assert (error.hook, error.code) == ("h", "secret_in_prompt")
    assert str(error) == "refused by hook 'h', secret_in_prompt: a key was pasted into the prompt"
    assert error.__cause__ is None and error.__context__ is None
    assert isinstance(error, RequestError)


def test_an_answer_rejected_after_moves_the_chain_to_the_next_model(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    class Judge:
        def after(self, ctx: HookContext, response: Response) -> None:
            if response.model == "first":
                raise ResponseRejected("off-topic answer", code="off_topic")

    router = make_router(SPEC, hooks={"h": Judge()})
    answer = router.complete("chat", prompt="Hello.")

    assert models_sent(sb) == ["first", "second"]
    assert answer.model == "second"
    rejected = answer.attempts[0].error
    assert isinstance(rejected, ResponseRejected)
    assert (rejected.hook, rejected.code, rejected.model) == ("h", "off_topic", "first")
    assert [a.outcome for a in answer.attempts] == ["error", "ok"]


def test_when_every_answer_is_rejected_the_request_fails_with_each_rejection(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    def judge_all(ctx: HookContext, response: Response) -> None:
        raise ResponseRejected("no")

    router = make_router(SPEC, hooks={"h": type("J", (), {"after": staticmethod(judge_all)})()})
    with pytest.raises(Exception) as caught:
        router.complete("chat", prompt="Hello.")
    assert [type(e).__name__ for e in caught.value.exceptions] == ["ResponseRejected"] * 2  # type: ignore[attr-defined]


@pytest.mark.parametrize("stage", ["before", "after"])
def test_a_hook_that_raises_ends_the_request_with_hook_failed_and_no_secret(
    make_router: MakeRouter, sb: Sandbox, stage: str
) -> None:
    def explode(*args: Any) -> None:
        raise ValueError(f"cannot read {CANARY}")

    router = make_router(SPEC, hooks={"h": type("H", (), {stage: staticmethod(explode)})()})
    with pytest.raises(HookFailed) as caught:
        router.complete("chat", prompt="Hello.")

    error = caught.value
    assert (error.hook, error.stage) == ("h", stage)
    assert "hook 'h' failed in " + stage + ": it raised ValueError at test_hooks.py:" in str(error)
    assert CANARY not in str(error) and CANARY not in repr(error)
    assert error.__cause__ is None and error.__context__ is None
    # After: the one answer is withheld and no other model is tried (the same hook would fail).
    assert models_sent(sb) == ([] if stage == "before" else ["first"])
    assert [a.model for a in error.attempts] == ([] if stage == "before" else ["first"])


def test_a_hook_returning_what_its_stage_cannot_use_fails(make_router: MakeRouter) -> None:
    router = make_router(SPEC, hooks={"h": lambda ctx: ctx.messages})
    with pytest.raises(HookFailed, match="it returned list: a before hook changes"):
        router.complete("chat", prompt="Hello.")


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """What a hanging hook waits for: set when the test ends, so its thread ends too."""
    event = threading.Event()
    yield event
    event.set()


HANGING = SPEC.replace("chat: {candidates", "chat: {timeouts: {total: 0.3}, candidates")


@pytest.mark.parametrize(
    "kind",
    [
        "sync hook, sync call",
        "async hook, sync call",
        "sync hook, async call",
        "async hook, async call",
    ],
)
def test_a_hanging_hook_is_bounded_by_the_requests_deadline(
    make_router: MakeRouter, sb: Sandbox, gate: threading.Event, kind: str
) -> None:
    if kind.startswith("sync hook"):

        def hang(ctx: HookContext) -> None:
            gate.wait(30)

        hook: Any = hang
    else:

        async def ahang(ctx: HookContext) -> None:
            await asyncio.sleep(30)

        hook = ahang
    router = make_router(HANGING, hooks={"h": hook})
    started = time.monotonic()
    with pytest.raises(HookTimeout) as caught:
        if kind.endswith("async call"):
            run_async(router, lambda r: r.acomplete("chat", prompt="Hello."))
        else:
            router.complete("chat", prompt="Hello.")
    assert time.monotonic() - started < 5.0  # the deadline is 0.3 s; a bound, not a timing
    assert "hook 'h' was still running in before when the request's deadline (0.3s)" in str(
        caught.value
    )
    assert sb.requests == []


def test_a_hook_cannot_take_a_confined_request_outside_its_rule(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    def escape(ctx: HookContext) -> None:
        ctx.params["tags"] = []  # the rule matched on the caller's tags: it still holds
        ctx.params["tools"] = [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
        ]

    sb.set_fault("500")
    router = make_router(SPEC, hooks={"h": escape})
    with pytest.raises(NoRouteError) as caught:
        router.complete("private", prompt="Private.", tags=["private"])
    assert "the request as hook 'h' rewrote it" in str(caught.value)
    assert sb.requests == []  # cloud (the only model with tools) is outside rule on-prem

    router = make_router(SPEC, hooks={"h": lambda ctx: ctx.params.update(tags=[])})
    with pytest.raises(Exception):  # noqa: B017 - local fails (500); cloud is never tried
        router.complete("private", prompt="Private.", tags=["private"])
    assert models_sent(sb) == ["local"]


def test_observers_see_every_attempt_in_order_and_their_errors_are_only_logged(
    make_router: MakeRouter, sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str, str]] = []

    class Watch:
        def on_attempt(self, ctx: HookContext, attempt: Any) -> None:
            seen.append((attempt.model, attempt.outcome))
            raise RuntimeError(CANARY)

    sb.script("500", model="first")
    router = make_router(SPEC, hooks={"h": Watch()})
    with caplog.at_level(logging.WARNING, logger="router.hooks"):
        answer = router.complete("chat", prompt="Hello.")

    assert answer.model == "second"
    assert seen == [("first", "error"), ("second", "ok")]
    assert "hook 'h' failed in on_attempt: it raised RuntimeError" in caplog.text
    assert CANARY not in caplog.text


def test_an_async_observer_on_an_async_call(make_router: MakeRouter, sb: Sandbox) -> None:
    seen: list[str] = []

    class Watch:
        async def on_attempt(self, ctx: HookContext, attempt: Any) -> None:
            seen.append(f"{ctx.task}:{attempt.model}:{attempt.outcome}")

    sb.script("500", model="first")
    router = make_router(SPEC, hooks={"h": Watch()})
    run_async(router, lambda r: r.acomplete("chat", prompt="Hello."))
    assert seen == ["chat:first:error", "chat:second:ok"]


def test_a_name_the_spec_lists_must_be_registered(make_router: MakeRouter) -> None:
    with pytest.raises(ConfigError) as caught:
        make_router(SPEC, hooks={"hh": Mask()})
    [d, _] = caught.value.diagnostics  # tasks chat and private both list h
    assert d.code == "hook-not-registered" and d.path == "$.tasks.chat.hooks[0]"
    assert d.hint == "did you mean 'hh'?"
    with pytest.raises(ConfigError, match="hook 'h' is not registered"):
        make_router(SPEC)  # no hooks given at all
    with pytest.raises(ConfigError, match=r"is the class Mask: register an instance \(Mask\(\)\)"):
        make_router(SPEC, hooks={"h": Mask})
    with pytest.raises(ConfigError, match="expected a function"):
        make_router(SPEC, hooks={"h": 42})


def test_a_router_without_hooks_plans_none(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(SPEC, hooks={"h": Mask()})
    assert router.explain("plain", prompt="Hi.").hooks == ()
    assert router.complete("plain", prompt="Hi.").model == "first"
    assert [h.name for h in router.explain("chat", prompt="Hi.").hooks] == ["h"]


def test_hooks_run_in_spec_order_before_and_in_reverse_after(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    order: list[str] = []

    def named(name: str) -> Any:
        class H:
            def before(self, ctx: HookContext) -> None:
                order.append(f"before {name}")

            def after(self, ctx: HookContext, response: Response) -> None:
                order.append(f"after {name}")

        return H()

    spec = SPEC.replace("hooks: [h]}", "hooks: [t, h]}", 1).replace(
        "tasks:", "defaults:\n  hooks: [d]\ntasks:", 1
    )
    router = make_router(spec, hooks={"d": named("d"), "t": named("t"), "h": named("h")})
    plan = router.explain("chat", prompt="Hi.")
    assert [(h.name, h.origin) for h in plan.hooks] == [
        ("d", "defaults"),
        ("t", "task 'chat'"),
        ("h", "task 'chat'"),
    ]
    router.complete("chat", prompt="Hi.")
    assert order == ["before d", "before t", "before h", "after h", "after t", "after d"]


def test_an_embedding_calls_before_hooks_rewrite_its_input(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    spec = (
        PROVIDERS
        + """
models:
  emb: {provider: oai, id: sandbox-embed, kind: embedding, dimensions: 64}
tasks:
  vectors: {candidates: [emb], hooks: [h]}
"""
    )
    read: list[str] = []

    class MaskAndRead(Mask):
        def after(self, ctx: HookContext, response: Response) -> Response:
            read.append(response.model)
            return super().after(ctx, response)

    router = make_router(spec, hooks={"h": MaskAndRead()})
    router.embed("vectors", ["mail alice@example.com", "plain"])
    assert sb.requests[-1].body["input"] == ["mail [EMAIL_1]", "plain"]
    assert read == []  # after() reads answers, not vectors


def test_what_a_hook_sees_of_the_request(make_router: MakeRouter, sb: Sandbox) -> None:
    seen: dict[str, Any] = {}

    class Look:
        def before(self, ctx: HookContext) -> None:
            seen["before"] = (ctx.hook, ctx.task, ctx.requested_task, ctx.rule, ctx.stream)
            seen["facts"] = (ctx.embed, ctx.stage, dict(ctx.metadata), ctx.tags, ctx.attempts)
            seen["repr"] = repr(ctx)
            ctx.state["mine"] = 1

        def after(self, ctx: HookContext, response: Response) -> None:
            seen["after"] = (ctx.stage, dict(ctx.state), [a.model for a in ctx.attempts])
            try:
                ctx.messages = []
            except AttributeError as exc:
                seen["frozen"] = str(exc)
            seen["params"] = type(ctx.params).__name__

    router = make_router(SPEC, hooks={"h": Look()})
    router.complete("private", prompt=f"Private {CANARY}.", tags=["private"], metadata={"k": "v"})

    assert seen["before"] == ("h", "private", "private", "on-prem", False)
    assert seen["facts"] == (False, "before", {"k": "v"}, ("private",), ())
    assert seen["repr"] == "HookContext(hook='h', task='private', stage='before')"
    assert seen["after"] == ("walk", {"mine": 1}, [])  # the answering attempt is not yet recorded
    assert seen["frozen"] == "ctx.messages can be changed in before() only"
    assert seen["params"] == "mappingproxy"


def test_a_hedged_call_runs_after_on_the_answer_that_wins(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    spec = SPEC.replace(
        "plain: {candidates: [first], fallback: [second]}",
        "plain: {candidates: [first], fallback: [second], hedge: {after: 0.01, max_share: 1},"
        " hooks: [h]}",
    )
    router = make_router(spec, hooks={"h": Mask()})
    answer = run_async(
        router, lambda r: r.acomplete("plain", prompt="Summarize: alice@example.com.")
    )
    assert "alice@example.com" in answer.content
    assert all("[EMAIL_1]" in _user_text(r.body) for r in sb.requests)


def test_a_nested_change_is_seen_and_the_callers_objects_stay_as_they_were(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    def nested(ctx: HookContext) -> None:
        ctx.params["metadata"]["bad"] = ["not", "a", "scalar"]
        ctx.params["tags"].append("private")

    router = make_router(SPEC, hooks={"h": nested})
    metadata, tags = {"team": "a"}, ["x"]
    with pytest.raises(RequestError) as caught:  # checked again, so the change was seen
        router.complete("private", prompt="Hi.", metadata=metadata, tags=tags)
    assert "hook 'h' rewrote it" in str(caught.value) and caught.value.argument == "metadata['bad']"
    assert (metadata, tags) == ({"team": "a"}, ["x"])
    assert sb.requests == []


def test_an_inline_hook_that_overran_fails_when_it_returns(make_router: MakeRouter) -> None:
    class Slow(Hook):
        inline = True

        def before(self, ctx: HookContext) -> None:
            router.fake_time.sleep(10)  # type: ignore[attr-defined]  # the injected clock

    router = make_router(HANGING, hooks={"h": Slow()})  # timeouts.total: 0.3
    with pytest.raises(HookTimeout, match="hook 'h' was still running in before"):
        router.complete("chat", prompt="Hello.")
