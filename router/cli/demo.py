"""``router demo``: the main job on the built-in local default, with no keys and no network.

Starts the sandbox in-process, validates ``configs/demo.yaml``, points its providers at the
sandbox, and walks through what the router does: a routed call, a fallback after an injected
failure, a streamed answer, a rule, and a stream cut mid-way (which must be reported, never
passed off as a complete answer). Every decision is printed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from router.cli.common import plural
from router.engine.router import Router
from router.errors import AllModelsFailed, StreamInterrupted
from router.providers.registry import get_adapter_class
from router.routing.explain import format_plan
from router.sandbox import Sandbox
from router.spec import Spec, validate_file
from router.types import Response

DEMO_KEY_ENV = "SANDBOX_API_KEY"
TEXT = (
    "The router reads a declarative spec and sends each task to the best model. "
    "When a provider fails, the next model in the chain answers. "
    "Every decision can be explained before anything is sent."
)


def _point_at(spec: Spec, sandbox: Sandbox) -> Spec:
    """The demo spec with every provider's base_url on this sandbox's port."""
    providers = {
        name: dataclasses.replace(p, base_url=sandbox.url + get_adapter_class(p.type).base_path)
        for name, p in spec.providers.items()
    }
    return dataclasses.replace(spec, providers=providers)


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
    env.setdefault(DEMO_KEY_ENV, "sandbox-demo-key")  # the sandbox accepts any key
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
    total = 0.0
    with Sandbox() as sandbox, Router(_point_at(spec, sandbox), environ=env) as router:
        out.write(f"   sandbox serving OpenAI and Anthropic wire formats on {sandbox.url}\n\n")

        out.write("2. task 'summarize' — the decision, before anything is sent:\n")
        plan = router.explain("summarize", prompt=TEXT)
        out.write("   " + format_plan(plan, spec).replace("\n", "\n   ") + "\n")
        r = router.complete("summarize", prompt=TEXT)
        out.write(f"   answer: {r.content}\n{_summary(r)}\n\n")
        total += r.cost or 0.0

        first = router.explain("chat", prompt=TEXT).chain[0].model
        sandbox.script("503", times=1, model=spec.models[first].id)
        out.write(
            f"3. task 'chat' with a failure injected: the sandbox answers 503 to '{first}' once\n"
        )
        r = router.complete("chat", prompt="Is the fallback chain working? Please confirm.")
        out.write(f"   answer: {r.content}\n{_summary(r)}\n")
        failed = [a for a in r.attempts if a.outcome == "error"]
        if failed:
            out.write(f"   → {failed[0].model} failed ({failed[0].error}); {r.model} answered\n\n")
        total += r.cost or 0.0

        out.write("4. task 'code', streamed (priority: quality):\n   ")
        stream = router.stream(
            "code", prompt="Write a function that adds two numbers. Keep it short."
        )
        for chunk in stream:
            out.write(chunk.delta)
        assert stream.response is not None
        out.write(f"\n{_summary(stream.response)}\n\n")
        total += stream.response.cost or 0.0

        out.write(
            "5. task 'chat' tagged 'vip': rule 'vip-quality' chooses the candidates, "
            "best quality first:\n"
        )
        plan = router.explain("chat", prompt=TEXT, tags=["vip"])
        order = ", ".join(c.model for c in plan.chain)
        out.write(f"   rule: {plan.rule.name if plan.rule else 'none'} · chain: {order}\n")
        r = router.complete("chat", prompt="Hello from a VIP. How are you?", tags=["vip"])
        out.write(f"   answer: {r.content}\n{_summary(r)}\n\n")
        total += r.cost or 0.0

        model = router.explain("summarize", prompt=TEXT, stream=True).chain[0].model
        sandbox.script("cut=3", times=1, model=spec.models[model].id)
        out.write(f"6. a stream cut after 3 events by '{model}' (after output reached you):\n   ")
        try:
            for chunk in router.stream("summarize", prompt=TEXT):
                out.write(chunk.delta)
            out.write("\n   (unexpected: the cut stream ended cleanly)\n")
        except StreamInterrupted as exc:
            out.write(
                f"\n   → StreamInterrupted, not a clean stop: partial text {exc.partial_text!r}\n\n"
            )
        except AllModelsFailed as exc:  # pragma: no cover - the demo spec has healthy fallbacks
            out.write(f"\n   → {exc}\n\n")

        out.write(f"total cost of the demo's answers: ${total:.6f}\n")
        out.write(
            "With OPENAI_API_KEY / ANTHROPIC_API_KEY set, configs/routes.yaml reaches the real "
            "providers through the same code:\n"
            '   router complete --config configs/routes.yaml --task summarize "..."\n'
        )
    return 0
