"""What the task classifier costs (issue 15): per request, and to train on 1,000 examples.

    .venv/bin/python bench/bench_classifier.py                 # ~30 s
    .venv/bin/python bench/bench_classifier.py --requests 20000

For each backend (``tfidf``, ``embeddings``) it prints:

1. **Training** on 1,000 examples (configs/classifier/train.jsonl and heldout.jsonl, 300
   texts, each also written with 3 other openings and endings, 200 per label): the time of
   ``train(spec)``, best of 3, after the backend's packages are imported (their import is
   printed apart: it is paid once per process, in the training thread).
2. **Per request**: what a classified call adds before planning (the last user message
   read, the scores, the decision) on the held-out texts, p50 and p99 over N requests, one
   at a time, in µs: wall time, and the thread's CPU time (what the request costs the
   machine; on a machine shared with other jobs the wall p99 also counts preemption).
3. **Accuracy** on the held-out file with the spec's threshold, as ``router classify eval``
   reports it.

Targets (the issue's): tfidf p99 under 1 ms per request, training under 300 ms. Last, the
cost of ``import router`` and whether it loads any backend package (it must not).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OPENINGS = ("", "Please help: ", "Quick question. ", "Hi! ")
ENDINGS = ("", " Thanks!", " Keep it short.", " (urgent)")


def _rows(name: str) -> list[dict[str, str]]:
    path = ROOT / "configs" / "classifier" / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _thousand(labels: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    texts: dict[str, list[str]] = {label: [] for label in labels}
    for row in _rows("train.jsonl") + _rows("heldout.jsonl"):
        for i, (start, end) in enumerate(zip(OPENINGS, ENDINGS, strict=True)):
            if i == 0 or len(texts[row["label"]]) < 200:
                texts[row["label"]].append(start + row["text"] + end)
    return {label: tuple(t[:200]) for label, t in texts.items()}


def _import_time(backend: str) -> float:
    started = time.perf_counter()
    if backend == "tfidf":
        import sklearn.feature_extraction.text
        import sklearn.linear_model  # noqa: F401
    else:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    return time.perf_counter() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def bench(backend: str, requests: int) -> None:
    from router.messages import coerce_messages
    from router.routing.classifiers import missing_extra, train
    from router.routing.classify import decide, text_to_classify
    from router.spec import load_spec

    why = missing_extra(backend)
    if why is not None:
        print(f"{backend}: skipped ({why})")
        return
    spec = load_spec(ROOT / "configs" / "classifier.yaml", environ={})
    assert spec.classifier is not None
    base = replace(spec.classifier, backend=backend)
    imported = _import_time(backend)
    big = replace(base, examples=_thousand(base.labels))
    assert big.size() == 1000, big.size()

    times, cpu = [], []
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        train(big)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(f"\n{backend}")
    print(f"  import of its packages:            {imported * 1000:8.0f} ms (once per process)")
    print(
        f"  training, 1,000 examples:          {min(times) * 1000:8.0f} ms wall, "
        f"{min(cpu) * 1000:.0f} ms CPU (best of 3)"
    )

    model = train(base)  # the spec's own 200 examples, as a Router trains them
    held = _rows("heldout.jsonl")
    messages = [coerce_messages([{"role": "user", "content": row["text"]}]) for row in held]
    n = requests if backend == "tfidf" else max(requests // 20, 200)
    tasks = spec.tasks
    costs, cpu_costs = [], []
    for i in range(n):
        msgs = messages[i % len(messages)]
        started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
        text = text_to_classify(msgs, base.input)
        decide(base, tasks, model.labels, model.scores(text))
        cpu_costs.append((time.thread_time_ns() - started_cpu) / 1000)
        costs.append((time.perf_counter_ns() - started) / 1000)
    for name, values in (("wall", costs), ("CPU", cpu_costs)):
        print(
            f"  per request, {name:<4} ({n:,}):        p50 {_percentile(values, 50):7.0f} µs   "
            f"p99 {_percentile(values, 99):7.0f} µs   mean {statistics.fmean(values):7.0f} µs"
        )
    decisions = [decide(base, tasks, model.labels, model.scores(row["text"])) for row in held]
    right = sum(d.label == row["label"] for d, row in zip(decisions, held, strict=True))
    abstained = sum(d.abstained for d in decisions)
    print(
        f"  held-out accuracy (threshold {base.threshold:g}):   {right}/{len(held)} "
        f"({right / len(held):.0%}), {abstained} abstained"
    )


def import_cost() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import router; from router import Router; "
        "print(time.perf_counter() - t, sorted(m for m in ('numpy', 'sklearn', 'scipy', "
        "'onnxruntime', 'tokenizers') if m in sys.modules))"
    )
    runs = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.split(maxsplit=1)
        runs.append((float(out[0]), out[1].strip()))
    best = min(r[0] for r in runs)
    print(
        f"\nimport router (+ Router): {best * 1000:.0f} ms best of 5; "
        f"backend packages loaded: {runs[0][1]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10000, help="tfidf requests timed")
    parser.add_argument("--backend", choices=("tfidf", "embeddings"), action="append")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    for backend in args.backend or ("tfidf", "embeddings"):
        bench(backend, args.requests)
    import_cost()


if __name__ == "__main__":
    main()
