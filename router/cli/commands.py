"""CLI commands that use the engine: complete, explain, models, graph, sandbox, demo.

Kept apart from ``router.cli`` (parser, validate, schema) so that ``router validate`` never
imports the engine.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import IO, Any

from router.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_config_option,
    add_hooks_option,
    add_sandbox_option,
    config_path,
    load_router,
    report_error,
)
from router.cli.ops import add_operations
from router.errors import (
    AllModelsFailed,
    HookFailed,
    RequestError,
    RequestRefused,
    RouterError,
    StreamInterrupted,
)


def _messages(args: argparse.Namespace) -> tuple[list[Any] | None, str | None]:
    if getattr(args, "messages", None):
        data = json.loads(Path(args.messages).read_text(encoding="utf-8"))
        if isinstance(data, dict) and "messages" in data:
            data = data["messages"]
        return data, None
    text = " ".join(args.text) if getattr(args, "text", None) else ""
    if text == "-":
        import sys

        text = sys.stdin.read()
    return None, text


def _call_params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if getattr(args, "tag", None):
        params["tags"] = list(args.tag)
    if getattr(args, "meta", None):
        metadata = {}
        for item in args.meta:
            key, sep, value = item.partition("=")
            if not sep:
                raise RequestError(f"--meta takes KEY=VALUE, got {item!r}")
            metadata[key] = value
        params["metadata"] = metadata
    if getattr(args, "max_tokens", None) is not None:
        params["max_tokens"] = args.max_tokens
    if getattr(args, "temperature", None) is not None:
        params["temperature"] = args.temperature
    if getattr(args, "session", None) is not None:
        params["session"] = args.session
    return {**params, **_provider_params(args)}


def _provider_params(args: argparse.Namespace) -> dict[str, Any]:
    """``--param NAME=VALUE`` (repeatable): a provider parameter; VALUE is read as JSON when it
    is JSON (40, true, {"a": 1}), else as text."""
    out: dict[str, Any] = {}
    for item in getattr(args, "param", None) or ():
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise RequestError(f"--param takes NAME=VALUE, got {item!r}", argument="--param")
        try:
            out[name] = json.loads(value)
        except ValueError:
            out[name] = value
    return out


def _add_param_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="a provider parameter the spec declares under extra_params (repeatable), e.g. "
        "--param service_tier=flex; VALUE is JSON (40, true) or text",
    )


_TASK_HELP = (
    "task name from the spec; omit it (or give 'auto') to let the spec's classifier choose "
    "from the prompt"
)


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "complete",
        help="send a prompt through a task and stream the answer",
        description=(
            "Route TEXT (or --messages FILE, or '-' for stdin) through TASK and stream the "
            "answer to stdout; model, tokens, cost and attempts follow on stderr. A spec that "
            "names hooks needs them registered with --hooks. "
            "Exit status: 0 answered, 1 every model failed, the stream was cut, or a hook "
            "refused the request or failed, 2 usage error."
        ),
    )
    p.add_argument("--task", help=_TASK_HELP)
    add_config_option(p)
    add_sandbox_option(p)
    add_hooks_option(p)
    p.add_argument("--messages", metavar="FILE", help="JSON list of messages (OpenAI shape)")
    p.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
    p.add_argument("--tag", action="append", help="request tag for rules (repeatable)")
    p.add_argument("--meta", action="append", metavar="KEY=VALUE", help="request metadata")
    p.add_argument(
        "--max-tokens", type=int, dest="max_tokens", help="most tokens to generate (an integer)"
    )
    p.add_argument("--temperature", type=float, help="sampling temperature, 0 to 2")
    _add_param_option(p)
    p.add_argument("text", nargs="*", help="the prompt")
    p.set_defaults(command=cmd_complete)

    p = sub.add_parser(
        "explain",
        help="show the routing decision for a request, without calling anything",
        description=(
            "Print which rule matches, the candidates in order with their scores and "
            "estimated cost, skipped models and why, and the whole fallback plan. "
            "Nothing is sent to any provider. Needs no API keys or Redis: an unset key "
            "variable is planned as if set, and a note on stderr names it. The hooks the "
            "request would pass are listed by name (none is run or imported)."
        ),
    )
    p.add_argument("--task", help=_TASK_HELP)
    add_config_option(p)
    add_sandbox_option(p)
    p.add_argument("--messages", metavar="FILE", help="JSON list of messages (OpenAI shape)")
    p.add_argument("--prompt", dest="text", action="append", help="prompt text")
    p.add_argument("--stream", action="store_true", help="plan a streamed call")
    p.add_argument("--tag", action="append", help="request tag (repeatable)")
    p.add_argument("--meta", action="append", metavar="KEY=VALUE", help="request metadata")
    p.add_argument(
        "--max-tokens", type=int, dest="max_tokens", help="plan for at most this many tokens out"
    )
    p.add_argument(
        "--session",
        help="plan a call carrying this sticky-routing session (the deployment it is bound to)",
    )
    _add_param_option(p)
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or json"
    )
    p.set_defaults(command=cmd_explain)

    p = sub.add_parser("models", help="list configured models", description="List models.")
    add_config_option(p)
    p.add_argument("--remote", action="store_true", help="also ask each provider for its list")
    p.set_defaults(command=cmd_models)

    add_operations(sub)

    p = sub.add_parser(
        "graph",
        help="print the compiled routing graph",
        description=(
            "Print rules → tasks → models and each target's node stack. Needs no API keys or "
            "Redis (a note on stderr names the variables that are unset)."
        ),
    )
    add_config_option(p)
    p.add_argument("--mermaid", action="store_true", help="as a Mermaid flowchart")
    p.set_defaults(command=cmd_graph)

    p = sub.add_parser(
        "sandbox",
        help="serve the local sandbox provider (OpenAI and Anthropic wire formats)",
        description=(
            "Serve a deterministic local LLM on HOST:PORT speaking the OpenAI "
            "(/v1/chat/completions) and Anthropic (/v1/messages) wire formats, with faults "
            "injectable through an x-sandbox-fault header or a /fault/SPEC/ path prefix."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port (default 8765)")
    p.add_argument("--api-key", default=None, help="require exactly this key")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the answers and latencies (default 0)"
    )
    p.set_defaults(command=cmd_sandbox)

    p = sub.add_parser(
        "demo",
        help="run the keys-free demo against the built-in sandbox",
        description=(
            "Start the in-process sandbox and walk through a spec on it (configs/demo.yaml, or "
            "your own with --config), printing each decision: a routed call, a fallback after "
            "an injected 503, a streamed answer, a rule, a stream cut mid-way. Every provider "
            "points at the sandbox: no key or Redis is needed, none is sent."
        ),
    )
    p.add_argument(
        "--config",
        default="configs/demo.yaml",
        metavar="FILE",
        help="the spec to walk through (default: configs/demo.yaml)",
    )
    p.add_argument(
        "--sandbox",
        action="store_true",
        help="accepted for symmetry with complete and explain: the demo always runs on the sandbox",
    )
    p.set_defaults(command=cmd_demo)

    from router.cli.serve import add_serve

    add_serve(sub)

    from router.cli.keys import add_keys

    add_keys(sub)


def cmd_complete(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    try:
        messages, text = _messages(args)
        if messages is None and not text:
            raise RequestError("give the prompt as TEXT, '-' for stdin, or --messages FILE")
        params = _call_params(args)
        with load_router(args, stderr) as router:
            if args.no_stream:
                response = router.complete(args.task, messages, prompt=text, **params)
                stdout.write(response.content + "\n")
            else:
                stream = router.stream(args.task, messages, prompt=text, **params)
                for chunk in stream:
                    stdout.write(chunk.delta)
                    stdout.flush()
                stdout.write("\n")
                response = stream.response
    except StreamInterrupted as exc:
        stdout.write("\n")
        stderr.write(f"router: {exc}\n  received before the cut: {len(exc.partial_text)} chars\n")
        return EXIT_FAILED
    except (AllModelsFailed, RequestRefused, HookFailed) as exc:
        stderr.write(f"router: {exc}\n")
        return EXIT_FAILED
    except (RouterError, OSError, json.JSONDecodeError) as exc:
        return report_error(exc, stderr, config_path(args))
    cost = "unpriced" if response.cost is None else f"${response.cost:.6f}"
    tried = " → ".join(
        f"{a.model}:{'ok' if a.outcome == 'ok' else type(a.error).__name__}"
        for a in response.attempts
    )
    stderr.write(
        f"[{response.model} ({response.model_id} via {response.provider}) · "
        f"{response.usage.input_tokens} in / {response.usage.output_tokens} out tokens · {cost} · "
        f"{response.latency_s:.2f}s · {tried}]\n"
    )
    return EXIT_OK


def cmd_explain(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.routing.explain import format_plan, plan_to_dict
    from router.routing.extras import sent_fields

    try:
        messages, text = _messages(args)
        with load_router(args, stderr, offline=True) as router:
            plan = router.explain(
                args.task,
                messages,
                prompt=text if messages is None else None,
                stream=args.stream,
                **_call_params(args),
            )
            # Where each model with several deployments is served, and which one goes first.
            spread = {
                model: router.deployments(model, session=args.session)
                for model in plan.models
                if router.spec.models[model].deployments
            }
            # Which provider parameters (the spec's and --param's) each model gets.
            extras = sent_fields(router.spec, plan, _provider_params(args))
            if args.format == "json":
                stdout.write(
                    json.dumps(plan_to_dict(plan, spread, extras, router.spec), indent=2) + "\n"
                )
            else:
                stdout.write(format_plan(plan, router.spec, spread, extras) + "\n")
    except (RouterError, OSError, json.JSONDecodeError) as exc:
        return report_error(exc, stderr, config_path(args))
    if not plan.chain:  # the call would be refused: say so in the exit status too
        stderr.write(f"router explain: no model of task '{plan.task.name}' can take this request\n")
        return EXIT_FAILED
    return EXIT_OK


def cmd_models(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    try:
        with load_router(args, stderr) as router:
            rows = router.models(remote=args.remote)
    except (RouterError, OSError) as exc:
        return report_error(exc, stderr)
    width = max(len(r.name) for r in rows)
    for r in rows:
        status = "available" if r.available else f"unavailable: {r.reason}"
        listed = ""
        if r.listed_by_provider is not None:
            listed = (
                " · listed by provider" if r.listed_by_provider else " · NOT listed by provider"
            )
        elif r.not_asked:
            listed = f" · provider's list {r.not_asked}"
        caps = ",".join(sorted(r.capabilities))
        stdout.write(f"{r.name:<{width}}  {r.provider}/{r.id}  [{caps}]  {status}{listed}\n")
    return EXIT_OK


def cmd_graph(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    try:
        with load_router(args, stderr, offline=True) as router:
            graph = router.graph
            stdout.write((graph.mermaid() if args.mermaid else str(graph)) + "\n")
    except (RouterError, OSError) as exc:
        return report_error(exc, stderr)
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.sandbox import serve

    def ready(port: int) -> None:
        url = f"http://{args.host}:{port}"
        stdout.write(
            f"sandbox listening on {url}\n  OpenAI base_url:    {url}/v1\n"
            f"  Anthropic base_url: {url}\n  faults: header 'x-sandbox-fault: 503' or "
            f"base_url {url}/fault/503/v1\nCtrl-C stops it.\n"
        )
        stdout.flush()

    try:
        serve(args.host, args.port, args.api_key, ready=ready, seed=args.seed)
    except OSError as exc:
        stderr.write(f"router sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror}\n")
        return EXIT_USAGE
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.cli.demo import run_demo

    try:
        return run_demo(Path(args.config), stdout)
    except OSError as exc:
        return report_error(exc, stderr)
