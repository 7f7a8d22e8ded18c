"""``router init``: a commented starter spec for the providers at hand, validated and explained.

The providers are those named with ``--provider``, else those whose key variable is set, else a
local OpenAI-compatible server (Ollama), which needs no key and which ``--sandbox`` runs against
the built-in sandbox. The file is written only when it does not exist (or with ``--force``),
then checked with :func:`router.spec.validate_file` and one task's decision is printed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from router.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, default_config, plural


@dataclass(frozen=True)
class _Model:
    name: str
    id: str
    pricing: tuple[float, float]  # USD per million tokens: input, output
    window: int
    output: int
    capabilities: str
    quality: int
    strong: bool

    def lines(self, provider: str) -> list[str]:
        price_in, price_out = self.pricing
        return [
            f"  {self.name}:",
            f"    provider: {provider}",
            f'    id: "{self.id}"',
            f"    pricing: {{input: {price_in:.2f}, output: {price_out:.2f}}}",
            f"    context_window: {self.window}",
            f"    max_output_tokens: {self.output}",
            f"    capabilities: [{self.capabilities}]",
            f"    quality: {self.quality}",
        ]


@dataclass(frozen=True)
class _Provider:
    name: str
    env: str | None
    block: str  # the provider's entry, YAML lines indented by 4 (after "  NAME:")
    models: tuple[_Model, ...]


_ALL = "streaming, tools, vision, json"
_NO_JSON = "streaming, tools, vision"
_NO_VISION = "streaming, tools, json"
PROVIDERS: dict[str, _Provider] = {
    p.name: p
    for p in (
        _Provider(
            "openai",
            "OPENAI_API_KEY",
            "    type: openai\n"
            "    api_key_env: OPENAI_API_KEY       # the variable's NAME; never the key itself\n",
            (
                _Model("gpt-4o-mini", "gpt-4o-mini", (0.15, 0.60), 128000, 16384, _ALL, 6, False),
                _Model("gpt-4o", "gpt-4o", (2.50, 10.00), 128000, 16384, _ALL, 8, True),
            ),
        ),
        _Provider(
            "anthropic",
            "ANTHROPIC_API_KEY",
            "    type: anthropic\n    api_key_env: ANTHROPIC_API_KEY\n",
            (
                _Model(
                    "claude-haiku",
                    "claude-3-5-haiku-latest",
                    (0.80, 4.00),
                    200000,
                    8192,
                    _NO_JSON,
                    6,
                    False,
                ),
                _Model(
                    "claude-sonnet",
                    "claude-sonnet-4-5",
                    (3.00, 15.00),
                    200000,
                    64000,
                    _NO_JSON,
                    9,
                    True,
                ),
            ),
        ),
        _Provider(
            "groq",
            "GROQ_API_KEY",
            "    type: openai_compatible           # Groq speaks OpenAI's API\n"
            "    preset: groq                      # its base_url; the key in GROQ_API_KEY\n",
            (
                _Model(
                    "llama-8b-groq",
                    "llama-3.1-8b-instant",
                    (0.05, 0.08),
                    131072,
                    8192,
                    _NO_VISION,
                    4,
                    False,
                ),
                _Model(
                    "llama-70b-groq",
                    "llama-3.3-70b-versatile",
                    (0.59, 0.79),
                    131072,
                    32768,
                    _NO_VISION,
                    7,
                    True,
                ),
            ),
        ),
        _Provider(
            "mistral",
            "MISTRAL_API_KEY",
            "    type: openai_compatible           # Mistral speaks OpenAI's API\n"
            "    preset: mistral                   # its base_url; the key in MISTRAL_API_KEY\n",
            (
                _Model(
                    "mistral-small",
                    "mistral-small-latest",
                    (0.20, 0.60),
                    32000,
                    8192,
                    _NO_VISION,
                    5,
                    False,
                ),
                _Model(
                    "mistral-large",
                    "mistral-large-latest",
                    (2.00, 6.00),
                    128000,
                    8192,
                    _NO_VISION,
                    8,
                    True,
                ),
            ),
        ),
        _Provider(
            "local",
            None,
            "    type: openai_compatible           # Ollama (or `preset: ollama`, vllm, lmstudio)\n"
            "    base_url: http://127.0.0.1:11434/v1\n"
            "    local: true                       # a loopback URL on purpose (else flagged)\n",
            (_Model("llama-local", "llama3.1:8b", (0, 0), 32768, 4096, _NO_VISION, 3, False),),
        ),
    )
}


def add_init(sub: Any) -> None:
    p = sub.add_parser(
        "init",
        help="write a commented starter routes spec for your providers",
        description=(
            "Write a commented starter spec for the providers named with --provider, or else "
            "for those whose key variable is set (OPENAI_API_KEY, ANTHROPIC_API_KEY, "
            "GROQ_API_KEY, MISTRAL_API_KEY), or else for a local OpenAI-compatible server "
            "(Ollama), which needs no key. The file is validated and one task's routing "
            "decision is printed. An existing file is never overwritten without --force. "
            "Exit status: 0 written, 1 the written spec is invalid, 2 usage or I/O error."
        ),
    )
    p.add_argument(
        "file",
        nargs="?",
        metavar="FILE",
        help="where to write the spec (default: $ROUTER_CONFIG or configs/routes.yaml)",
    )
    p.add_argument(
        "--provider",
        action="append",
        choices=sorted(PROVIDERS),
        metavar="NAME",
        help=f"a provider to include (repeatable): {', '.join(sorted(PROVIDERS))}",
    )
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(command=cmd_init)


def chosen(named: list[str] | None, environ: Mapping[str, str]) -> tuple[list[_Provider], str]:
    """The providers to write, and why they were chosen (for the file's header)."""
    if named:
        return [PROVIDERS[n] for n in dict.fromkeys(named)], "named on the command line"
    found = [p for p in PROVIDERS.values() if p.env and environ.get(p.env)]
    if found:
        names = " and ".join(p.env for p in found if p.env)
        return found, f"{names} {'is' if len(found) == 1 else 'are'} set"
    return [PROVIDERS["local"]], "no key variable is set: a local server needs none"


def render(providers: list[_Provider], why: str) -> str:
    """The starter spec's text."""
    models = [m for p in providers for m in p.models]
    cheap = [m.name for m in models if not m.strong] or [m.name for m in models]
    strong = [m.name for m in models if m.strong]
    lines = [
        f"# Written by `router init` for {', '.join(p.name for p in providers)} ({why}).",
        '# Edit it: every key is described in the README ("The routing spec").',
        "# Check it:        router validate FILE",
        "# See a decision:  router explain --config FILE --task chat --prompt 'Hello'",
        "# Run it keys-free against the built-in sandbox: add --sandbox to complete/explain.",
        "version: 1",
        "",
        "providers:                              # named endpoints; keys come from variables",
    ]
    for p in providers:
        lines.append(f"  {p.name}:")
        lines += p.block.rstrip("\n").split("\n")
    lines += [
        "",
        "models:     # NAME: what tasks refer to; id: what the provider is sent",
        "            # pricing: USD per million tokens (check your provider's current prices)",
    ]
    for p in providers:
        for m in p.models:
            lines += m.lines(p.name)
    lines += [
        "",
        "tasks:                                  # router.complete(task='chat', ...)",
        "  chat:",
        "    description: Everyday questions and answers; the cheapest capable model first.",
        f"    candidates: [{', '.join(cheap)}]",
        "    priority: cost                      # cost | latency | quality | {cost: 0.7, ...}",
    ]
    if strong:
        lines.append(f"    fallback: [{', '.join(strong)}]        # tried in order after those")
        lines += [
            "  hard:",
            "    description: Harder work; the strongest model first.",
            f"    candidates: [{', '.join(strong)}]",
            "    priority: quality",
            f"    fallback: [{', '.join(cheap)}]",
        ]
    lines += [
        "  default:                              # serves any task name not listed above",
        f"    candidates: [{', '.join(cheap)}]",
        "",
        "defaults:                               # what every task inherits",
        "  params: {temperature: 0.7, max_tokens: 1024}",
        "  retry: {attempts: 2}                  # per model, the first attempt included",
        "  timeouts: {request: 60, total: 120}   # seconds: one attempt's silence, the whole call",
        "",
    ]
    return "\n".join(lines)


def cmd_init(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.spec import validate_file

    path = Path(args.file or default_config())
    if path.exists() and not args.force:
        stderr.write(f"router init: {path} exists; pass --force to overwrite it\n")
        return EXIT_USAGE
    providers, why = chosen(args.provider, os.environ)
    text = render(providers, why).replace("FILE", str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        stderr.write(f"router init: {path}: cannot write: {exc.strerror or exc}\n")
        return EXIT_USAGE
    report = validate_file(path)
    for d in report.diagnostics:
        stdout.write(d.render() + "\n")
    if not report.ok or report.spec is None:
        stderr.write(f"router init: {path} was written but is invalid\n")
        return EXIT_FAILED
    spec = report.spec
    stdout.write(
        f"wrote {path}: {plural(len(spec.providers), 'provider')} ({why}), "
        f"{plural(len(spec.models), 'model')}, {plural(len(spec.tasks), 'task')}\n\n"
        f"router explain --config {path} --task chat --prompt 'Hello':\n"
    )
    return _explain(path, stdout, stderr)


def _explain(path: Path, stdout: IO[str], stderr: IO[str]) -> int:
    """What `router explain --task chat` prints: planned as if unset key variables were set
    (a note on stderr names them), so a spec for providers named without keys explains too."""
    from router.cli.common import load_router, report_error
    from router.errors import RouterError
    from router.routing.explain import format_plan

    args = argparse.Namespace(config=str(path), sandbox=False)
    try:
        with load_router(args, stderr, offline=True) as router:
            plan = router.explain("chat", prompt="Hello")
            stdout.write(format_plan(plan, router.spec) + "\n")
    except RouterError as exc:
        return report_error(exc, stderr)
    return EXIT_OK
