"""timeouts.total bounds streams (sync and async), through the real SDKs against the sandbox:
a stream still sending, or silent, when the request's deadline comes ends with
StreamInterrupted (the partial text, a ProviderTimeout attempt) and its connection is closed; a
silence longer than timeouts.request (the idle bound) before the first chunk fails over."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import pytest

from router import AllModelsFailed, ProviderTimeout, Router, StreamInterrupted
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter, attempt_log, models_sent

DEADLINES = (
    PROVIDERS
    + """
models:
  gpt: {provider: oai, id: sandbox-gpt}
  claude: {provider: ant, id: sandbox-claude}
tasks:
  warm-up-openai: {candidates: [gpt]}
  warm-up-anthropic: {candidates: [claude]}
  openai-first:
    candidates: [gpt]
    fallback: [claude]
    timeouts: {total: TOTAL, request: REQUEST}
  anthropic-first:
    candidates: [claude]
    fallback: [gpt]
    timeouts: {total: TOTAL, request: REQUEST}
"""
)
FIRST = {
    "openai": ("openai-first", "gpt", "claude"),
    "anthropic": ("anthropic-first", "claude", "gpt"),
}
ID = {"gpt": "sandbox-gpt", "claude": "sandbox-claude"}
MODES = ("sync", "async")
PROMPT = "One two three four five."
ANSWER = "Summary: One two three four five."


def _spec(total: float, request: float = 60) -> str:
    return DEADLINES.replace("TOTAL", str(total)).replace("REQUEST", str(request))


def _stream(
    router: Router,
    sb: Sandbox,
    mode: str,
    task: str,
    fault: str,
    model_id: str,
    received: list[str],
    after_chunk: Callable[[], None] = lambda: None,
) -> BaseException | None:
    """Warm the router up (a whole stream from each provider: clients built, connections
    open), put ``fault`` on ``model_id``, then stream ``task``, appending each delta to
    ``received``. Returns the error the stream ended with, or None."""
    warm_up = ("warm-up-openai", "warm-up-anthropic")  # (the default deadline: 120 s)

    def arm() -> None:
        sb.reset()
        sb.set_fault(fault, model=model_id)

    def sync() -> None:
        for warm in warm_up:
            list(router.stream(warm, prompt="Warm up."))
        arm()
        for chunk in router.stream(task, prompt=PROMPT):
            received.append(chunk.delta)
            after_chunk()

    async def run() -> None:
        async with router:
            for warm in warm_up:
                async for _ in router.astream(warm, prompt="Warm up."):
                    pass
            arm()
            async for chunk in router.astream(task, prompt=PROMPT):
                received.append(chunk.delta)
                after_chunk()

    try:
        if mode == "sync":
            sync()
        else:
            asyncio.run(run())
    except (StreamInterrupted, AllModelsFailed) as exc:
        return exc
    return None


def _hung_up(sb: Sandbox) -> bool:
    """Whether the client closed the connection the sandbox was holding open (the sandbox
    notices it asynchronously: wait for that, a few seconds at most)."""
    for _ in range(500):
        if sb.stats["hangups"] >= 1:
            return True
        time.sleep(0.01)
    return False


def _cut_by_timeout(error: BaseException | None, sb: Sandbox, first: str) -> StreamInterrupted:
    """The stream ended as a cut one: StreamInterrupted caused by the attempt's
    ProviderTimeout, no other model asked (never a switch mid-text), the connection closed."""
    assert isinstance(error, StreamInterrupted)
    assert error.model == first
    assert attempt_log(error.attempts) == [(first, "ProviderTimeout")]
    assert isinstance(error.__cause__, ProviderTimeout)
    assert models_sent(sb) == [ID[first]]
    assert _hung_up(sb)  # the connection was closed, not left reading
    return error


def _chain(error: BaseException) -> list[str]:
    """The types of every exception reachable from ``error`` through causes and contexts."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop(0)
        if current is not None and current not in seen:
            seen.append(current)
            todo += [current.__cause__, current.__context__]
    return [type(e).__name__ for e in seen]


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_that_trickles_forever_ends_at_the_total_deadline_with_the_partial_text(
    make_router: MakeRouter, sb: Sandbox, kind: str, mode: str
) -> None:
    task, first, _ = FIRST[kind]
    router = make_router(_spec(total=10))
    clock = router.fake_time  # type: ignore[attr-defined]
    received: list[str] = []
    # The server sends a chunk every 5 ms, forever; each chunk the caller gets takes one
    # (injected) second, so the deadline passes after the tenth.
    error = _stream(
        router, sb, mode, task, "trickle=5", ID[first], received, lambda: clock.sleep(1)
    )
    cut = _cut_by_timeout(error, sb, first)
    assert len(received) == 10 and cut.partial_text == "".join(received)
    assert "deadline of 10s passed" in str(cut.__cause__)
    assert _chain(cut) == ["StreamInterrupted", "ProviderTimeout"]


# Streams that stop sending text after two chunks, in real time (unavoidably: what is tested
# is a read blocked on a socket, which only the deadline's timer or the read timeout ends):
# the fault, timeouts.total, timeouts.request, and the deadline's message when it ends it.
AFTER_TWO_CHUNKS = {
    # Silent: the read timeout is 60 s away, so only the deadline ends the blocked read
    # (sync: the watchdog shuts the socket down; async: the loop timer cancels the wait).
    "silent-until-the-deadline": ("stall=2", 1, 60, "deadline of 1s passed"),
    # SSE comments every 50 ms, forever: bytes keep the read timeout (0.3 s) from firing and
    # no chunk comes to check the clock at: only the deadline ends it.
    "kept-alive-until-the-deadline": ("stall=2,keepalive=50", 1, 0.3, "deadline of 1s passed"),
    # Silent longer than the read timeout (the idle bound), well before the deadline.
    "silent-past-the-read-timeout": ("stall=2", 60, 0.3, None),
}


@pytest.mark.parametrize("case", AFTER_TWO_CHUNKS)
@pytest.mark.parametrize("mode", MODES)
def test_a_stream_that_stops_sending_text_after_two_chunks_is_interrupted_with_them(
    make_router: MakeRouter, sb: Sandbox, kind: str, mode: str, case: str
) -> None:
    fault, total, request, ended_by = AFTER_TWO_CHUNKS[case]
    task, first, _ = FIRST[kind]
    router = make_router(_spec(total, request), clock=time.monotonic)
    received: list[str] = []
    error = _stream(router, sb, mode, task, fault, ID[first], received)
    cut = _cut_by_timeout(error, sb, first)
    assert received == ["Summary", ":"] and cut.partial_text == "Summary:"
    if ended_by is not None:
        assert ended_by in str(cut.__cause__)
        # Nothing internal (the watchdog's signal, the shut socket's read error) in the chain.
        assert _chain(cut) == ["StreamInterrupted", "ProviderTimeout"]
    else:  # the attempt's own read timeout (a ProviderTimeout from the adapter)
        assert "deadline" not in str(cut.__cause__)


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_that_stalls_before_its_first_chunk_fails_over_to_the_next_model(
    make_router: MakeRouter, sb: Sandbox, kind: str, mode: str
) -> None:
    # The idle bound is the read timeout (timeouts.request, 0.3 s here; real time again).
    task, first, second = FIRST[kind]
    router = make_router(_spec(total=60, request=0.3), clock=time.monotonic)
    received: list[str] = []
    assert _stream(router, sb, mode, task, "stall=0", ID[first], received) is None
    assert "".join(received) == ANSWER
    assert models_sent(sb) == [ID[first], ID[second]]
    assert _hung_up(sb)


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_silent_until_the_deadline_before_its_first_chunk_fails_with_every_attempt(
    make_router: MakeRouter, sb: Sandbox, kind: str, mode: str
) -> None:
    task, first, second = FIRST[kind]
    # Same-model retries on (2 attempts): none is scheduled once the deadline has passed.
    router = make_router(_spec(total=1), clock=time.monotonic, retries=True)
    received: list[str] = []
    error = _stream(router, sb, mode, task, "stall=0", ID[first], received)
    assert isinstance(error, AllModelsFailed) and received == []
    # The first timed out while silent; no time was left to try the second.
    assert [(type(e), getattr(e, "model", None)) for e in error.exceptions] == [
        (ProviderTimeout, first),
        (ProviderTimeout, second),
    ]
    assert "before this model could be tried" in str(error.exceptions[1])
    assert router.health()["retry_budgets"][task]["retries"] == 0
    assert models_sent(sb) == [ID[first]]
    assert _hung_up(sb)


def test_a_forked_child_still_ends_its_sync_streams_at_the_deadline(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    # The parent's stream starts the watchdog thread; a forked child (a prefork server's
    # worker) has no such thread and must get one of its own.
    router = make_router(_spec(total=1, request=5), clock=time.monotonic)
    parent = _stream(router, sb, "sync", "openai-first", "stall=2", "sandbox-gpt", [])
    assert isinstance(parent, StreamInterrupted)
    pid = os.fork()
    if pid == 0:  # the child: exit status 0 only for a stream cut at its deadline
        code = 1
        try:
            list(router.stream("openai-first", prompt=PROMPT))
        except StreamInterrupted as exc:
            code = 0 if "deadline of 1s passed" in str(exc.__cause__) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


async def _awarm_up(router: Router, sb: Sandbox, kind: str) -> None:
    """One whole async stream from ``kind``'s provider (client built, connection open), then
    a clean sandbox."""
    async for _ in router.astream(f"warm-up-{kind}", prompt="Warm up."):
        pass
    sb.reset()


def test_an_async_caller_slower_than_the_deadline_is_never_cancelled_between_chunks(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    # The deadline is a clock: time the caller spends between chunks counts. It ends the
    # stream at the next wait for a chunk, never by cancelling the caller's own code.
    task, first, _ = FIRST[kind]
    router = make_router(_spec(total=1), clock=time.monotonic)
    slept: list[bool] = []

    async def run() -> BaseException | None:
        async with router:
            await _awarm_up(router, sb, kind)
            try:
                async for chunk in router.astream(task, prompt=PROMPT):
                    assert chunk.delta == "Summary"
                    await asyncio.sleep(1.5)  # past the deadline: the timer fires meanwhile
                    slept.append(True)
            except StreamInterrupted as exc:
                return exc
        return None

    cut = asyncio.run(run())
    assert slept == [True]
    assert isinstance(cut, StreamInterrupted) and cut.partial_text == "Summary"
    assert attempt_log(cut.attempts) == [(first, "ProviderTimeout")]


def test_cancelling_an_async_stream_stays_a_cancellation_not_a_deadline(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    task, first, _ = FIRST[kind]
    router = make_router(_spec(total=60), clock=time.monotonic)
    received: list[str] = []

    async def consume() -> None:
        async for chunk in router.astream(task, prompt=PROMPT):
            received.append(chunk.delta)

    async def run() -> None:
        async with router:
            await _awarm_up(router, sb, kind)
            sb.set_fault("stall=2", model=ID[first])
            with pytest.raises(asyncio.TimeoutError):  # the caller's own timeout, unchanged
                await asyncio.wait_for(consume(), 0.5)

    asyncio.run(run())
    assert received == ["Summary", ":"]
    assert _hung_up(sb)


def test_a_sync_caller_slower_than_the_deadline_gets_stream_interrupted_at_its_next_chunk(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    task, first, _ = FIRST[kind]
    router = make_router(_spec(total=1), clock=time.monotonic)
    received: list[str] = []
    # The whole answer is on its way at once; the caller takes 1.5 s over the first chunk.
    error = _stream(
        router, sb, "sync", task, "chunk-delay=1", ID[first], received, lambda: time.sleep(1.5)
    )
    assert isinstance(error, StreamInterrupted) and error.partial_text == "Summary"
    assert received == ["Summary"]
    assert attempt_log(error.attempts) == [(first, "ProviderTimeout")]
