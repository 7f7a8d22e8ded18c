"""How long validating a large spec takes: 1,000 models and 200 tasks (issue 2's target: well
under 200 ms). Prints the median and spread of each stage over several runs.

    .venv/bin/python bench/bench_validate.py [--models 1000] [--tasks 200] [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from router.spec import validate_bytes
from router.spec.build import build_spec
from router.spec.checks import semantic_diagnostics
from router.spec.schema_errors import schema_diagnostics
from router.spec.yamlload import load_yaml


def generate(models: int, tasks: int) -> bytes:
    lines = [
        "version: 1",
        "providers:",
        "  openai: {type: openai, api_key_env: OPENAI_API_KEY}",
        "  anthropic: {type: anthropic, api_key_env: ANTHROPIC_API_KEY}",
        "  local: {type: openai_compatible, base_url: 'http://127.0.0.1:11434/v1', local: true}",
        "models:",
    ]
    providers = ("openai", "anthropic", "local")
    for i in range(models):
        lines += [
            f"  model-{i}:",
            f"    provider: {providers[i % 3]}",
            f"    id: provider-model-{i}",
            f"    pricing: {{input: {0.1 + i % 7}, output: {0.4 + i % 11}, cached_input: 0.05}}",
            f"    context_window: {32000 + (i % 8) * 16000}",
            "    max_output_tokens: 4096",
            "    capabilities: [streaming, tools, json]",
            f"    latency: {{p50: {0.5 + (i % 5) / 10}, p95: {2 + (i % 5) / 10}}}",
            f"    quality: {i % 10}",
            "    params: {temperature: 0.3}",
        ]
    lines.append("tasks:")
    per_task = max(models // tasks, 1)
    for t in range(tasks):
        first = (t * per_task) % models
        candidates = ", ".join(f"model-{(first + k) % models}" for k in range(per_task))
        fallback = f"model-{(first + per_task) % models}"
        lines += [
            f"  task-{t}:",
            f"    candidates: [{candidates}]",
            "    priority: {cost: 0.6, latency: 0.4}",
            "    constraints: {require: [tools], max_cost_per_call: 0.5}",
            f"    fallback: [{fallback}]"
            if t % 3
            else f"    fallback: [{fallback}, {{task: task-{t + 1}}}]",
            "    retry: {attempts: 3}",
            "    params: {max_tokens: 512}",
        ]
    lines += ["rules:"]
    for r in range(20):
        lines += [
            f"  - name: rule-{r}",
            f"    when: {{task: task-{r}, min_input_tokens: {1000 * (r + 1)}}}",
            f"    route_to: task-{r + 1}",
        ]
    return ("\n".join(lines) + "\n").encode()


def count(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(count(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(count(v) for v in value)
    return 1


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    raw = generate(args.models, args.tasks)
    env = {"OPENAI_API_KEY": "x", "ANTHROPIC_API_KEY": "x"}
    report = validate_bytes(raw, "generated.yaml", environ=env)
    assert report.ok, [d.render() for d in report.errors[:5]]
    doc = load_yaml(raw, "generated.yaml")
    stages: list[tuple[str, Callable[[], Any]]] = [
        ("parse YAML (libyaml compose + walk)", lambda: load_yaml(raw, "generated.yaml")),
        ("JSON Schema (every error)", lambda: schema_diagnostics(doc)),
        ("semantic checks", lambda: semantic_diagnostics(doc, environ=env)),
        ("build typed Spec", lambda: build_spec(doc.data, source=None, warnings=())),
        ("total: validate_bytes", lambda: validate_bytes(raw, "generated.yaml", environ=env)),
    ]
    print(
        f"spec: {args.models} models, {args.tasks} tasks, 20 rules, "
        f"{len(raw) / 1024:.0f} KiB, {count(doc.data):,} values; {args.runs} runs"
    )
    print(f"{'stage':40} {'median ms':>10} {'min':>8} {'max':>8}")
    for name, fn in stages:
        median, low, high = timed(fn, args.runs)
        print(f"{name:40} {median:10.1f} {low:8.1f} {high:8.1f}")


if __name__ == "__main__":
    main()
