"""Hooks on streams, sync and async, through the real SDKs against the sandbox (which streams
its answer a word at a time, so a placeholder such as ``[EMAIL_1]`` comes split over three
chunks: `` [``, ``EMAIL_1``, ``]``).

- ``after_chunk`` rewrites each chunk as it comes, and may hold text back;
- ``after`` sees the whole answer once the stream ended; a hook with ``after`` and no
  ``after_chunk`` holds the stream back until it passed, so its rejection still falls back;
- a rejection once a chunk reached the caller ends the stream with StreamInterrupted.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import pytest

from router import (
    Chunk,
    Hook,
    HookContext,
    HookFailed,
    Response,
    ResponseRejected,
    Router,
    StreamInterrupted,
)
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter, last_user_content, models_sent, run_async

SPEC = (
    PROVIDERS
    + """
models:
  first: {provider: oai, id: first, capabilities: [streaming]}
  second: {provider: ant, id: second, capabilities: [streaming]}
tasks:
  chat: {candidates: [first], fallback: [second], hooks: [h]}
"""
)
PROMPT = "Summarize: write to alice@example.com today."
PLACEHOLDER, EMAIL = "[EMAIL_1]", "alice@example.com"


class StreamingMask:
    """Masks before; restores in each chunk, holding back a ``[`` that may open a placeholder
    until the chunk that closes it (or the last chunk)."""

    def before(self, ctx: HookContext) -> None:
        ctx.state["held"] = ""
        ctx.messages = [
            dataclasses.replace(m, content=m.content.replace(EMAIL, PLACEHOLDER))
            if isinstance(m.content, str)
            else m
            for m in ctx.messages
        ]

    def after_chunk(self, ctx: HookContext, chunk: Chunk) -> Chunk:
        text = ctx.state["held"] + chunk.delta
        cut = text.rfind("[")
        if chunk.finish_reason is None and cut != -1 and "]" not in text[cut:]:
            text, ctx.state["held"] = text[:cut], text[cut:]
        else:
            ctx.state["held"] = ""
        return dataclasses.replace(chunk, delta=text.replace(PLACEHOLDER, EMAIL))


def _drain(router: Router, asynchronous: bool, **params: Any) -> tuple[list[str], Response]:
    if not asynchronous:
        stream = router.stream("chat", prompt=PROMPT, **params)
        deltas = [c.delta for c in stream]
        assert stream.response is not None
        return deltas, stream.response

    async def go(r: Router) -> tuple[list[str], Response]:
        stream = r.astream("chat", prompt=PROMPT, **params)
        deltas = [c.delta async for c in stream]
        assert stream.response is not None
        return deltas, stream.response

    return run_async(router, go)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_chunks_are_restored_as_they_come_across_a_split_placeholder(
    make_router: MakeRouter, sb: Sandbox, asynchronous: bool
) -> None:
    router = make_router(SPEC, hooks={"h": StreamingMask()})
    deltas, response = _drain(router, asynchronous)

    assert last_user_content(sb.requests[0].body) == PROMPT.replace(EMAIL, PLACEHOLDER)
    assert EMAIL in "".join(deltas) and "[" not in "".join(deltas)
    assert len([d for d in deltas if d]) > 3  # still a stream, not one held-back block
    assert response.content == "".join(deltas)


class WholeAnswerJudge:
    """``after`` only: the router holds the stream back until it has judged the whole."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def after(self, ctx: HookContext, response: Response) -> Response | None:
        self.seen.append(response.content)
        if response.model == "first":
            raise ResponseRejected("not good enough", code="quality")
        return dataclasses.replace(response, content=response.content.upper())


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_whole_answer_hook_holds_the_stream_back_so_its_rejection_falls_back(
    make_router: MakeRouter, sb: Sandbox, asynchronous: bool
) -> None:
    judge = WholeAnswerJudge()
    router = make_router(SPEC, hooks={"h": judge})
    deltas, response = _drain(router, asynchronous)

    assert models_sent(sb) == ["first", "second"]
    assert len(judge.seen) == 2  # both whole answers, the first one never shown
    assert "".join(deltas) == judge.seen[1].upper()  # what after() returned, as sent
    assert response.model == "second" and response.content == "".join(deltas)
    assert isinstance(response.attempts[0].error, ResponseRejected)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_rejection_after_the_first_chunk_raises_stream_interrupted(
    make_router: MakeRouter, sb: Sandbox, asynchronous: bool
) -> None:
    class Cutter:
        def after_chunk(self, ctx: HookContext, chunk: Chunk) -> None:
            if "EMAIL_1" in chunk.delta:
                raise ResponseRejected("a placeholder leaked", code="leak")

    router = make_router(SPEC, hooks={"h": Cutter()})
    with pytest.raises(StreamInterrupted) as caught:
        _drain_placeholder(router, asynchronous)
    error = caught.value
    assert error.partial_text.startswith("Summary: Summarize: write to [")
    assert isinstance(error.__cause__, ResponseRejected) and error.__cause__.hook == "h"
    assert models_sent(sb) == ["first"]  # no failover after output reached the caller
    assert [a.outcome for a in error.attempts] == ["error"]


def _drain_placeholder(router: Router, asynchronous: bool) -> None:
    prompt = PROMPT.replace(EMAIL, PLACEHOLDER)
    if not asynchronous:
        list(router.stream("chat", prompt=prompt))
        return

    async def go(r: Router) -> None:
        async for _ in r.astream("chat", prompt=prompt):
            pass

    run_async(router, go)


def test_a_final_check_on_a_flowing_stream_can_only_reject(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    class Both:
        def after_chunk(self, ctx: HookContext, chunk: Chunk) -> None:
            return None

        def after(self, ctx: HookContext, response: Response) -> Response:
            if "today" in response.content:
                raise ResponseRejected("says today")
            return dataclasses.replace(response, content="ignored")

    router = make_router(SPEC, hooks={"h": Both()})
    with pytest.raises(StreamInterrupted) as caught:
        list(router.stream("chat", prompt=PROMPT))
    assert caught.value.partial_text.endswith("today.")  # all of it had been delivered
    assert models_sent(sb) == ["first"]

    stream = router.stream("chat", prompt="Hello.")
    assert "".join(c.delta for c in stream) != "ignored"  # delivered text is not rewritten


def test_a_hook_failing_on_a_stream_before_output_ends_it_with_hook_failed(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    class Broken:
        def after(self, ctx: HookContext, response: Response) -> None:
            raise KeyError("x")

    router = make_router(SPEC, hooks={"h": Broken()})
    with pytest.raises(HookFailed) as caught:
        list(router.stream("chat", prompt=PROMPT))
    assert caught.value.stage == "after" and models_sent(sb) == ["first"]
    assert [type(a.error).__name__ for a in caught.value.attempts] == ["ResponseRejected"]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_an_inline_hook_runs_on_the_callers_thread_and_others_in_worker_threads(
    make_router: MakeRouter, asynchronous: bool
) -> None:
    threads: dict[str, set[str]] = {"inline": set(), "threaded": set()}

    class Chunks(Hook):
        def __init__(self, inline: bool) -> None:
            self.inline = inline

        def after_chunk(self, ctx: HookContext, chunk: Chunk) -> None:
            threads["inline" if self.inline else "threaded"].add(threading.current_thread().name)

    spec = SPEC.replace("hooks: [h]", "hooks: [h, i]")
    router = make_router(spec, hooks={"h": Chunks(False), "i": Chunks(True)})
    caller = _caller_thread(router, asynchronous)
    assert threads["inline"] == {caller}
    assert {name.split("_")[0] for name in threads["threaded"]} == {"router-hook"}


def _caller_thread(router: Router, asynchronous: bool) -> str:
    if not asynchronous:
        list(router.stream("chat", prompt=PROMPT))
        return threading.current_thread().name

    async def go(r: Router) -> str:
        async for _ in r.astream("chat", prompt=PROMPT):
            pass
        return threading.current_thread().name

    return run_async(router, go)
