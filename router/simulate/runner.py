"""``run_simulation``: a seeded workload through the real router against an in-process sandbox."""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections.abc import Mapping, Sequence
from typing import IO

from router.engine.hooks import stand_ins
from router.engine.sandboxed import DUMMY_KEY, sandboxed
from router.errors import AllModelsFailed, ProviderError, RouterError, StreamInterrupted
from router.sandbox import Sandbox
from router.spec import load_spec
from router.spec.examples import labelled_lines
from router.specmodel import AUTO_TASK, Spec
from router.state import make_backend
from router.types import Attempt, Response

from .adapter import SimRouter, Simulation
from .clock import SimClock
from .faults import FaultBook, FaultRule, describe_rules, parse_faults
from .report import ModelStats, Outcome, SimulationReport, format_report
from .workload import SimRequest, make_workload, parse_mix

__all__ = ["DUMMY_KEY", "run_simulation", "sandboxed"]

_PROGRESS_EVERY_S = 0.1
_SECONDS_RE = re.compile(r"\d+(?:\.\d+)?s\b")


class _Progress:
    """A one-line progress bar, redrawn at most 10 times a second."""

    def __init__(self, stream: IO[str] | None, total: int, force: bool) -> None:
        tty = stream is not None and getattr(stream, "isatty", lambda: False)()
        self.stream = stream if (force or tty) else None
        self.total = total
        self._last = 0.0

    def update(self, done: int, lost: int, simulated: float) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if done < self.total and now - self._last < _PROGRESS_EVERY_S:
            return
        self._last = now
        filled = 30 * done // max(self.total, 1)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} requests · "
            f"lost {lost} · {simulated:.0f}s simulated"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


def _attempts_of(exc: BaseException) -> tuple[tuple[str, str, str], ...]:
    if isinstance(exc, StreamInterrupted):
        return tuple(_attempt(a) for a in exc.attempts if isinstance(a, Attempt))
    if isinstance(exc, AllModelsFailed):
        out = []
        for e in exc.exceptions:
            if isinstance(e, ProviderError):
                never_sent = e.local or (e.kind == "timeout" and "could be tried" in e.message)
                out.append((e.model or "?", "skipped" if never_sent else "error", e.kind))
        return tuple(out)
    return ()


def _attempt(a: Attempt) -> tuple[str, str, str]:
    return (a.model, a.outcome, a.error.kind if a.error is not None else "")


def _label(error: ProviderError) -> str:
    if error.circuit_open:
        return "circuit open"
    return f"{error.kind} (local)" if error.local else error.kind


def _lost_reason(exc: BaseException) -> str:
    """Why a request was lost, without the numbers that would make every one unique."""
    if isinstance(exc, AllModelsFailed):
        message = _SECONDS_RE.sub("Ns", exc.message)
        kinds = sorted({_label(e) for e in exc.exceptions if isinstance(e, ProviderError)})
        return f"AllModelsFailed: {message}" + (f" [{', '.join(kinds)}]" if kinds else "")
    if isinstance(exc, StreamInterrupted):
        return f"StreamInterrupted: the stream from {exc.model} was cut after output began"
    if not isinstance(exc, RouterError):
        return f"unexpected {type(exc).__name__} (a bug in the router?): {exc}"
    return f"{type(exc).__name__}: {exc}"


async def _one(
    router: SimRouter, sim: Simulation, req: SimRequest, report: SimulationReport
) -> Outcome:
    clock = sim.clock
    task = req.task
    try:
        plan = router.explain(req.task, prompt=req.prompt, stream=req.stream)
        first = plan.chain[0].model if plan.chain else None
        if (decided := plan.features.classification) is not None:
            task = plan.task.name  # the task the classifier chose
            report.classified(req.label, decided.label)
    except RouterError:
        first = None
    sim.first[req.index] = first
    start = clock()
    response: Response | None
    try:
        if req.stream:
            stream = router.astream(req.task, prompt=req.prompt)
            async for _ in stream:
                pass
            response = stream.response
        else:
            response = await router.acomplete(req.task, prompt=req.prompt)
    except Exception as exc:  # a RouterError, or a bug: either way the caller got an error
        return Outcome(
            req.index,
            task,
            req.stream,
            first,
            None,
            _attempts_of(exc),
            clock() - start,
            error=_lost_reason(exc),
        )
    if response is None:  # pragma: no cover - a finished stream always has its response
        return Outcome(req.index, task, req.stream, first, None, (), 0.0, error="no response")
    return Outcome(
        req.index,
        task,
        req.stream,
        first,
        response.model,
        tuple(_attempt(a) for a in response.attempts),
        clock() - start,
        cost=response.cost,
        cached=response.cached,
        # Which deployment each attempt reached, for models served at several.
        deployments=tuple(
            a.deployment if router.spec.models[a.model].deployments else None
            for a in response.attempts
        ),
    )


async def _simulate(
    spec: Spec,
    environ: Mapping[str, str],
    sandbox: Sandbox,
    rules: tuple[FaultRule, ...],
    weights: Mapping[str, float],
    report: SimulationReport,
    progress: _Progress,
    prompts: Sequence[tuple[str, str, str | None]] = (),
) -> None:
    clock = SimClock()
    sim = Simulation(
        spec,
        sandbox,
        clock,
        FaultBook(rules, spec, report.seed),
        seed=report.seed,
        model_latency=report.model_latency,
    )
    state = make_backend(
        "memory", clock=clock.wall, cache_max_entries=spec.defaults.cache.max_entries
    )
    router = SimRouter(
        spec,
        sim,
        environ=environ,
        state=state,
        clock=clock,
        wall=clock.wall,
        sleep=clock.sleep,
        asleep=clock.asleep,
        random=random.Random(report.seed).random,  # the draw among deployments, too
        hooks=stand_ins(spec, passing=True),  # routing is simulated, not what hooks do
    )
    streamable = set()
    for task in spec.tasks if prompts else weights:
        try:
            if router.explain(task, prompt="Hello.", stream=True).chain:
                streamable.add(task)
        except RouterError:
            pass
    if streamable >= set(spec.tasks):
        streamable.add(AUTO_TASK)  # classified requests may stream: every task can
    workload = make_workload(
        weights,
        report.requests,
        seed=report.seed,
        stream_share=report.stream_share,
        streamable=frozenset(streamable),
        rate=report.rate,
        prompts=prompts,
    )
    sim.requests = {req.index: req for req in workload}
    pending = iter(workload)

    async def worker() -> None:
        try:
            for req in pending:
                await clock.sleep_until(req.arrival)
                waited = clock() - req.arrival
                if waited > 0 and report.rate is not None:
                    report.queued += 1
                    report.max_queue_s = max(report.max_queue_s, waited)
                report.add(await _one(router, sim, req, report))
                progress.update(report.total.requests, report.total.lost, clock())
        finally:
            clock.running -= 1
            clock.poke()

    workers = min(report.concurrency, len(workload))
    clock.running = workers
    try:
        await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        await router.aclose()
    report.simulated_s = clock()
    for name, n in sim.injected.items():
        report.models.setdefault(name, ModelStats()).injected = n
    for name, n in sim.timeouts.items():
        report.models.setdefault(name, ModelStats()).timeouts = n


def read_prompts(path: str | os.PathLike[str], spec: Spec) -> list[tuple[str, str, str | None]]:
    """(task, text, label) per line of a JSONL file of ``{"text": ..., "label": ...}``: the
    task is ``auto`` (classified) when the spec has a classifier (the label is then
    optional), else the label, which must name a task. ValueError naming the line for a line
    that cannot be used; OSError when unreadable."""
    found = []
    for number, text, label in labelled_lines(path, label_required=False):
        if spec.classifier is None and label not in spec.tasks:
            raise ValueError(
                f"{os.fspath(path)}:{number}: the spec has no classifier, so each line's "
                f"label must name a task ({', '.join(spec.tasks)}); got {label!r}"
            )
        found.append((AUTO_TASK if spec.classifier else str(label), text, label))
    return found


def run_simulation(
    config_path: str | os.PathLike[str],
    *,
    requests: int = 1000,
    faults: str | Sequence[str] | None = None,
    concurrency: int = 32,
    seed: int = 0,
    out: IO[str] | None = None,
    progress: IO[str] | None = None,
    force_progress: bool = False,
    mix: str | Mapping[str, float] | None = None,
    stream_share: float = 0.2,
    rate: float | None = 1.0,
    model_latency: bool = True,
    prompts: str | os.PathLike[str] | None = None,
) -> SimulationReport:
    """Run ``requests`` simulated requests through the router built from ``config_path``, every
    provider replaced by one in-process sandbox, with ``faults`` injected (grammar in
    :mod:`router.simulate.faults`); write the text report to ``out`` when given. The hooks
    the spec names are not run: a simulation is about routing, not content.

    ``mix`` weights the tasks (``"chat=3,code=1"`` or a mapping; default: every task of the
    spec alike); ``stream_share`` of the requests stream; arrivals are Poisson at ``rate``
    requests per simulated second (None: all at once, ``concurrency`` at a time), and at most
    ``concurrency`` are in flight. With ``model_latency`` each successful call takes a time
    drawn from its model's latency prior. ``prompts`` (a JSONL file of ``{"text": ...,
    "label": ...}``) draws each request's prompt from that file: classified by the spec's
    classifier when it has one (the report then says how often the classifier agreed with
    the file's label), else sent to the task its label names. ``progress`` gets a progress
    bar when it is a TTY (or ``force_progress``). Raises ConfigError for an invalid spec and
    ValueError (a FaultSpecError for the faults) for invalid arguments. Use ``report.exit_code``."""
    if requests < 1:
        raise ValueError("requests must be at least 1")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if not 0.0 <= stream_share <= 1.0:
        raise ValueError("stream_share must be within [0, 1]")
    if rate is not None and not rate > 0:
        raise ValueError("rate must be above 0 requests per second (or None: all at once)")
    spec = load_spec(config_path, environ={})
    rules = parse_faults(faults, spec)
    weights = dict.fromkeys(spec.tasks, 1.0)
    if mix is not None:
        weights = parse_mix(mix) if isinstance(mix, str) else dict(mix)
        unknown = [name for name in weights if name not in spec.tasks]
        if unknown:
            raise ValueError(
                f"mix names unknown task(s) {', '.join(unknown)}; "
                f"the spec's tasks are: {', '.join(spec.tasks)}"
            )
    drawn = read_prompts(prompts, spec) if prompts is not None else ()
    report = SimulationReport(
        config=os.fspath(config_path),
        faults=describe_rules(rules),
        seed=seed,
        requests=requests,
        rate=rate,
        concurrency=concurrency,
        stream_share=stream_share,
        model_latency=model_latency,
    )
    bar = _Progress(progress, requests, force_progress)
    started = time.perf_counter()
    # The engine's backoff jitter comes from the random module: seed it for the run.
    saved = random.getstate()
    random.seed(f"router-simulate-jitter:{seed}")
    try:
        with Sandbox(seed=seed) as sandbox:
            pointed, environ = sandboxed(spec, sandbox)
            asyncio.run(_simulate(pointed, environ, sandbox, rules, weights, report, bar, drawn))
    finally:
        random.setstate(saved)
        bar.close()
    report.wall_s = time.perf_counter() - started
    report.tasks = {name: report.tasks[name] for name in spec.tasks if name in report.tasks}
    if out is not None:
        out.write(format_report(report))
    return report
