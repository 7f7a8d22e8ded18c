"""``router demo``: the main job on the built-in local default, with no keys and no network.

Runs a spec (``configs/demo.yaml`` by default, or any ``--config``) on the in-process sandbox
(``Router(spec, sandbox=True)``: every provider points at it, no key is read or sent) and
walks through what the router does: a routed call, a fallback after an injected failure, a
streamed answer, a rule, and a stream cut mid-way (which must be reported, never passed off as
a complete answer). Every decision is printed. The steps use the spec's own tasks and rules:
``summarize``, ``chat`` and ``code`` when it has them, else the ones that show each step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from router.cli.common import plural
from router.engine.router import Router
from router.errors import AllModelsFailed, RouterError, StreamInterrupted
from router.routing.explain import format_plan
from router.sandbox import Sandbox
from router.spec import Spec, validate_file
from router.specmodel import RuleSpec
from router.types import Response

TEXT = (
    "The router reads a declarative spec and sends each task to the best model. "
    "When a provider fails, the next model in the chain answers. "
    "Every decision can be explained before anything is sent."
)


def _task(spec: Spec, preferred: str, router: Router, *, models: int = 1) -> str | None:
    """``preferred`` when the spec has it, else the first task whose chain has at least
    ``models`` models."""
    names = [preferred] if preferred in spec.tasks else []
    for name in [*names, *spec.tasks]:
        try:
            if len(router.explain(name, prompt=TEXT).chain) >= models:
                return name
        except RouterError:
            continue
    return None


def _rule_request(spec: Spec, default_task: str) -> tuple[RuleSpec, str, dict[str, Any]] | None:
    """A rule a demo request can match by its task, tags and metadata alone, with that
    request's task and parameters."""
    for rule in spec.rules:
        when = rule.when
        if when.capabilities or when.min_input_tokens or when.max_input_tokens or when.text:
            continue
        task = next(iter(sorted(when.tasks)), default_task) if when.tasks else default_task
        if task not in spec.tasks and "default" not in spec.tasks:
            continue
        params: dict[str, Any] = {}
        if when.tags:
            params["tags"] = sorted(when.tags)
        if when.metadata:
            params["metadata"] = {key: values[0] for key, values in when.metadata.items()}
        return rule, task, params
    return None


def _summary(r: Response) -> str:
    cost = "unpriced" if r.cost is None else f"${r.cost:.6f}"
    tried = " → ".join(
        f"{a.model} ({'ok' if a.outcome == 'ok' else type(a.error).__name__})" for a in r.attempts
    )
    return (
        f"   model {r.model} ({r.model_id} via {r.provider}) · {r.usage.input_tokens} in / "
        f"{r.usage.output_tokens} out tokens · {cost} · finish {r.finish_reason}\n"
        f"   attempts: {tried}"
    )


def run_demo(config: Path, out: IO[str], environ: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if environ is None else environ)
    report = validate_file(config, environ=env)
    if report.spec is None:
        for d in report.diagnostics:
            out.write(d.render() + "\n")
        return 1
    spec = report.spec
    out.write(
        f"1. validated {config}: {plural(len(spec.providers), 'provider')}, "
        f"{plural(len(spec.models), 'model')}, {plural(len(spec.tasks), 'task')}, "
        f"{plural(len(spec.rules), 'rule')}\n"
    )
    with Sandbox() as sandbox, Router(spec, sandbox=sandbox, preload=False) as router:
        out.write(
            f"   sandbox serving OpenAI and Anthropic wire formats on {sandbox.url}; every "
            "provider of the spec points at it (no key needed or sent)\n\n"
        )
        return _walk(spec, router, sandbox, out)


def _walk(spec: Spec, router: Router, sandbox: Sandbox, out: IO[str]) -> int:
    first_task = _task(spec, "summarize", router)
    if first_task is None:
        out.write("   no task of the spec has a model to call\n")
        return 1
    total = 0.0
    out.write(f"2. task '{first_task}' — the decision, before anything is sent:\n")
    plan = router.explain(first_task, prompt=TEXT)
    out.write("   " + format_plan(plan, router.spec).replace("\n", "\n   ") + "\n")
    r = router.complete(first_task, prompt=TEXT)
    out.write(f"   answer: {r.content}\n{_summary(r)}\n\n")
    total += r.cost or 0.0

    chat = _task(spec, "chat", router, models=2)
    if chat is None:
        out.write(
            "3. (no task has a second model to fall back to: the fallback step is skipped)\n\n"
        )
    else:
        first = router.explain(chat, prompt=TEXT).chain[0].model
        sandbox.script("503", times=1, model=spec.models[first].id)
        out.write(
            f"3. task '{chat}' with a failure injected: the sandbox answers 503 to '{first}' once\n"
        )
        r = router.complete(chat, prompt="Is the fallback chain working? Please confirm.")
        out.write(f"   answer: {r.content}\n{_summary(r)}\n")
        failed = [a for a in r.attempts if a.outcome == "error"]
        if failed:
            out.write(f"   → {failed[0].model} failed ({failed[0].error}); {r.model} answered\n\n")
        total += r.cost or 0.0

    code = "code" if "code" in spec.tasks else first_task
    priority = spec.tasks[code].priority if code in spec.tasks else plan.priority
    out.write(f"4. task '{code}', streamed (priority: {priority}):\n   ")
    stream = router.stream(code, prompt="Write a function that adds two numbers. Keep it short.")
    for chunk in stream:
        out.write(chunk.delta)
    assert stream.response is not None
    out.write(f"\n{_summary(stream.response)}\n\n")
    total += stream.response.cost or 0.0

    found = _rule_request(spec, chat or first_task)
    if found is None:
        out.write("5. (the spec has no rule a request can match by task, tags or metadata)\n\n")
    else:
        rule, task, params = found
        asked = ", ".join(f"{k} {v}" for k, v in params.items()) or "any request"
        out.write(f"5. task '{task}' with {asked}: rule '{rule.name}'")
        out.write(f" ({rule.description}):\n" if rule.description else ":\n")
        plan = router.explain(task, prompt=TEXT, **params)
        order = ", ".join(c.model for c in plan.chain)
        out.write(f"   rule: {plan.rule.name if plan.rule else 'none'} · chain: {order}\n")
        if plan.chain:
            r = router.complete(task, prompt="Hello there. How are you today?", **params)
            out.write(f"   answer: {r.content}\n{_summary(r)}\n\n")
            total += r.cost or 0.0

    model = router.explain(first_task, prompt=TEXT, stream=True).chain[0].model
    sandbox.script("cut=3", times=1, model=spec.models[model].id)
    out.write(f"6. a stream cut after 3 events by '{model}' (after output reached you):\n   ")
    try:
        for chunk in router.stream(first_task, prompt=TEXT):
            out.write(chunk.delta)
        out.write("\n   (unexpected: the cut stream ended cleanly)\n")
    except StreamInterrupted as exc:
        out.write(
            f"\n   → StreamInterrupted, not a clean stop: partial text {exc.partial_text!r}\n\n"
        )
    except AllModelsFailed as exc:  # pragma: no cover - the stream was cut before output
        out.write(f"\n   → {exc}\n\n")

    out.write(f"total cost of the demo's answers: ${total:.6f}\n")
    out.write(
        "The same spec on the sandbox, one call at a time:\n"
        f'   router complete --sandbox --config {spec.source} --task {first_task} "..."\n'
    )
    return 0
