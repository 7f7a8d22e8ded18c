"""Async streams stopped mid-way clean up deterministically and quietly, through the real SDKs
against the sandbox: ``aclose()`` closes every layer beneath (nodes, adapter, HTTP response)
before it returns, so even a bare ``loop.close()`` afterwards finds nothing pending; a stream
abandoned without ``aclose()`` is closed when ``asyncio.run()`` ends, without "an error
occurred during closing of asynchronous generator", and its connection is closed. Nothing is
logged by asyncio, printed, or warned (a ResourceWarning counts)."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import warnings
from collections.abc import Callable, Iterator

import pytest

from router import AsyncStream, Router
from router.sandbox import Sandbox

from .helpers import MakeRouter
from .test_stream_deadlines import FIRST, ID, PROMPT, _hung_up, _spec

Trouble = Callable[[], list[str]]


@pytest.fixture
def trouble(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> Iterator[Trouble]:
    """``trouble()``: everything that went wrong quietly so far (after a collection): asyncio's
    log records, stderr, unraisable exceptions (a ResourceWarning from a finalizer among them)
    and warnings."""
    found: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: found.append(repr(u.exc_value)))
    caplog.set_level(logging.DEBUG, logger="asyncio")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", ResourceWarning)

        def report() -> list[str]:
            gc.collect()
            logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
            err = capfd.readouterr().err
            return found + [str(w.message) for w in caught] + logged + ([err] if err else [])

        yield report


async def _two_chunks(router: Router, task: str) -> AsyncStream:
    stream = router.astream(task, prompt=PROMPT)
    received = [await stream.__anext__(), await stream.__anext__()]
    assert all(chunk.delta for chunk in received)
    return stream


async def _hung_up_meanwhile(sb: Sandbox) -> bool:
    """As _hung_up, while the loop goes on running."""
    for _ in range(500):
        if sb.stats["hangups"] >= 1:
            return True
        await asyncio.sleep(0.01)
    return False


@pytest.mark.parametrize("how", ["dropped", "held", "collected"])
def test_an_async_stream_abandoned_mid_way_is_closed_quietly(
    make_router: MakeRouter, sb: Sandbox, kind: str, how: str, trouble: Trouble
) -> None:
    """Abandoned without ``aclose()`` and: dropped as ``asyncio.run`` ends; still referenced
    then (closed by the loop's shutdown_asyncgens); or collected (a reference cycle: by the
    cyclic collector) while the loop runs on."""
    task, first, _ = FIRST[kind]
    router = make_router(_spec(total=60))
    sb.set_fault("trickle=5", model=ID[first])  # the server keeps sending: the stream is open
    kept: list[AsyncStream] = []

    async def main() -> None:
        stream = await _two_chunks(router, task)
        if how == "held":
            kept.append(stream)
        elif how == "collected":
            del stream
            gc.collect()
            assert await _hung_up_meanwhile(sb)
            sb.set_fault(None, model=ID[first])
            await router.acomplete(task, prompt=PROMPT)  # the loop and router are fine

    asyncio.run(main())
    assert _hung_up(sb)  # the connection was closed, not left open for the collector
    router.close()
    kept.clear()
    assert trouble() == []


def test_aclose_closes_every_layer_of_an_async_stream_before_it_returns(
    make_router: MakeRouter, sb: Sandbox, kind: str, trouble: Trouble
) -> None:
    """After ``aclose()`` nothing of the stream is left for the loop or the collector: a bare
    ``loop.close()`` (no shutdown_asyncgens) then reports no pending task."""
    task, first, _ = FIRST[kind]
    router = make_router(_spec(total=60))
    sb.set_fault("trickle=5", model=ID[first])

    async def main() -> None:
        stream = await _two_chunks(router, task)
        await stream.aclose()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert _hung_up(sb)
    router.close()
    assert trouble() == []
