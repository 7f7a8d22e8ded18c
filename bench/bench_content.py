"""What content rules (``when.text``) cost per request, and their bound (issue 15, item 1).

    .venv/bin/python bench/bench_content.py            # ~1 min
    .venv/bin/python bench/bench_content.py --n 20000

Prints four tables:

1. **Per request, typical input**: ``Router.explain`` (the planning path every call runs:
   arguments, messages, features, rules, plan) on a spec of 12 content rules (keywords and
   patterns; none matches, so every rule's text is read), minus the same spec without them:
   p50 and p99 in µs over N calls, for a short chat prompt and a 4 KB code paste.
2. **Worst case, 1 MB input**: one user message of 1,000,000 characters, several shapes
   (prose, one run of a letter, of spaces, of quotes), the same 12 rules: the slowest of R
   requests in ms. The rules read 8,000 characters of it (``max_chars``' default).
3. **Adversarial patterns that pass the load check**, each on the text that is worst for it,
   of 8,000 characters (the default bound) and of 1,000,000 (``max_chars``' ceiling): ms per
   search, and ns per character (linear: the two columns agree).
4. **What the check refuses**, on plain ``re`` for contrast (sizes kept small so this ends).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

SPEC_HEAD = """version: 1
providers:
  openai: {type: openai, api_key_env: BENCH_KEY}
models:
  mini: {provider: openai, id: gpt-4o-mini, pricing: {input: 0.15, output: 0.6}}
  big: {provider: openai, id: gpt-4o, pricing: {input: 2.5, output: 10}}
tasks:
  chat: {candidates: [mini, big]}
  code: {candidates: [big]}
"""
# Twelve rules that the inputs below never match: each is read in full on every request.
CONTENT_RULES = """rules:
  - {name: r1, when: {text: {any: [kubernetes, helm chart, terraform]}}, route_to: code}
  - {name: r2, when: {text: {all: [invoice, refund]}}, route_to: code}
  - {name: r3, when: {text: {regex: '\\bTraceback \\(most recent call last\\)'}}, route_to: code}
  - {name: r4, when: {text: {regex: '(?i)\\bSELECT\\s+\\*\\s+FROM\\b'}}, route_to: code}
  - {name: r5, when: {text: {regex: '\\b\\d{3}-\\d{2}-\\d{4}\\b'}}, route_to: code}
  - {name: r6, when: {text: {regex: '\\bsk-[\\w-]{20,}'}}, only: [mini]}
  - {name: r7, when: {text: {any: [confidential, patient record, diagnosis], in: all}},
     only: [mini]}
  - {name: r8, when: {text: {regex: '<think>[^<]*</think>'}}, route_to: code}
  - {name: r9, when: {text: {regex: '\\b[A-Z]{2,}-\\d+\\b'}}, route_to: code}
  - {name: r10, when: {text: {any: [translate, traduire, übersetzen]}}, route_to: code}
  - {name: r11, when: {text: {regex: '(?i)\\bfn\\s+\\w+\\('}}, route_to: code}
  - {name: r12, when: {text: {regex: '"[^"]*"\\s*:\\s*\\['}}, route_to: code}
"""
CHAT = (
    "Could you help me plan a three-day trip to Lisbon in early spring? I like museums, "
    "long walks and good coffee, and I would rather avoid crowded places at lunch time."
)
CODE = (
    "Why does this function return the wrong total? "
    + "def total(items):\n    s = 0\n    for i in items:\n        s += i.price * i.qty\n"
    "    return round(s, 2)\n" * 30
)


def _router(with_rules: bool) -> object:
    from router import Router
    from router.spec import load_spec

    text = SPEC_HEAD + (CONTENT_RULES if with_rules else "")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        spec = load_spec(f.name, environ={"BENCH_KEY": "sk-bench"})
    finally:
        os.unlink(f.name)
    return Router(spec, environ={"BENCH_KEY": "sk-bench"}, preload=False)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def per_request(n: int) -> None:
    routers = {name: _router(name == "with") for name in ("with", "without")}
    print("## 1. Per request, typical input (Router.explain: the planning path of a call)\n")
    print(
        "| input | chars | with 12 content rules p50 / p99 | without p50 / p99 | added p50 / p99 |"
    )
    print("|---|---|---|---|---|")
    for label, prompt in (("chat prompt", CHAT), ("code paste", CODE)):
        stats = {}
        for name, router in routers.items():
            explain: Callable[..., object] = router.explain  # type: ignore[attr-defined]
            for _ in range(200):
                explain("chat", prompt=prompt)
            samples = []
            for _ in range(n):
                t = time.perf_counter_ns()
                explain("chat", prompt=prompt)
                samples.append((time.perf_counter_ns() - t) / 1000)
            stats[name] = _percentiles(samples)
        w, wo = stats["with"], stats["without"]
        print(
            f"| {label} | {len(prompt):,} | {w[0]:.1f} / {w[1]:.1f} µs "
            f"| {wo[0]:.1f} / {wo[1]:.1f} µs | {w[0] - wo[0]:.1f} / {w[1] - wo[1]:.1f} µs |"
        )
    print()


MB = 1_000_000
BIG = {
    "prose": ("lorem ipsum dolor sit amet consectetur " * (MB // 38 + 1))[:MB],
    "one run of a letter": "a" * MB,
    "one run of spaces": " " * MB,
    "one run of quotes": '"' * MB,
    "digits and dashes": ("123-45-678 " * (MB // 11 + 1))[:MB],
}


def worst_inputs(reps: int) -> None:
    router = _router(True)
    explain: Callable[..., object] = router.explain  # type: ignore[attr-defined]
    print("## 2. Worst case: one 1,000,000-character message, 12 content rules\n")
    print(f"| message | slowest of {reps} requests | median |")
    print("|---|---|---|")
    for label, content in BIG.items():
        messages = [{"role": "user", "content": content}]
        explain("chat", messages)
        samples = []
        for _ in range(reps):
            t = time.perf_counter()
            explain("chat", messages)
            samples.append((time.perf_counter() - t) * 1000)
        print(f"| {label} | {max(samples):.2f} ms | {statistics.median(samples):.2f} ms |")
    print()


# Patterns that pass the load check, each with the text that makes it work hardest: long runs
# of what its repeats read, its prefix repeated, near misses.
ADVERSARIAL = [
    (r"\b\w+\(", lambda n: "a" * n),
    (r'"[^"]*"', lambda n: '"' + "x" * (n - 1)),
    (r"\bdef\s+\w+\(", lambda n: ("def " + "a" * 30 + " ") * (n // 35 + 1)),
    (r"https?://\S+", lambda n: "http:/" * (n // 6 + 1)),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}\b", lambda n: "111.111.111.x" * (n // 13 + 1)),
    (r"(?:foo|bar){1,16}x", lambda n: "foobar" * (n // 6 + 1)),
    (r"\W{1,16}\w", lambda n: '"' * n),
    (r"\w{1,8}\W{1,8}x", lambda n: "ab  " * (n // 4 + 1)),
    (
        r"(?i)traceback \(most recent call last\)",
        lambda n: "traceback (most recent " * (n // 23 + 1),
    ),
    (r"[ab]" + "a" * 100, lambda n: ("a" * 99 + "b") * (n // 100 + 1)),
    (r"\bsk-[\w-]{20,}", lambda n: "sk-" * (n // 3 + 1)),
    (r"(?m)^[ \t]+at ", lambda n: ("\n" + " " * 60) * (n // 61 + 1)),
    # near the step budget (112 of 128): the slowest a single accepted pattern gets
    (r"\W{1,16}\w{1,16}\W{1,16}\w{1,16}x", lambda n: ('"' * 16 + "a" * 16) * (n // 32 + 1)),
    (r"\W{1,16}\w{1,16}\W{1,16}\w{1,16}x", lambda n: '"' * n),
]


def adversarial(reps: int) -> None:
    from router.spec.regexcheck import examine

    print("## 3. Adversarial patterns that pass the load check\n")
    print("| pattern | 8,000 chars | 1,000,000 chars | ns per char (8k / 1M) |")
    print("|---|---|---|---|")
    for source, make in ADVERSARIAL:
        compiled = examine(source).pattern
        assert compiled is not None, (source, examine(source).message)
        times = []
        for size in (8000, MB):
            text = make(size)[:size]
            best = float("inf")
            for _ in range(reps if size == 8000 else 2):
                t = time.perf_counter()
                compiled.search(text)
                best = min(best, time.perf_counter() - t)
            times.append(best)
        per = [times[0] / 8000 * 1e9, times[1] / MB * 1e9]
        shown = source.replace("|", "\\|")
        print(
            f"| `{shown}` | {times[0] * 1000:.3f} ms | {times[1] * 1000:.1f} ms "
            f"| {per[0]:.1f} / {per[1]:.1f} |"
        )
    print()


def refused() -> None:
    import re

    from router.spec.regexcheck import examine

    print("## 4. What the check refuses, on plain `re` (for contrast)\n")
    print("| pattern | text | time | refused as |")
    print("|---|---|---|---|")
    cases = [
        (r"(a+)+$", "a" * 22 + "!"),
        (r"(a+)+$", "a" * 24 + "!"),
        (r"\w+\(", "a" * 8000),
        (r"\w+\(", "a" * 32000),
        (r"a.*b", "a" * 8000),
        (r"\s+$", " " * 8000 + "x"),
    ]
    for source, text in cases:
        compiled = re.compile(source)
        t = time.perf_counter()
        compiled.search(text)
        took = time.perf_counter() - t
        print(
            f"| `{source}` | {len(text):,} chars | {took * 1000:.1f} ms | {examine(source).code} |"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="requests per row of table 1")
    parser.add_argument("--reps", type=int, default=20, help="repetitions in tables 2 and 3")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    per_request(args.n)
    worst_inputs(args.reps)
    adversarial(args.reps)
    refused()


if __name__ == "__main__":
    main()
