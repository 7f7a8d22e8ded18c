"""The simulated workload: which task each request is for, its prompt, whether it streams and
when it arrives. Everything derives from the seed, so the same seed sends the same requests."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["SimRequest", "make_workload", "parse_mix", "request_index"]

_TAG = "[sim {}] "
_TAG_RE = re.compile(r"\[sim (\d+)\] ")
_WORDS = (  # noqa: SIM905 - a sentence reads better than a column of words
    "router model request answer provider latency budget cost quality stream token prompt "
    "summary report customer invoice order shipment ticket support release deploy service "
    "cluster region failover retry limit window cache policy tenant account metric alert "
    "review design document meeting schedule project team draft final update"
).split()
# (share, fewest words, most words): mostly short prompts, some long ones.
_LENGTHS = ((0.5, 8, 40), (0.35, 40, 200), (0.15, 200, 1200))


@dataclass(frozen=True, slots=True)
class SimRequest:
    index: int
    task: str
    prompt: str
    stream: bool
    arrival: float  # simulated seconds from the start
    label: str | None = None  # the label of a prompt drawn from a labelled file


def parse_mix(text: str) -> dict[str, float]:
    """``"chat=3,summarize=1"`` → ``{"chat": 3.0, "summarize": 1.0}`` (ValueError when bad)."""
    mix: dict[str, float] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, value = (part.strip() for part in item.partition("="))
        try:
            weight = float(value) if sep else 1.0
        except ValueError:
            raise ValueError(f"mix item {item!r}: the weight is not a number") from None
        if not name or not weight >= 0:
            raise ValueError(f"mix item {item!r}: expected TASK=WEIGHT with a weight >= 0")
        mix[name] = weight
    if not mix or not any(mix.values()):
        raise ValueError(f"mix {text!r}: give at least one task a weight above 0")
    return mix


def request_index(text: str) -> int | None:
    """The simulated request a prompt belongs to (its ``[sim N]`` tag), if any."""
    match = _TAG_RE.search(text)
    return int(match.group(1)) if match else None


def _prompt(rng: random.Random, index: int) -> str:
    roll = rng.random()
    low, high = _LENGTHS[-1][1:]
    for share, lo, hi in _LENGTHS:
        if roll < share:
            low, high = lo, hi
            break
        roll -= share
    words = rng.choices(_WORDS, k=rng.randint(low, high))
    sentences = []
    for start in range(0, len(words), 12):
        sentence = " ".join(words[start : start + 12])
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    return _TAG.format(index) + " ".join(sentences)


def _schedule(weights: Sequence[tuple[str, float]], count: int) -> list[str]:
    """Tasks in proportion to their weights, interleaved (smooth weighted round-robin)."""
    total = sum(w for _, w in weights)
    credit = dict.fromkeys((name for name, _ in weights), 0.0)
    order = []
    for _ in range(count):
        for name, weight in weights:
            credit[name] += weight
        chosen = max(credit, key=lambda name: credit[name])
        credit[chosen] -= total
        order.append(chosen)
    return order


def make_workload(
    tasks: Mapping[str, float],
    count: int,
    *,
    seed: int,
    stream_share: float,
    streamable: frozenset[str],
    rate: float | None,
    prompts: Sequence[tuple[str, str, str | None]] = (),
) -> list[SimRequest]:
    """``count`` requests over ``tasks`` (name → weight). Arrivals are a Poisson process at
    ``rate`` requests per simulated second, or all at once when ``rate`` is None. Only tasks in
    ``streamable`` (a model can stream for them) get streamed requests. With ``prompts``
    ((task, text, label) drawn from a labelled file), each request is one of those, drawn at
    random, instead of made-up words for a task of the mix."""
    rng = random.Random(f"router-simulate:{seed}")
    order = _schedule([(n, w) for n, w in tasks.items() if w > 0], count)
    out = []
    clock = 0.0
    for index, scheduled in enumerate(order):
        if rate is not None and index:
            clock += rng.expovariate(rate)
        stream = rng.random() < stream_share
        task = scheduled
        if prompts:
            task, text, label = rng.choice(prompts)
            prompt = _TAG.format(index) + text
        else:
            prompt, label = _prompt(rng, index), None
        out.append(SimRequest(index, task, prompt, stream and task in streamable, clock, label))
    return out
