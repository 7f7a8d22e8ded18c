"""The router under simulation, and the adapter that puts faults and latency on its calls.

:class:`SimRouter` is the real :class:`~router.engine.router.Router` (same planning, chain walk,
retries, limiter, breakers, cache) whose provider adapters are each wrapped in a
:class:`SimAdapter`. For every attempt the wrapper asks the :class:`Simulation` what happens
(which fault entries hit, how long the model takes), waits that long in simulated time, and
then makes the real HTTP call to the sandbox through a real adapter of the provider's type:
on the provider's plain sandbox URL, or on ``/fault/ITEMS/`` so the sandbox answers with the
fault (in the provider's own wire format, which the real adapter then translates).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from statistics import NormalDist
from typing import Any

from router.engine.compile import make_adapter
from router.engine.router import Router
from router.errors import ProviderTimeout
from router.providers.base import Adapter, ProviderSettings
from router.providers.registry import get_adapter_class
from router.sandbox import Sandbox
from router.specmodel import ModelSpec, ProviderSpec, Spec
from router.types import Chunk, Message, Request, Response

from .clock import SimClock
from .faults import Decision, FaultBook, unit
from .workload import SimRequest, request_index

__all__ = ["SimAdapter", "SimRouter", "Simulation"]

_Z95 = NormalDist().inv_cdf(0.95)
_DEFAULT_SIGMA = 0.5  # spread of a latency prior that gives only one of p50 / p95


def sample_latency(model: ModelSpec, u: float) -> float:
    """A latency from the model's prior: lognormal through p50 and p95 (0 without a prior)."""
    p50, p95 = model.latency.p50, model.latency.p95
    if p50 is None and p95 is None:
        return 0.0
    if p50 is not None and p95 is not None and p95 > p50 > 0:
        sigma = math.log(p95 / p50) / _Z95
    else:
        sigma = _DEFAULT_SIGMA
    if p50 is None or p50 <= 0:
        p50 = (p95 or 0.0) / math.exp(_Z95 * sigma)
    z = NormalDist().inv_cdf(min(max(u, 1e-9), 1 - 1e-9))
    return p50 * math.exp(sigma * z)


def _text(message: Message) -> str:
    content: Any = message.content
    if isinstance(content, str):
        return content
    return " ".join(getattr(part, "text", "") for part in content or ())


class Simulation:
    """What the adapters share: the sandbox, the clock, the fault book, the workload and the
    per-model counts of what was injected."""

    def __init__(
        self,
        spec: Spec,
        sandbox: Sandbox,
        clock: SimClock,
        book: FaultBook,
        *,
        seed: int,
        model_latency: bool,
    ) -> None:
        self.spec = spec
        self.sandbox = sandbox
        self.clock = clock
        self.book = book
        self.seed = seed
        self.model_latency = model_latency
        self.requests: dict[int, SimRequest] = {}
        self.first: dict[int, str | None] = {}
        self._attempts: dict[tuple[int, str], int] = {}
        self.injected: dict[str, int] = {}  # model → attempts that got a fault
        self.timeouts: dict[str, int] = {}  # model → simulated timeouts

    def decide(self, request: Request) -> tuple[Decision, float]:
        """The fault decision for this attempt, and its simulated latency in seconds."""
        index = None
        for message in reversed(request.messages):
            if message.role == "user":
                index = request_index(_text(message))
                break
        sim = self.requests.get(index) if index is not None else None
        key = (-1 if index is None else index, request.model)
        attempt = self._attempts.get(key, 0) + 1
        self._attempts[key] = attempt
        decision = self.book.decide(
            request=key[0],
            task=sim.task if sim is not None else "",
            first=self.first.get(key[0]),
            model=request.model,
            attempt=attempt,
            now=self.clock(),
        )
        if decision.injected:
            self.injected[request.model] = self.injected.get(request.model, 0) + 1
        latency = decision.delay_s
        if self.model_latency and not decision.fails:
            u = unit(self.seed, "latency", key[0], request.model, attempt)
            latency += sample_latency(self.spec.models[request.model], u)
        return decision, latency

    async def wait(self, request: Request, latency: float) -> None:
        """Spend the attempt's simulated latency; a timeout when it reaches the attempt's."""
        limit = request.timeout
        if limit is not None and latency >= limit:
            await self.clock.asleep(limit)
            self.timeouts[request.model] = self.timeouts.get(request.model, 0) + 1
            raise ProviderTimeout(
                f"no answer within {limit:g}s (simulated latency {latency:.1f}s)",
                provider=request.provider,
                model=request.model,
            )
        await self.clock.asleep(latency)


class SimAdapter(Adapter):
    """Wraps one provider: simulated latency and faults, then a real call to the sandbox."""

    type_name = "simulated"

    def __init__(
        self, sim: Simulation, provider: ProviderSpec, make: Callable[[ProviderSpec], Adapter]
    ) -> None:
        super().__init__(ProviderSettings(name=provider.name, base_url=provider.base_url))
        self._sim = sim
        self._provider = provider
        self._make = make
        self._adapters: dict[str, Adapter] = {}

    def _adapter(self, fault: str) -> Adapter:
        adapter = self._adapters.get(fault)
        if adapter is None:
            provider = self._provider
            if fault:
                base = (
                    self._sim.sandbox.fault_url(fault) + get_adapter_class(provider.type).base_path
                )
                provider = dataclasses.replace(provider, base_url=base)
            adapter = self._adapters[fault] = self._make(provider)
        return adapter

    def prepare(self) -> None:
        self._adapter("").prepare()  # the SDK import and clients, before the simulated run

    async def acomplete(self, request: Request) -> Response:
        decision, latency = self._sim.decide(request)
        await self._sim.wait(request, latency)
        clock = self._sim.clock
        clock.inflight += 1
        try:
            return await self._adapter(decision.sandbox).acomplete(request)
        finally:
            clock.inflight -= 1
            clock.poke()

    async def astream(self, request: Request) -> AsyncGenerator[Chunk, None]:
        decision, latency = self._sim.decide(request)
        await self._sim.wait(request, latency)
        clock = self._sim.clock
        inner = self._adapter(decision.sandbox).astream(request)
        try:
            first = True
            while True:
                if not first and decision.chunk_delay_s:
                    await clock.asleep(decision.chunk_delay_s)
                first = False
                clock.inflight += 1
                try:
                    chunk = await anext(inner)
                except StopAsyncIteration:
                    return
                finally:
                    clock.inflight -= 1
                    clock.poke()
                yield chunk
        finally:
            aclose = getattr(inner, "aclose", None)
            if aclose is not None:
                await aclose()

    def complete(self, request: Request) -> Response:
        raise NotImplementedError("the simulator drives the router's async API only")

    def stream(self, request: Request) -> Iterator[Chunk]:
        raise NotImplementedError("the simulator drives the router's async API only")

    def list_models(self) -> list[str]:
        return self._adapter("").list_models()

    async def alist_models(self) -> list[str]:
        return await self._adapter("").alist_models()

    def close(self) -> None:
        for adapter in self._adapters.values():
            adapter.close()

    async def aclose(self) -> None:
        for adapter in self._adapters.values():
            await adapter.aclose()


class SimRouter(Router):
    """A Router whose adapters are :class:`SimAdapter` s over the sandbox, given through the
    Router's ``adapter_factory`` option: each wraps the adapters the engine's own factory
    (:func:`~router.engine.compile.make_adapter`) makes, so everything else is the engine's."""

    def __init__(self, spec: Spec, sim: Simulation, **options: Any) -> None:
        def factory(provider: ProviderSpec, environ: Mapping[str, str]) -> Adapter:
            return SimAdapter(sim, provider, lambda entry: make_adapter(entry, environ))

        super().__init__(spec, adapter_factory=factory, **options)
