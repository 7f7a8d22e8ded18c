"""Run in a fresh interpreter by test_event_loops.py (so the SDKs are really imported here):
how long the first calls of each provider stall the event loop, with the SDK imports and the
SDK clients' construction made slow.

    python stall_worker.py SANDBOX_URL preload|lazy

Slowness is simulated, not waited for: an import hook (``sys.meta_path``) charges SLOW_S
seconds to the thread that imports a SLOW module, and SLOW_CLIENT_S to the thread that builds
an SDK client (the hook wraps the SDK clients' constructors as the SDK is loaded), on a clock
of that thread. A ticker coroutine
reads the event loop thread's clock at every turn of the loop; the longest gap between two
turns is the loop's worst stall. Slow work done while the Router is built, or in a worker
thread, charges no turn of the loop. The hook also lists every module imported on the loop's
thread while a call runs. Prints one JSON object.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, Sequence
from types import ModuleType
from typing import Any

SLOW = frozenset({"openai", "anthropic", "httpx2", "wave"})
SLOW_S = 0.5
SLOW_CLIENT_S = 0.25
SDK_CLIENTS = {"openai": ("OpenAI", "AsyncOpenAI"), "anthropic": ("Anthropic", "AsyncAnthropic")}
LOOP_THREAD = threading.get_ident()
spent: dict[int, float] = {}  # simulated seconds of slow work, per thread
imported_on_loop: list[str] = []


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return threading.get_ident() == LOOP_THREAD


def charge(seconds: float) -> None:
    thread = threading.get_ident()
    spent[thread] = spent.get(thread, 0.0) + seconds


class SlowImports(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in SLOW:
            charge(SLOW_S)
        if _loop_running_here():
            imported_on_loop.append(fullname)
        if fullname in SDK_CLIENTS:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path)
            if spec is not None and spec.loader is not None:
                spec.loader = SlowClients(spec.loader, SDK_CLIENTS[fullname])
            return spec
        return None  # the normal finders import the module


class SlowClients(importlib.abc.Loader):
    """Loads an SDK as usual, then makes its client classes slow to construct."""

    def __init__(self, loader: Any, classes: Sequence[str]) -> None:
        self.loader, self.classes = loader, classes

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self.loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        for name in self.classes:
            cls = getattr(module, name)
            original = cls.__init__

            def slow_init(self: Any, *args: Any, __init: Any = original, **kw: Any) -> None:
                charge(SLOW_CLIENT_S)
                __init(self, *args, **kw)

            cls.__init__ = slow_init


async def worst_stall(work: Callable[[], Awaitable[Any]]) -> float:
    """The longest gap, in simulated seconds, between two turns of the loop during work()."""
    worst = 0.0
    running = True

    async def ticker() -> None:
        nonlocal worst
        last = spent.get(LOOP_THREAD, 0.0)
        while running:
            await asyncio.sleep(0)
            now = spent.get(LOOP_THREAD, 0.0)
            worst, last = max(worst, now - last), now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        await work()
    finally:
        running = False
        await task
    return worst


SPEC = """
version: 1
providers:
  oai: {type: openai, base_url: "URL/v1", api_key_env: KEY, local: true}
  ant: {type: anthropic, base_url: "URL", api_key_env: KEY, local: true}
  compat: {type: openai_compatible, base_url: "URL/v1", api_key_env: KEY, local: true}
  failing: {type: openai, base_url: "URL/fault/500/v1", api_key_env: KEY, local: true}
models:
  m-oai: {provider: oai, id: a, capabilities: [streaming, tools]}
  m-ant: {provider: ant, id: b}
  m-compat: {provider: compat, id: c}
  m-failing: {provider: failing, id: d}
tasks:
  oai: {candidates: [m-oai]}
  ant: {candidates: [m-ant]}
  compat: {candidates: [m-compat]}
  retried:
    candidates: [m-failing]
    retry: {attempts: 2, initial_backoff: 0.001, max_backoff: 0.001}
"""
TASKS = ("oai", "ant", "compat")
#: A tool whose parameters are not a valid JSON Schema: a RequestError before sending.
BAD_TOOL = {
    "type": "function",
    "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": 7}}},
}


def main() -> None:
    url, mode = sys.argv[1], sys.argv[2]
    sys.meta_path.insert(0, SlowImports())
    from router import AllModelsFailed, RequestError, Router

    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(SPEC.replace("URL", url))
    router = Router.from_yaml(path, environ={"KEY": "sk-test"}, preload=mode == "preload")
    os.unlink(path)
    built = {name: name in sys.modules for name in ("openai", "anthropic")}
    stalls: dict[str, float] = {}
    outcomes: dict[str, list[str]] = {}

    async def first_loop() -> None:
        for task in TASKS:

            async def complete(task: str = task) -> None:
                await router.acomplete(task, prompt="First call. Yes.")

            async def stream(task: str = task) -> None:
                async for _ in router.astream(task, prompt="First stream. Yes."):
                    pass

            stalls[f"{task} acomplete"] = await worst_stall(complete)
            stalls[f"{task} astream"] = await worst_stall(stream)

        async def retried() -> None:  # a 500, a retry after a backoff, a 500: all failed
            try:
                await router.acomplete("retried", prompt="First retry. Yes.")
            except AllModelsFailed as exc:
                outcomes["first retry"] = [type(e).__name__ for e in exc.exceptions]

        async def invalid_tool() -> None:  # jsonschema says why the tool is refused
            try:
                await router.acomplete("oai", prompt="Bad tool. Yes.", tools=[BAD_TOOL])
            except RequestError as exc:
                outcomes["first invalid tool"] = [type(exc).__name__]

        stalls["first retry"] = await worst_stall(retried)
        stalls["first invalid tool"] = await worst_stall(invalid_tool)

    async def second_loop() -> None:
        for task in TASKS:

            async def complete(task: str = task) -> None:
                await router.acomplete(task, prompt="New loop. Yes.")

            stalls[f"{task} acomplete, second loop"] = await worst_stall(complete)
        await router.aclose()

    asyncio.run(first_loop())
    asyncio.run(second_loop())
    calls_imported = list(imported_on_loop)

    async def control() -> float:
        # An import on the loop is seen as a stall: the measurement is not blind.
        return await worst_stall(lambda: asyncio.sleep(0, importlib.import_module("wave")))

    print(
        json.dumps(
            {
                "sdks_imported_by_build": built,
                "stalls": stalls,
                "outcomes": outcomes,
                "imported_on_loop": calls_imported,
                "control": asyncio.run(control()),
            }
        )
    )


if __name__ == "__main__":
    main()
