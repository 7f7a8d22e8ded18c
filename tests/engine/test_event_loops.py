"""No call stalls the event loop, and one Router serves event loops one after another cleanly.

The first call of a provider used to import its SDK and build its client on the loop (0.3-0.8 s
in which every other request waited); async clients of a finished loop were dropped with their
connections open, and the SDK's finalizer then closed them through the dead loop ("Task
exception was never retrieved", "Event loop is closed")."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from router import Router
from router.sandbox import Sandbox

from .helpers import PROVIDERS, SANDBOX_KEY

WORKER = Path(__file__).with_name("stall_worker.py")

SPEC = (
    PROVIDERS
    + """
models:
  a: {provider: oai, id: a}
  b: {provider: ant, id: b}
tasks:
  oai: {candidates: [a]}
  ant: {candidates: [b]}
"""
)


def run_worker(sb: Sandbox, mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(WORKER), sb.url, mode],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Nothing on stderr: no "Task exception was never retrieved", no "Event loop is closed".
    assert done.stderr == ""
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_first_calls_never_stall_the_loop_with_slow_sdk_imports_and_clients(
    sb: Sandbox,
) -> None:
    """Fresh interpreter, SDK imports made 0.5 s slow and each SDK client's construction
    0.25 s (simulated, see stall_worker.py): the Router does both while it is built (and a
    second loop's client in a worker thread), so no first call (acomplete, astream, on a
    second event loop) stalls the loop or imports anything on its thread. Before, the first
    acomplete of openai stalled it for 1.25 s, and each new loop's first call for 0.25 s; a
    first retry imported tenacity on the loop."""
    result = run_worker(sb, "preload")
    assert result["sdks_imported_by_build"] == {"openai": True, "anthropic": True}
    assert result["stalls"] and set(result["stalls"].values()) == {0.0}, result["stalls"]
    # A first retry (its backoff) and a first invalid tool schema (jsonschema's verdict)
    # import nothing on the loop either.
    assert result["outcomes"] == {
        "first retry": ["ProviderUnavailable", "ProviderUnavailable"],
        "first invalid tool": ["RequestError"],
    }
    assert result["imported_on_loop"] == []
    assert result["control"] == 0.5  # an import on the loop would have been seen


def test_without_preload_the_first_async_call_imports_the_sdk_in_a_thread(sb: Sandbox) -> None:
    result = run_worker(sb, "lazy")
    assert result["sdks_imported_by_build"] == {"openai": False, "anthropic": False}
    assert set(result["stalls"].values()) == {0.0}, result["stalls"]
    sdk_modules = [
        m
        for m in result["imported_on_loop"]
        if m.split(".")[0] in ("openai", "anthropic", "httpx2")
    ]
    assert sdk_modules == []
    assert result["control"] == 0.5


# -- one Router, one event loop after another -------------------------------------------------
def client_sockets(port: int) -> int:
    """Open TCP connections from this host to 127.0.0.1:port (the client side), as the kernel
    sees them: established, or closed by the server but not yet by us."""
    count = 0
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if int(remote.split(":")[1], 16) == port and state in ("01", "08"):
                count += 1
    return count


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Router, int]]:
    """A router on a sandbox of this test's own (its connections are the test's alone to
    count), and the sandbox's port."""
    with Sandbox() as sandbox:
        path = tmp_path / "routes.yaml"
        text = SPEC.replace("{openai}", sandbox.openai_base_url)
        path.write_text(text.replace("{anthropic}", sandbox.anthropic_base_url), encoding="utf-8")
        router = Router.from_yaml(path, environ={"SANDBOX_API_KEY": SANDBOX_KEY})
        yield router, int(sandbox.url.rsplit(":", 1)[1])
        router.close()


@pytest.fixture
def loop_trouble(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Iterator[list[str]]:
    """Everything asyncio or a finalizer reports: asyncio's log (where "Task exception was
    never retrieved" goes), exceptions raised in ``__del__``, and warnings (as errors)."""
    seen: list[str] = []
    monkeypatch.setattr(
        sys, "unraisablehook", lambda u: seen.append(f"{u.exc_type}: {u.exc_value}")
    )
    caplog.set_level(logging.DEBUG, logger="asyncio")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield seen
        gc.collect()
    seen += [
        r.getMessage()
        for r in caplog.records
        if r.name == "asyncio" and r.levelno >= logging.WARNING
    ]


def test_one_router_serves_two_event_loops_in_turn_and_closes_each_loops_connections(
    served: tuple[Router, int], loop_trouble: list[str]
) -> None:
    router, port = served

    async def main() -> tuple[list[str], int]:
        answers = []
        for task in ("oai", "ant"):
            answers.append((await router.acomplete(task, prompt="Hello there. Yes.")).content)
            async for chunk in router.astream(task, prompt="Stream this. Yes."):
                answers.append(chunk.delta)
        return answers, client_sockets(port)

    runs = []
    for _ in range(2):
        answers, open_during = asyncio.run(main())
        gc.collect()
        runs.append((bool(answers), open_during > 0, client_sockets(port)))
    router.close()
    gc.collect()
    # Each loop's calls were answered over connections of its own, closed before it ended.
    assert runs == [(True, True, 0), (True, True, 0)]
    assert client_sockets(port) == 0
    assert loop_trouble == []


def test_aclose_closes_the_running_loops_connections_at_once(
    served: tuple[Router, int], loop_trouble: list[str]
) -> None:
    router, port = served

    async def main() -> tuple[int, int]:
        await router.acomplete("oai", prompt="One. Yes.")
        await router.acomplete("ant", prompt="Two. Yes.")
        before = client_sockets(port)
        await router.aclose()
        # asyncio closes a transport's socket on the loop's next turn (call_soon): give it one.
        await asyncio.sleep(0)
        return before, client_sockets(port)

    assert asyncio.run(main()) == (2, 0)
    assert loop_trouble == []


def test_a_loop_closed_without_shutting_down_leaves_nothing_for_the_next_loop_to_trip_on(
    served: tuple[Router, int],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """``loop.close()`` without ``shutdown_asyncgens()``: that loop's client cannot be closed
    (closing goes through the loop), so it is released without touching the dead loop; its
    sockets go to the collector (asyncio's "unclosed transport" ResourceWarning, as for any
    connection left open by such a loop). The next loop gets a client of its own."""
    seen: list[str] = []
    monkeypatch.setattr(
        sys,
        "unraisablehook",
        lambda u: None if u.exc_type is ResourceWarning else seen.append(repr(u.exc_value)),
    )
    caplog.set_level(logging.DEBUG, logger="asyncio")
    router, _ = served
    answers = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        for _ in range(2):
            loop = asyncio.new_event_loop()
            answers.append(loop.run_until_complete(router.acomplete("oai", prompt="Hi. Yes.")))
            loop.close()
        answers.append(asyncio.run(router.acomplete("ant", prompt="Hi. Yes.")))
        router.close()
        gc.collect()
    assert len(answers) == 3
    assert seen == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    err = capfd.readouterr().err
    assert "Task exception was never retrieved" not in err
    assert "Event loop is closed" not in err


def test_router_close_from_another_thread_closes_a_live_loops_clients_on_that_loop(
    served: tuple[Router, int], loop_trouble: list[str]
) -> None:
    router, port = served

    async def main() -> tuple[int, int]:
        await router.acomplete("oai", prompt="One. Yes.")
        before = client_sockets(port)
        await asyncio.to_thread(router.close)  # sync close, from outside the loop
        for _ in range(100):  # the close runs on this loop: let it
            if client_sockets(port) == 0:
                break
            await asyncio.sleep(0)
        return before, client_sockets(port)

    assert asyncio.run(main()) == (1, 0)
    assert loop_trouble == []
