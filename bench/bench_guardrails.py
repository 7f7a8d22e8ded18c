"""What the built-in guardrails cost (issue 16): per request for typical chat messages (p50 and
p99), and per megabyte for a 1 MB message of prose and for the adversarial inputs each pattern
was built to scan in linear time (long digit runs, thousands of "@", near-miss keys, PEM
headers that never end...). Prints one table; the worst row is the documented bound.

    .venv/bin/python bench/bench_guardrails.py [--requests 2000] [--runs 5] [--quick]

CPU time of this process (``time.process_time``) is reported beside wall time: the machine is
shared, and CPU time is what the guardrails spend whoever else is running.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from router.guardrails import BlockedTerms, Guardrails, InputSize, Pii, Secrets
from router.types import Message

MB = 1_000_000
WORDS = [
    "the",
    "a",
    "to",
    "of",
    "and",
    "in",
    "is",
    "it",
    "for",
    "that",
    "you",
    "this",
    "with",
    "on",
    "be",
    "are",
    "as",
    "not",
    "have",
    "can",
    "was",
    "but",
    "will",
    "router",
    "model",
    "request",
    "answer",
    "please",
    "summary",
    "write",
    "code",
    "data",
    "team",
    "user",
    "customer",
    "order",
    "invoice",
    "meeting",
    "project",
    "deadline",
    "review",
    "error",
    "function",
    "return",
    "value",
    "string",
    "list",
    "file",
    "report",
    "email",
    "phone",
    "number",
    "account",
    "payment",
    "address",
    "today",
    "tomorrow",
    "thanks",
    "regards",
]
SNIPPETS = [
    "def f(x):\n    return x * 2\n",
    "SELECT id, total FROM orders WHERE created_at > '2024-01-15';",
    "version 3.12.1 released on 2024-05-02",
    "order #123456789 for $1,234.56",
    "see https://docs.example.com/api/v2/users?id=42",
    "meeting at 10:30, room 4B",
]
PII = [
    "ana.lopez@example.com",
    "+44 20 7946 0958",
    "(415) 555-0132",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "123-45-6789",
]


def chat_request(rng: random.Random) -> list[Message]:
    """A typical chat request: 1 to 8 messages of 100 to 2,000 characters, some with a code
    snippet or numbers, one in five with a piece of personal data."""
    messages = [Message("system", "You are a helpful assistant for the support team.")]
    for turn in range(rng.randint(1, 8)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(15, 300))]
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), rng.choice(SNIPPETS))
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words)), rng.choice(PII))
        messages.append(Message("user" if turn % 2 == 0 else "assistant", " ".join(words) + "."))
    return messages


def mb(piece: str) -> str:
    return (piece * (MB // len(piece) + 1))[:MB]


HOSTILE = {
    "prose, no digits": mb("The quick brown fox jumps over the lazy dog. "),
    "prose with numbers": mb("In 2024 we shipped 3.12.1 to 1,250 users on 15.01.2024. "),
    "one digit run": mb("1234567890"),
    "digits and spaces": mb("1 "),
    "zeros and spaces": mb("0 "),
    "'a@' repeated": mb("a@"),
    "'@' only": mb("@"),
    "almost e-mails": mb("john.doe@example "),
    "near-miss keys": mb("sk-abcdefghij0123456 "),
    "'sk-' run": mb("sk-"),
    "'eyJ' run": mb("eyJ"),
    "JWT-like segments": mb("eyJabcdefgh."),
    "PEM BEGIN, no END": mb("-----BEGIN RSA PRIVATE KEY-----\n"),
    "AKIA run": mb("AKIA"),
    "IBAN starts": mb("DE89 "),
    "'+1 ' repeated": mb("+1 "),
    "'<' only": mb("<"),
    "secret names": mb("aws_secret_access_key = "),
    "cards failing Luhn": mb("4111 1111 1111 1112 "),
    "NINO look-alikes": mb("AB 12 34 56 "),
    "term letter run": mb("x"),
    "unicode": mb("\u00e9\u4e2d\U0001f642 "),
    "phones (all masked)": mb("+44 20 7946 0958 "),
    "cards (all masked)": mb("4111 1111 1111 1111 "),
    "e-mails (all masked)": mb("ana.lopez@example.com "),
}


def guardrail_set(action: str) -> Guardrails:
    """pii, secrets, an input_size cap and 100 blocked terms, the longest 100 characters."""
    terms = ["project x", "x" * 100, *(f"codename {i}" for i in range(98))]
    return Guardrails(
        [
            InputSize("caps", max_total_chars=4 * MB),
            Secrets(action="mask" if action == "mask" else "refuse"),
            BlockedTerms("words", terms, action="mask" if action == "mask" else "refuse"),
            Pii(),
        ]
    )


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def per_request(guards: Guardrails, requests: list[list[Message]], runs: int) -> list[float]:
    samples: list[float] = []
    for _ in range(runs):
        for messages in requests:
            start = time.perf_counter_ns()
            guards.check(messages)
            samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="chat requests generated")
    parser.add_argument("--runs", type=int, default=5, help="runs of each 1 MB input")
    parser.add_argument("--quick", action="store_true", help="500 requests, 2 runs")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.runs = 500, 2

    rng = random.Random(16)
    requests = [chat_request(rng) for _ in range(args.requests)]
    chars = [sum(len(m.text) for m in r) for r in requests]
    print(
        f"typical chat requests: {len(requests)}, {statistics.median(chars):.0f} characters "
        f"median ({max(chars)} max), 1 in 5 messages with a piece of personal data\n"
    )
    print("| guardrails | p50 µs | p99 µs | mean µs | CPU µs per request |")
    print("|---|---:|---:|---:|---:|")
    for name, guards in (
        ("none (Guardrails())", Guardrails()),
        ("pii only", Guardrails([Pii()])),
        ("secrets only", Guardrails([Secrets()])),
        ("pii + secrets + input_size + 100 terms", guardrail_set("mask")),
    ):
        per_request(guards, requests[:100], 1)  # warm up
        cpu = time.process_time()
        samples = per_request(guards, requests, 3)
        cpu = (time.process_time() - cpu) / len(samples) * 1e6
        print(
            f"| {name} | {pct(samples, 0.5):.1f} | {pct(samples, 0.99):.1f} | "
            f"{statistics.fmean(samples):.1f} | {cpu:.1f} |"
        )

    print("\n1 MB in one user message, all four guardrails (masking), median of", args.runs)
    print("\n| input | wall ms | CPU ms | findings |")
    print("|---|---:|---:|---:|")
    guards = guardrail_set("mask")
    worst = ("", 0.0)
    for name, text in HOSTILE.items():
        messages = [Message("user", text)]
        decision = guards.check(messages)
        runs = [timed(lambda m=messages: guards.check(m)) for _ in range(args.runs)]  # type: ignore[misc]
        wall = statistics.median(r[0] for r in runs) * 1000
        cpu = statistics.median(r[1] for r in runs) * 1000
        found = sum(f.count for f in decision.findings)
        print(f"| {name} | {wall:.0f} | {cpu:.0f} | {found:,} |")
        if cpu > worst[1]:
            worst = (name, cpu)
    print(f"\nworst: {worst[0]}, {worst[1]:.0f} ms of CPU for 1 MB")


if __name__ == "__main__":
    main()
