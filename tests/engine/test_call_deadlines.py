"""timeouts.total bounds non-streamed calls too (sync and async), through the real SDKs against
the sandbox: an answer whose head or body is still arriving, a line or a byte at a time, when
the request's deadline comes ends its attempt with the request's ProviderTimeout and the
connection closed, and the chain gives up (no time is left for the fallback) with
AllModelsFailed; a caller's own cancellation stays a cancellation."""

from __future__ import annotations

import asyncio
import time

import pytest

from router import AllModelsFailed, ProviderTimeout, Router
from router.sandbox import Sandbox

from .helpers import MakeRouter, attempt_log, models_sent
from .test_stream_deadlines import FIRST, ID, MODES, PROMPT, _chain, _hung_up, _spec


def _complete(router: Router, mode: str, task: str) -> BaseException | None:
    """``task`` answered with complete (sync) or acomplete (async); the error it raised."""
    try:
        if mode == "sync":
            router.complete(task, prompt=PROMPT)
        else:

            async def run() -> None:
                async with router:
                    await router.acomplete(task, prompt=PROMPT)

            asyncio.run(run())
    except AllModelsFailed as exc:
        return exc
    return None


def _gave_up_at_the_deadline(
    error: BaseException | None, sb: Sandbox, kind: str, *, cut_by_deadline: bool = True
) -> None:
    """AllModelsFailed: the first model's attempt a ProviderTimeout (``cut_by_deadline``: the
    deadline's, not the read timeout's), the fallback never sent (the deadline had passed),
    the held connection closed by the client."""
    _, first, fallback = FIRST[kind]
    assert isinstance(error, AllModelsFailed)
    cut, skipped = error.exceptions
    assert isinstance(cut, ProviderTimeout) and isinstance(skipped, ProviderTimeout)
    assert (cut.model, skipped.model) == (first, fallback)
    if cut_by_deadline:
        assert "passed while this model was still answering" in str(cut)
    assert "passed before this model could be tried" in str(skipped)
    assert models_sent(sb) == [ID[first]]
    assert _hung_up(sb)
    # Nothing internal (the watchdog's signal, a cancellation, a socket error) in any chain.
    assert _chain(error) == ["AllModelsFailed"]
    assert _chain(cut) == ["ProviderTimeout"]


# How a server can hold a call past its deadline: the head at once, then one byte of JSON
# every 20 ms (seconds for the whole body); a status line, then a header line every 20 ms,
# never the end of the head; silence, no status line. The first two keep every read far
# inside the read timeout: only the total deadline (a real second) ends them. In silence the
# read timeout (capped by the time left) and the deadline come together: either ends it.
HOLDS = {"body trickled": "trickle=20", "head kept alive": "keepalive=20", "silence": "stall=0"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hold", list(HOLDS))
def test_a_call_held_past_the_deadline_ends_with_a_timeout_and_all_models_failed(
    make_router: MakeRouter, sb: Sandbox, kind: str, mode: str, hold: str
) -> None:
    task, first, _ = FIRST[kind]
    router = make_router(_spec(total=1, request=30), clock=time.monotonic)
    sb.set_fault(HOLDS[hold], model=ID[first])
    error = _complete(router, mode, task)
    _gave_up_at_the_deadline(error, sb, kind, cut_by_deadline=hold != "silence")


def test_cancelling_an_async_call_stays_a_cancellation_not_a_deadline(
    make_router: MakeRouter, sb: Sandbox, kind: str
) -> None:
    task, first, _ = FIRST[kind]
    router = make_router(_spec(total=60), clock=time.monotonic)
    sb.set_fault("trickle=20", model=ID[first])

    async def run() -> None:
        async with router:
            call = asyncio.ensure_future(router.acomplete(task, prompt=PROMPT))
            while not sb.requests:  # cancel once the answer has started arriving
                await asyncio.sleep(0.01)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call

    asyncio.run(run())
    assert models_sent(sb) == [ID[first]]
    assert _hung_up(sb)


@pytest.mark.parametrize("mode", MODES)
def test_an_answer_well_inside_the_deadline_is_untouched(
    make_router: MakeRouter, sb: Sandbox, kind: str, mode: str
) -> None:
    task, first, _ = FIRST[kind]
    router = make_router(_spec(total=60), clock=time.monotonic)
    if mode == "sync":
        response = router.complete(task, prompt=PROMPT)
    else:

        async def run() -> None:
            async with router:
                nonlocal response
                response = await router.acomplete(task, prompt=PROMPT)

        response = None
        asyncio.run(run())
    assert response is not None and response.model == first
    assert attempt_log(response.attempts) == [(first, None)]
