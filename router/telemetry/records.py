"""What telemetry knows about a request: plain values, built once by the engine.

A :class:`RequestRecord` holds every :class:`AttemptRecord` of the request, in the order they
were made, and what its guardrails found (:class:`GuardrailCount`: counts, never values). All
are frozen, slotted dataclasses with no reference to the engine's objects, so the ledger, the
event log, the metrics and the tracer can keep or ship them freely.
:func:`records_from` builds one from what the engine has at the end of a request.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from router.types import Attempt, Message, Response, Usage

if TYPE_CHECKING:
    from router.errors import StreamInterrupted

__all__ = [
    "AttemptOutcome",
    "AttemptRecord",
    "GuardrailCount",
    "RequestOutcome",
    "RequestRecord",
    "records_from",
    "render_prompt",
]

AttemptOutcome: TypeAlias = Literal["ok", "error", "skipped", "cancelled"]
#: ``refused``: a guardrail refused the request before anything was sent (no attempts).
RequestOutcome: TypeAlias = Literal["ok", "failed", "interrupted", "refused"]


@dataclass(frozen=True, slots=True)
class GuardrailCount:
    """How many times a guardrail found a kind of thing in one request, and what it did
    (``masked``, ``refused``, ``reported``): occurrences, never the values."""

    guardrail: str
    kind: str
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One try at one model. ``depth`` is the position of the model among the distinct models
    the request tried (0: the first, 1: the first fallback...); a retry of the same model keeps
    its depth. ``cost`` is None when the tokens used cannot be priced (never reported as $0);
    ``error`` is the error's message (no provider/model prefix), for the event log."""

    task: str
    model: str
    provider: str
    outcome: AttemptOutcome
    error_kind: str | None
    status: int | None
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    cost: float | None
    latency_s: float
    depth: int
    cache_hit: bool
    ts: float  # wall-clock start, seconds since the epoch
    error: str | None = None
    deployment: str | None = None  # the model's deployment tried (its name, never a key)
    #: Prompt tokens written to the provider's prompt cache (part of ``input_tokens``, as
    #: ``cached_input_tokens``, the ones read from it, are).
    cache_write_tokens: int = 0
    #: Output tokens spent reasoning (part of ``output_tokens``).
    reasoning_tokens: int = 0
    #: USD the provider's prompt cache saved (reads at the input price minus what they cost,
    #: less the premium paid for writes); None when unpriced.
    cache_savings: float | None = 0.0


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One call to the router, however many attempts it took. ``task`` is the task that served
    it, ``requested_task`` the name the caller gave (they differ when an unknown name fell back
    to ``default``). ``model``/``provider`` are the ones that answered (or, for an interrupted
    stream, the one that was cut); ``fallbacks`` counts the distinct models tried after the
    first. ``prompt``/``response`` hold text only when content logging is opted in."""

    task: str
    requested_task: str
    outcome: RequestOutcome
    model: str | None
    provider: str | None
    attempts: tuple[AttemptRecord, ...]
    latency_s: float
    cost: float | None
    fallbacks: int
    cache_hit: bool
    stream: bool
    ts: float  # wall-clock start, seconds since the epoch
    prompt: str | None = None
    response: str | None = None
    deployment: str | None = None  # the deployment that answered (or was cut)
    #: What the request's guardrails found, per guardrail, kind and outcome (no values).
    guardrails: tuple[GuardrailCount, ...] = ()

    @property
    def input_tokens(self) -> int:
        return sum(a.input_tokens for a in self.attempts)

    @property
    def output_tokens(self) -> int:
        return sum(a.output_tokens for a in self.attempts)

    @property
    def cache_savings(self) -> float | None:
        """USD the provider's prompt cache saved over the attempts (None: some unpriced)."""
        values = [a.cache_savings for a in self.attempts]
        return None if None in values else sum(v for v in values if v is not None)


def render_prompt(messages: Iterable[Message]) -> str:
    """The messages as ``role: text`` lines (images left out): the prompt text that content
    logging records."""
    return "\n".join(f"{m.role}: {m.text}" for m in messages)


def records_from(
    attempts: Sequence[Attempt],
    *,
    task: str,
    requested_task: str | None = None,
    response: Response | None = None,
    interrupted: StreamInterrupted | None = None,
    interrupted_cost: float | None = None,
    interrupted_savings: float | None = None,
    latency_s: float | None = None,
    stream: bool = False,
    content: bool = False,
    messages: Iterable[Message] = (),
    now: float | None = None,
    guardrails: Iterable[GuardrailCount] = (),
    refused: bool = False,
) -> RequestRecord:
    """The record of one request, from the engine's attempts.

    - Success: pass ``response`` (its usage and cost go to the ``ok`` attempt; ``latency_s``
      defaults to ``response.latency_s``).
    - Stream cut after its first chunk: pass ``interrupted`` (the StreamInterrupted; its usage
      goes to the last attempt, priced at ``interrupted_cost`` when the engine can price it,
      with ``interrupted_savings`` from the prompt cache).
    - Otherwise (AllModelsFailed, or a stream that failed before any chunk) the request failed.

    - Refused by a guardrail before anything was sent: ``refused`` (no attempts, no content).

    ``guardrails`` are what the request's guardrails found.
    ``latency_s`` is the request's wall time (defaults to the sum of the attempts'). ``now``
    is the wall-clock end of the request (defaults to ``time.time()``); attempt start times are
    laid out from the request's start, waits between attempts not counted. With ``content``,
    ``messages`` become the record's prompt and the answer (or partial text) its response.
    """
    if latency_s is None:
        latency_s = (
            response.latency_s if response is not None else sum(a.latency_s for a in attempts)
        )
    start = (time.time() if now is None else now) - latency_s
    depths: dict[str, int] = {}
    out: list[AttemptRecord] = []
    offset = 0.0
    last = len(attempts) - 1
    for i, a in enumerate(attempts):
        depth = depths.setdefault(a.model, len(depths))
        usage: Usage | None = None
        cost: float | None = 0.0
        savings: float | None = 0.0
        if a.outcome == "ok" and response is not None:
            usage, cost, savings = response.usage, response.cost, response.cache_savings
            if response.cached or (cost is not None and savings is None):
                savings = 0.0  # a replayed answer, or an engine that did not say
        elif i == last and interrupted is not None:
            usage, cost, savings = interrupted.usage, interrupted_cost, interrupted_savings
            if usage is None:
                cost = savings = 0.0  # nothing known to have been used
        elif a.outcome == "cancelled":
            cost = savings = None  # a hedge cancelled mid-flight: billed, usage unknown
        err = a.error
        out.append(
            AttemptRecord(
                task=task,
                model=a.model,
                provider=a.provider,
                outcome=a.outcome,
                error_kind=err.kind if err is not None else None,
                status=err.status if err is not None else None,
                input_tokens=usage.input_tokens if usage is not None else 0,
                output_tokens=usage.output_tokens if usage is not None else 0,
                cached_input_tokens=usage.cached_input_tokens if usage is not None else 0,
                cost=cost,
                latency_s=a.latency_s,
                depth=depth,
                cache_hit=a.cached,
                ts=start + offset,
                error=err.message if err is not None else None,
                deployment=a.deployment,
                cache_write_tokens=usage.cache_write_tokens if usage is not None else 0,
                reasoning_tokens=usage.reasoning_tokens if usage is not None else 0,
                cache_savings=savings if cost is not None else None,
            )
        )
        offset += a.latency_s
    records = tuple(out)
    outcome: RequestOutcome
    model: str | None
    provider: str | None
    if response is not None:
        outcome, model, provider = "ok", response.model, response.provider
    elif refused:
        outcome, model, provider, content = "refused", None, None, False
    elif interrupted is not None:
        outcome, model, provider = "interrupted", interrupted.model, interrupted.provider
    else:
        outcome, model, provider = "failed", None, None
    costs = [r.cost for r in records]
    total = None if any(c is None for c in costs) else sum(c for c in costs if c is not None)
    text: str | None = None
    if content:
        if response is not None:
            text = response.content
        elif interrupted is not None:
            text = interrupted.partial_text
    return RequestRecord(
        task=task,
        requested_task=task if requested_task is None else requested_task,
        outcome=outcome,
        model=model,
        provider=provider,
        attempts=records,
        latency_s=latency_s,
        cost=total,
        fallbacks=max(len(depths) - 1, 0),
        cache_hit=response.cached if response is not None else False,
        stream=stream,
        ts=start,
        prompt=render_prompt(messages) if content else None,
        response=text,
        deployment=(
            response.deployment
            if response is not None
            else records[-1].deployment
            if interrupted is not None and records
            else None
        ),
        guardrails=tuple(guardrails),
    )
