"""The pure core under test, driven by hand: a spec built from YAML text by the real loader,
targets whose node is a scripted fake (it stands for the adapter's I/O, nothing else), a clock
the test moves, and a tiny driver that does what the engine's sync driver does, minus the I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from router.errors import AllModelsFailed, NoRouteError, ProviderError
from router.providers.registry import profile_of
from router.routing.attempt import Try
from router.routing.call import Call, Target, build_request, prepare_call
from router.routing.retry import RetryShare
from router.routing.walk import ChainRun, Go, Wait
from router.spec import validate_bytes
from router.specmodel import Spec
from router.types import Request, Response, Usage

SPECS = Path(__file__).resolve().parent.parent / "specs"
ENV = {"ROUTER_TEST_KEY": "sk-test"}


def load(tasks: str, *, base: str = "models.yaml", extra: str = "") -> Spec:
    """``tests/specs/<base>`` with ``tasks:`` (YAML text, indented two spaces) and ``extra``
    top-level keys appended, validated and built by the real loader."""
    text = (SPECS / base).read_text(encoding="utf-8") + "tasks:\n" + tasks + extra
    report = validate_bytes(text.encode(), "<test spec>", environ=ENV)
    assert report.spec is not None, [d.message for d in report.errors]
    return report.spec


class Clock:
    """Monotonic seconds that move only when the test (or a Wait) moves them."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Outcome = ProviderError | Response | Callable[[], ProviderError | Response]


@dataclass
class ScriptedNode:
    """A model's stack as the driver sees it: each ``complete`` answers with the next scripted
    outcome (an answer, or a ProviderError to raise) after ``latency`` seconds of the clock."""

    clock: Clock
    outcomes: list[Outcome] = field(default_factory=list)
    latency: float = 0.0
    requests: list[Request] = field(default_factory=list)

    def complete(self, request: Request) -> Response:
        self.requests.append(request)
        self.clock.advance(self.latency)
        assert self.outcomes, f"{request.model} was called more often than scripted"
        outcome = self.outcomes.pop(0)
        if callable(outcome):
            outcome = outcome()
        if isinstance(outcome, ProviderError):
            raise outcome
        return outcome


def answer(text: str = "ok", finish_reason: str = "stop", *, cached: bool = False) -> Response:
    """What an adapter returns: the driver and the chain fill in cost, attempts and latency."""
    return Response(
        text, finish_reason, Usage(1_000, 500), "?", "wire-id", "?", None, 0.0, cached=cached
    )


def targets(
    spec: Spec, clock: Clock, provider_types: Mapping[str, str] | None = None
) -> dict[str, Target]:
    """One Target per model of the spec, each over its own ScriptedNode."""
    types = provider_types or {name: p.type for name, p in spec.providers.items()}
    return {
        name: Target(model, model.provider, ScriptedNode(clock), profile_of(types[model.provider]))
        for name, model in spec.models.items()
    }


def call(spec: Spec, task: str = "default", **params: Any) -> Call:
    return prepare_call(
        spec, task, None, "hello", params, stream=False, unavailable=lambda model: None
    )


def call_unrouted(spec: Spec, task: str = "default", **params: Any) -> Call:
    """A call planned as ``explain`` plans it: an empty chain is not refused."""
    return prepare_call(
        spec, task, None, "hello", params, stream=False, unavailable=lambda m: None, route=False
    )


def run_of(
    spec: Spec,
    clock: Clock,
    task: str = "default",
    budget: RetryShare | None = None,
    **params: Any,
) -> tuple[ChainRun, dict[str, Target]]:
    ts = targets(spec, clock)
    return ChainRun(spec, call(spec, task, **params), ts, clock, budget), ts


def script(ts: Mapping[str, Target], **outcomes: list[Outcome]) -> None:
    for name, items in outcomes.items():
        ts[name].node.outcomes.extend(items)


def drive(run: ChainRun) -> tuple[list[str], Response | AllModelsFailed | NoRouteError]:
    """The engine's sync driver without I/O: returns the decisions taken (``go small 10s``,
    ``wait 2s``) and the response or the error the request ends with."""
    trace: list[str] = []
    while (step := run.next_step()) is not None:
        if isinstance(step, Wait):
            trace.append(f"wait {step.seconds:g}s")
            run.clock.advance(step.seconds)  # type: ignore[attr-defined]
            continue
        assert isinstance(step, Go)
        target = step.target
        trace.append(f"go {target.model.name} {step.timeout:g}s")
        t = Try(run, step, build_request(run.spec, run.call, target, step.timeout))
        try:
            t.answered(target.node.complete(t.request))
        except ProviderError as error:
            t.caught(error)
        if isinstance(outcome := t.settle(), Response):
            return trace, outcome
        if not outcome:
            break
    return trace, run.give_up()
