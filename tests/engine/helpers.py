"""Shared constants and small helpers for the engine tests (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from router import Router
from router.sandbox import Sandbox

T = TypeVar("T")

SANDBOX_KEY = "sk-test"

# Specs shared by the engine tests, as files under tests/specs.
SPECS = Path(__file__).resolve().parent.parent / "specs"

# Two providers on the sandbox: every engine test spec starts with these.
PROVIDERS = (SPECS / "sandbox_providers.yaml").read_text(encoding="utf-8")

# A 1x1 transparent PNG.
PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kg"
    "AAAABJRU5ErkJggg=="
)

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}

MakeRouter = Callable[..., Router]


class RequestClock:
    """A fake monotonic clock on which every request the sandbox has received took
    ``per_request`` seconds: deadlines pass deterministically, without sleeping."""

    def __init__(self, sb: Sandbox, per_request: float) -> None:
        self.sb = sb
        self.per_request = per_request

    def __call__(self) -> float:
        return 1000.0 + self.per_request * len(self.sb.requests)


class FakeTime:
    """Monotonic and wall clocks plus sleeps that only move time forward: a router built
    with it waits (backoff, Retry-After, limits) without the test ever sleeping. ``base``
    (another clock) is added to, so a RequestClock keeps working too."""

    def __init__(self, base: Callable[[], float] | None = None, start: float = 1_000.0) -> None:
        self.base = base
        self.offset = start if base is None else 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.offset + (self.base() if self.base is not None else 0.0)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.offset += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def models_sent(sb: Sandbox) -> list[str | None]:
    """The model ids of the completion requests the sandbox received, in order."""
    return [r.model for r in sb.requests]


def attempt_log(attempts: Any) -> list[tuple[str, str | None]]:
    """(model, error class name or None) for each attempt."""
    return [(a.model, type(a.error).__name__ if a.error is not None else None) for a in attempts]


# --- one model per provider, for the completion and streaming tests ---------------------------

KINDS = ("openai", "anthropic")
MODEL = {"openai": "gpt", "anthropic": "claude"}  # spec names
MODEL_ID = {"openai": "sandbox-gpt", "anthropic": "sandbox-claude"}
PROVIDER = {"openai": "oai", "anthropic": "ant"}
MAX_TOKENS_FIELD = {"openai": "max_completion_tokens", "anthropic": "max_tokens"}
PRICE = {"openai": (2.0, 8.0, 1.0), "anthropic": (3.0, 15.0, 0.3)}  # input, output, cached

TASK_SYSTEM = "You answer in one line."
DEFAULT_SYSTEM = "Default system prompt."

BASIC = PROVIDERS + (SPECS / "sandbox_basic.yaml").read_text(encoding="utf-8")


def system_sent(body: dict[str, Any], kind: str) -> list[str]:
    """Every system prompt text in a recorded request body, wherever its wire puts it."""
    if kind == "anthropic":
        assert all(m["role"] != "system" for m in body["messages"])
        return [body["system"]] if "system" in body else []
    return [m["content"] for m in body["messages"] if m["role"] == "system"]


def last_user_content(body: dict[str, Any]) -> Any:
    return next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")


def expected_cost(kind: str, usage: Any) -> float:
    price_in, price_out, price_cached = PRICE[kind]
    uncached = usage.input_tokens - usage.cached_input_tokens
    return (
        uncached * price_in
        + usage.cached_input_tokens * price_cached
        + usage.output_tokens * price_out
    ) / 1_000_000


def run_async(router: Router, work: Callable[[Router], Awaitable[T]]) -> T:
    """Run ``work(router)`` on a fresh event loop, closing the router's async clients on that
    loop before it ends (they belong to the loop that opened them)."""

    async def go() -> T:
        async with router:
            return await work(router)

    return asyncio.run(go())
