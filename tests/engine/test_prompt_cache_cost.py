"""Prompt caching and reasoning priced as the bill says: cache writes, cache reads and uncached
input apart (Anthropic), cached input (OpenAI), reasoning tokens as output, each answered plain
and streamed, through the real SDKs against the sandbox, whose prompt caches answer with the
usage fields the real services send. Every figure is checked against a hand computation in
exact decimals."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from router import Response, Router, Usage
from router.cli import run
from router.sandbox import Sandbox

from .helpers import PROVIDERS, MakeRouter

SPEC = (
    PROVIDERS
    + """
models:
  claude:       # cache prices left out: Anthropic's 0.1x reads, 1.25x writes
    provider: ant
    id: sandbox-claude
    pricing: {input: 3, output: 15}
  claude-own:   # the spec's own cache prices win
    provider: ant
    id: sandbox-claude
    pricing: {input: 3, output: 15, cached_input: 0.5, cache_write: 6}
  gpt:          # OpenAI's default: cached input at half the input price
    provider: oai
    id: sandbox-gpt
    pricing: {input: 2.5, output: 10}
  gpt-own:
    provider: oai
    id: sandbox-gpt
    pricing: {input: 2, output: 8, cached_input: 0.2}
tasks:
  claude: {candidates: [claude]}
  claude-own: {candidates: [claude-own]}
  gpt: {candidates: [gpt]}
  gpt-own: {candidates: [gpt-own]}
"""
)
MARK = {"type": "ephemeral"}
LONG = "alpha " * 1500  # 1500 sandbox tokens: above the 1024-token minimum of both caches
MILLION = Decimal(1_000_000)


def hand_cost(usage: Usage, input_: str, output: str, read: str, write: str) -> float:
    """USD from the token kinds and the prices per million (strings: exact decimals)."""
    uncached = usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens
    total = (
        uncached * Decimal(input_)
        + usage.cached_input_tokens * Decimal(read)
        + usage.cache_write_tokens * Decimal(write)
        + usage.output_tokens * Decimal(output)
    ) / MILLION
    return float(total)


def ask(router: Router, task: str, messages: list[Any], *, stream: bool, **kw: Any) -> Response:
    """One call, plain or streamed (the streamed answer as the Stream assembles it)."""
    if not stream:
        return router.complete(task, messages=messages, **kw)
    s = router.stream(task, messages=messages, **kw)
    text = "".join(c.delta for c in s)
    assert s.response is not None and s.response.content == text
    return s.response


def system_marked(question: str) -> list[Any]:
    return [
        {"role": "system", "content": [{"type": "text", "text": LONG, "cache_control": MARK}]},
        {"role": "user", "content": question},
    ]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_anthropic_cache_write_then_read_priced_at_the_default_multiples(
    make_router: MakeRouter, stream: bool
) -> None:
    router = make_router(SPEC)
    first = ask(router, "claude", system_marked("First question?"), stream=stream)
    u = first.usage
    assert (u.cache_write_tokens, u.cache_read_tokens) == (1500, 0)
    assert u.uncached_input_tokens > 0
    assert u.input_tokens == u.uncached_input_tokens + 1500
    # 3/M uncached, 3.75/M written (1.25x), 15/M out
    assert first.cost == pytest.approx(hand_cost(u, "3", "15", "0.3", "3.75"), abs=1e-12)
    assert first.cache_savings == pytest.approx(float(-1500 * Decimal("0.75") / MILLION))

    second = ask(router, "claude", system_marked("Another question?"), stream=stream)
    u = second.usage
    assert (u.cache_write_tokens, u.cache_read_tokens) == (0, 1500)
    assert second.cost == pytest.approx(hand_cost(u, "3", "15", "0.3", "3.75"), abs=1e-12)
    assert second.cache_savings == pytest.approx(float(1500 * Decimal("2.7") / MILLION))


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_anthropic_write_read_and_uncached_in_one_call_at_the_specs_prices(
    make_router: MakeRouter, stream: bool
) -> None:
    router = make_router(SPEC)
    ask(router, "claude-own", system_marked("Warm the cache."), stream=stream)
    messages = [
        *system_marked("")[:1],
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "beta " * 1200, "cache_control": MARK},
                {"type": "text", "text": "What now?"},
            ],
        },
    ]
    r = ask(router, "claude-own", messages, stream=stream)
    u = r.usage
    assert u.cache_read_tokens == 1500 and u.cache_write_tokens > 1200
    assert u.uncached_input_tokens > 0
    expected = hand_cost(u, "3", "15", "0.5", "6")
    assert r.cost == pytest.approx(expected, abs=1e-12)
    manual = (
        u.uncached_input_tokens * Decimal(3)
        + 1500 * Decimal("0.5")
        + u.cache_write_tokens * Decimal(6)
        + u.output_tokens * Decimal(15)
    ) / MILLION
    assert r.cost == pytest.approx(float(manual), abs=1e-12)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize(("task", "read"), [("gpt", "1.25"), ("gpt-own", "0.2")])
def test_openai_cached_input_is_part_of_prompt_tokens_and_priced_as_cached(
    make_router: MakeRouter, stream: bool, task: str, read: str
) -> None:
    router = make_router(SPEC)
    prices = {"gpt": ("2.5", "10"), "gpt-own": ("2", "8")}[task]
    long_prefix = [{"role": "system", "content": LONG}]
    first = ask(router, task, [*long_prefix, {"role": "user", "content": "One?"}], stream=stream)
    assert first.usage.cached_input_tokens == 0
    second = ask(router, task, [*long_prefix, {"role": "user", "content": "Two?"}], stream=stream)
    u = second.usage
    # OpenAI reads in steps of 128 tokens of the longest prefix seen, within prompt_tokens
    assert u.cached_input_tokens == 1408 and u.input_tokens > 1408
    assert u.cache_write_tokens == 0
    assert second.cost == pytest.approx(hand_cost(u, *prices, read, prices[0]), abs=1e-12)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_openai_reasoning_tokens_are_output_and_not_counted_twice(
    make_router: MakeRouter, sb: Sandbox, stream: bool
) -> None:
    router = make_router(SPEC)
    plain = ask(router, "gpt", [{"role": "user", "content": "Think about it."}], stream=stream)
    r = ask(
        router,
        "gpt",
        [{"role": "user", "content": "Think about it."}],
        stream=stream,
        reasoning_effort="high",
    )
    assert sb.requests[-1].body["reasoning_effort"] == "high"
    assert r.usage.reasoning_tokens == 512
    # completion_tokens already holds them: output = the answer's tokens + reasoning
    assert r.usage.output_tokens == plain.usage.output_tokens + 512
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    expected = (r.usage.input_tokens * Decimal("2.5") + r.usage.output_tokens * 10) / MILLION
    assert r.cost == pytest.approx(float(expected), abs=1e-12)


def test_async_streams_are_priced_alike(make_router: MakeRouter) -> None:
    router = make_router(SPEC)

    async def go() -> list[Response]:
        out = []
        async with router:
            for question in ("Once?", "Twice?"):
                s = router.astream("claude", messages=system_marked(question))
                async for _ in s:
                    pass
                assert s.response is not None
                out.append(s.response)
        return out

    first, second = asyncio.run(go())
    assert (first.usage.cache_write_tokens, second.usage.cache_read_tokens) == (1500, 1500)
    for r in (first, second):
        assert r.cost == pytest.approx(hand_cost(r.usage, "3", "15", "0.3", "3.75"), abs=1e-12)


def test_router_report_shows_what_cache_reads_saved(
    make_router: MakeRouter, tmp_path: Path
) -> None:
    ledger = tmp_path / "usage.sqlite"
    router = make_router(SPEC + f"telemetry: {{ledger: {{path: '{ledger}'}}}}\n")
    for question in ("One?", "Two?", "Three?"):
        router.complete("claude", messages=system_marked(question))
    router.close()
    # one write (1500 at +0.75/M over input), two reads (3000 at -2.7/M under it)
    saved = float((3000 * Decimal("2.7") - 1500 * Decimal("0.75")) / MILLION)
    rows = sqlite3.connect(ledger).execute("SELECT cache_savings FROM attempts").fetchall()
    assert sum(r[0] for r in rows) == pytest.approx(saved, abs=1e-12)
    out, err = StringIO(), StringIO()
    assert run(["report", "--ledger", str(ledger)], out, err) == 0, err.getvalue()
    assert "prompt cache: 3000 tokens read, 1500 written; saved $0.0070" in out.getvalue()
    out = StringIO()
    assert run(["report", "--ledger", str(ledger), "--format", "json"], out, StringIO()) == 0
    data = json.loads(out.getvalue())["prompt_cache"]
    assert (data["read_tokens"], data["write_tokens"]) == (3000, 1500)
    assert data["savings_usd"] == pytest.approx(saved, abs=1e-12)
