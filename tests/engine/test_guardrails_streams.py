"""The guardrails on streams, sync and async, through the real SDKs against the sandbox, which
streams its answer a word or a sign at a time: ``<EMAIL_1>`` arrives split over three chunks
(``<``, ``EMAIL_1``, ``>``). The caller reads every value restored, never a piece of a
placeholder; the ``after_chunk`` and ``after`` hooks read the chunks restored too."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from router import Chunk, HookContext, Response, Router
from router.sandbox import Sandbox

from .helpers import PROVIDERS, WEATHER_TOOL, MakeRouter, run_async

EMAIL = "ana@example.com"
PROMPT = f"Summarize: write to {EMAIL} or to bo@example.org today."
RESTORED = f"Summary: Summarize: write to {EMAIL} or to bo@example.org today."

SPEC = (
    PROVIDERS
    + """
models:
  gpt: {provider: oai, id: gpt, capabilities: [streaming, tools]}
  claude: {provider: ant, id: claude, capabilities: [streaming, tools]}
defaults:
  guardrails: [pii]
tasks:
  openai: {candidates: [gpt]}
  anthropic: {candidates: [claude]}
"""
)
HOOKED = SPEC + "  hooked: {candidates: [gpt], hooks: [h]}\n"


def _drain(router: Router, asynchronous: bool, task: str, **kw: Any) -> tuple[list[Chunk], Any]:
    if not asynchronous:
        stream = router.stream(task, **kw)
        return list(stream), stream.response

    async def go(r: Router) -> tuple[list[Chunk], Any]:
        stream = r.astream(task, **kw)
        return [c async for c in stream], stream.response

    return run_async(router, go)


@pytest.mark.parametrize("task", ["openai", "anthropic"])
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_placeholder_split_across_chunks_reaches_the_caller_restored(
    make_router: MakeRouter, sb: Sandbox, task: str, asynchronous: bool
) -> None:
    chunks, response = _drain(make_router(SPEC), asynchronous, task, prompt=PROMPT)

    sent = json.dumps(sb.requests[0].body)
    assert "<EMAIL_1>" in sent and "<EMAIL_2>" in sent and EMAIL not in sent
    deltas = [c.delta for c in chunks]
    assert "".join(deltas) == RESTORED
    assert EMAIL in deltas  # the value arrives whole, in the chunk that closed its placeholder
    assert not any("<" in d or "EMAIL" in d for d in deltas)
    assert all(c.delta or c.finish_reason for c in chunks)  # no chunk sent empty for the hold
    assert response.content == RESTORED


@pytest.mark.parametrize("task", ["openai", "anthropic"])
def test_tool_call_arguments_in_a_stream_get_the_values_back(
    make_router: MakeRouter, sb: Sandbox, task: str
) -> None:
    chunks, response = _drain(
        make_router(SPEC),
        False,
        task,
        prompt=f"Use get_weather for {EMAIL} please.",
        tools=[WEATHER_TOOL],
    )
    assert "<EMAIL_1>" in json.dumps(sb.requests[0].body)
    [call] = chunks[-1].tool_calls
    assert call.parsed_arguments() == {"city": f"Use get_weather for {EMAIL} please."}
    assert response.tool_calls == (call,)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_after_chunk_and_after_hooks_read_the_stream_restored(
    make_router: MakeRouter, sb: Sandbox, asynchronous: bool
) -> None:
    seen: list[str] = []
    whole: list[str] = []

    class Shout:
        def after_chunk(self, ctx: HookContext, chunk: Chunk) -> Chunk:
            seen.append(chunk.delta)
            return dataclasses.replace(chunk, delta=chunk.delta.upper())

        def after(self, ctx: HookContext, response: Response) -> None:
            whole.append(response.content)

    chunks, _ = _drain(
        make_router(HOOKED, hooks={"h": Shout()}), asynchronous, "hooked", prompt=PROMPT
    )
    assert "".join(seen) == RESTORED and EMAIL in seen
    assert whole == [RESTORED.upper()]  # the whole answer as the hooks left its chunks
    assert "".join(c.delta for c in chunks) == RESTORED.upper()
