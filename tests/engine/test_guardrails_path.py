"""The spec's guardrails on the request path, through the real Router and SDKs against the
sandbox: what the sandbox received (placeholders, or nothing at all after a refusal), what the
caller got back (the originals, tool call arguments included), the order with the caller's
hooks (a hook cannot smuggle a secret past them; an ``after`` hook reads the answer restored),
confinement, the response cache (keyed on what was sent, restored per request), hedged
attempts, embeddings, the deadline and the event loop. Streams:
tests/engine/test_guardrails_streams.py; what is recorded: test_guardrails_recorded.py."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from router import (
    AllModelsFailed,
    GuardrailRefused,
    HookContext,
    HookTimeout,
    RequestError,
    Response,
    Router,
)
from router.sandbox import Sandbox

from .helpers import (
    PROVIDERS,
    SANDBOX_KEY,
    WEATHER_TOOL,
    MakeRouter,
    last_user_content,
    models_sent,
    run_async,
)

KEY = "sk-proj-Zq7rT2mXv9LkP4wN8bJc"  # the shape of an OpenAI key, not one
EMAIL, PHONE = "ana@example.com", "+44 20 7946 0958"
PROMPT = f"Summarize: write to {EMAIL} or call {PHONE} today."

SPEC = (
    PROVIDERS
    + """
models:
  gpt: {provider: oai, id: gpt, capabilities: [tools, streaming]}
  claude: {provider: ant, id: claude, capabilities: [tools, streaming]}
  local: {provider: oai, id: local}
  cloud: {provider: oai, id: cloud}
  emb: {provider: oai, id: emb, kind: embedding, dimensions: 8}
  slow: {provider: oai, id: slow}
guardrails:
  caps: {type: input_size, max_message_chars: 2000}
  codenames: {type: blocked_terms, terms: [project falcon]}
  watch: {type: pii, action: report}
defaults:
  guardrails: [secrets, pii, caps]
tasks:
  openai: {candidates: [gpt], fallback: [claude]}
  anthropic: {candidates: [claude]}
  prompted: {candidates: [gpt], system_prompt: "Escalate to help@example.com."}
  cached: {candidates: [gpt], cache: {enabled: true, ttl: 600}}
  watched: {candidates: [gpt], guardrails: [watch]}
  open: {candidates: [gpt], guardrails: []}
  private: {candidates: [cloud], fallback: [local]}
  vectors: {candidates: [emb]}
  hedged: {candidates: [slow], fallback: [gpt], hedge: {after: 0.05, max_share: 1}}
  tight: {candidates: [gpt], guardrails: [secrets, pii], timeouts: {total: 0.01}}
rules:
  - name: corp-data
    when: {text: {any: [corp.example]}}
    only: [local]
    guardrails: [codenames]
"""
)
HOOKED = SPEC.replace("tasks:\n", "tasks:\n  hooked: {candidates: [gpt], hooks: [h]}\n", 1)


def _user_text(body: dict[str, Any]) -> str:
    content = last_user_content(body)
    return content if isinstance(content, str) else content[0]["text"]


def _complete(router: Any, asynchronous: bool, task: str, **kw: Any) -> Response:
    if asynchronous:
        return run_async(router, lambda r: r.acomplete(task, **kw))
    return router.complete(task, **kw)


@pytest.mark.parametrize("task", ["openai", "anthropic"])
@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_the_model_gets_placeholders_and_the_caller_the_originals(
    make_router: MakeRouter, sb: Sandbox, task: str, asynchronous: bool
) -> None:
    answer = _complete(make_router(SPEC), asynchronous, task, prompt=PROMPT)

    [sent] = sb.requests
    assert _user_text(sent.body) == "Summarize: write to <EMAIL_1> or call <PHONE_1> today."
    assert EMAIL not in json.dumps(sent.body) and "7946" not in json.dumps(sent.body)
    assert EMAIL in answer.content and PHONE in answer.content
    assert "<EMAIL_1>" not in answer.content


@pytest.mark.parametrize("task", ["openai", "anthropic"])
def test_tool_call_arguments_get_the_values_back_as_valid_json(
    make_router: MakeRouter, sb: Sandbox, task: str
) -> None:
    router = make_router(SPEC)
    answer = router.complete(
        task, prompt=f"Use get_weather for {EMAIL} please.", tools=[WEATHER_TOOL]
    )

    assert "<EMAIL_1>" in json.dumps(sb.requests[0].body)
    [call] = answer.tool_calls
    assert call.parsed_arguments() == {"city": f"Use get_weather for {EMAIL} please."}


@pytest.mark.parametrize("how", ["complete", "acomplete", "stream", "astream"])
def test_a_pasted_key_is_refused_with_nothing_sent(
    make_router: MakeRouter, sb: Sandbox, how: str
) -> None:
    router = make_router(SPEC)
    messages = [
        {"role": "user", "content": "Hello."},
        {"role": "assistant", "content": "Hi, how can I help?"},
        {"role": "user", "content": f"Why does {KEY} fail?"},
    ]

    async def drain(r: Any) -> None:
        async for _ in r.astream("openai", messages):
            pass

    with pytest.raises(GuardrailRefused) as caught:
        if how == "complete":
            router.complete("openai", messages)
        elif how == "acomplete":
            run_async(router, lambda r: r.acomplete("openai", messages))
        elif how == "stream":
            list(router.stream("openai", messages))
        else:
            run_async(router, drain)

    error = caught.value
    assert sb.requests == []
    # The caller's own index: the task's system prompt the router adds is not counted.
    assert (error.guardrail, error.kind, error.argument) == (
        "secrets",
        "openai_key",
        "messages[2].content",
    )
    assert str(error) == (
        "guardrail 'secrets' refused the request: messages[2].content holds an OpenAI API key "
        "(openai_key); nothing was sent"
    )
    assert KEY not in repr(error) and KEY[3:12] not in str(error)
    assert error.__cause__ is None and error.__context__ is None
    assert isinstance(error, RequestError)


def test_a_rule_adds_its_guardrails_and_a_size_cap_refuses(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC)
    with pytest.raises(GuardrailRefused) as term:
        router.complete("private", prompt="Ship project falcon for ana@corp.example.")
    with pytest.raises(GuardrailRefused) as size:
        router.complete("openai", prompt="x" * 2001)
    assert (term.value.guardrail, term.value.kind) == ("codenames", "term")
    assert "falcon" not in str(term.value)
    assert (size.value.guardrail, size.value.kind) == ("caps", "message_chars")
    assert sb.requests == []


def test_report_only_counts_and_sends_the_text_as_written(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    answer = make_router(SPEC).complete("watched", prompt=PROMPT)
    assert _user_text(sb.requests[0].body) == PROMPT
    assert EMAIL in answer.content


def test_the_task_system_prompt_is_the_spec_s_text_and_is_not_read(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    make_router(SPEC).complete("prompted", prompt=PROMPT)
    body = sb.requests[0].body
    assert body["messages"][0] == {"role": "system", "content": "Escalate to help@example.com."}
    assert _user_text(body) == "Summarize: write to <EMAIL_1> or call <PHONE_1> today."


def test_a_rule_matched_on_the_callers_text_confines_the_masked_request(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    # The plan is made on what the caller wrote (its address matches the rule), and kept for
    # the masked request: only `local`, even when it fails and the task would fall back.
    router = make_router(SPEC)
    router.complete("private", prompt="Summarize: mail bo@corp.example now.")
    assert models_sent(sb) == ["local"]
    assert "<EMAIL_1>" in _user_text(sb.requests[0].body)
    sb.set_fault("500", model="local")
    with pytest.raises(AllModelsFailed):
        router.complete("private", prompt="Summarize: mail bo@corp.example now.")
    assert models_sent(sb) == ["local", "local"]


def test_a_before_hook_cannot_smuggle_a_secret_past_the_guardrails(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    def paste(ctx: HookContext) -> None:
        ctx.messages = [*ctx.messages, {"role": "user", "content": f"Also: {KEY}"}]

    router = make_router(HOOKED, hooks={"h": paste})
    with pytest.raises(GuardrailRefused) as caught:
        router.complete("hooked", prompt="Hello.")
    assert caught.value.kind == "openai_key" and sb.requests == []


def test_hooks_read_the_request_as_sent_and_the_answer_restored(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    seen: dict[str, str] = {}

    class Watch:
        def before(self, ctx: HookContext) -> None:
            seen["before"] = ctx.text()  # the caller's words: the guardrails run after

        def after(self, ctx: HookContext, response: Response) -> Response:
            seen["sent"] = ctx.text()  # what was sent: placeholders
            seen["answer"] = response.content
            return dataclasses.replace(response, content=response.content + " (checked)")

    answer = make_router(HOOKED, hooks={"h": Watch()}).complete("hooked", prompt=PROMPT)
    assert EMAIL in seen["before"]
    assert "<EMAIL_1>" in seen["sent"] and EMAIL not in seen["sent"]
    assert EMAIL in seen["answer"] and "<EMAIL_1>" not in seen["answer"]
    assert answer.content.endswith(f"{EMAIL} or call {PHONE} today. (checked)")


def test_a_cached_answer_is_restored_with_each_request_s_own_values(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC)
    first = router.complete("cached", prompt="Summarize: write to ana@example.com today.")
    second = router.complete("cached", prompt="Summarize: write to bo@example.org today.")

    # Both mask to the same text, so the second is the first's cached answer (one request
    # sent), restored with its own address.
    assert len(sb.requests) == 1 and second.cached
    assert "ana@example.com" in first.content and "bo@example.org" not in first.content
    assert "bo@example.org" in second.content and "ana@example.com" not in second.content
    stored = [blob for blob, _ in router.state._cache.values()]  # type: ignore[attr-defined]
    assert stored and all(b"@example" not in blob for blob in stored)
    assert all(b"<EMAIL_1>" in blob for blob in stored)


def test_hedged_attempts_are_restored(make_router: MakeRouter, sb: Sandbox) -> None:
    router = make_router(SPEC)
    sb.set_fault("delay=400", model="slow")
    answer = asyncio.run(router.acomplete("hedged", prompt=PROMPT))
    assert [(a.model, a.outcome) for a in answer.attempts] == [
        ("slow", "cancelled"),
        ("gpt", "ok"),
    ]
    assert all("<EMAIL_1>" in _user_text(r.body) for r in sb.requests)
    assert EMAIL in answer.content


def test_embeddings_are_masked_and_refused_like_completions(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC)
    out = router.embed("vectors", ["the cat", f"mail {EMAIL}"])
    assert len(out.vectors) == 2
    assert sb.requests[0].body["input"] == ["the cat", "mail <EMAIL_1>"]
    with pytest.raises(GuardrailRefused) as caught:
        run_async(router, lambda r: r.aembed("vectors", ["the cat", f"key {KEY}"]))
    assert caught.value.argument == "input[1]"
    assert str(caught.value).startswith("guardrail 'secrets' refused the request: input[1] ")
    assert len(sb.requests) == 1


def test_a_task_without_guardrails_sends_the_text_as_written(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    make_router(SPEC).complete("open", prompt=f"{PROMPT} {KEY}")
    assert KEY in _user_text(sb.requests[0].body)


# -- the deadline and the event loop ---------------------------------------------------------

#: Card numbers failing their Luhn check: the slowest text per character measured for the
#: guardrails (bench/bench_guardrails.py, ~0.5 µs a character), far over a 10 ms deadline.
SLOW = "4111 1111 1111 1112 " * 20_000


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_check_still_running_at_the_deadline_ends_the_request_with_nothing_sent(
    sb: Sandbox, tmp_path: Path, asynchronous: bool
) -> None:
    # The real clock: the deadline is 10 ms of real time, the check takes about 0.2 s of CPU
    # (far more on a loaded machine, which only widens the margin).
    spec = tmp_path / "routes.yaml"
    spec.write_text(
        SPEC.replace("{openai}", sb.openai_base_url).replace("{anthropic}", sb.anthropic_base_url)
    )
    router = Router.from_yaml(spec, environ={"SANDBOX_API_KEY": SANDBOX_KEY})
    try:
        with pytest.raises(HookTimeout) as caught:
            _complete(router, asynchronous, "tight", prompt=SLOW)
    finally:
        if not asynchronous:  # run_async closed it
            router.close()
    assert (caught.value.hook, caught.value.stage) == ("guardrails", "before")
    assert str(caught.value) == (
        "the guardrails (secrets, pii) were still checking the request when its deadline "
        "(0.01s) came; nothing was sent"
    )
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert sb.requests == []


def test_a_large_request_is_checked_in_a_worker_thread(
    make_router: MakeRouter, sb: Sandbox
) -> None:
    router = make_router(SPEC.replace("max_message_chars: 2000", "max_message_chars: 900000"))
    prompt = f"Summarize: write to {EMAIL}. " + "4111 1111 1111 1112 " * 1_000  # 20 KB
    checked_in: list[str] = []

    async def go(r: Any) -> Response:
        answer = await r.acomplete("openai", prompt=prompt)
        checked_in.extend(t.name for t in threading.enumerate())
        return answer

    answer = run_async(router, go)
    assert EMAIL in answer.content and "<EMAIL_1>" in _user_text(sb.requests[0].body)
    assert any(name.startswith("router-guardrails") for name in checked_in)
