"""The spec compiled into a :class:`Runtime`: each model's stack of nodes over its provider
adapter (made and prepared when the Router is built, so no call imports an SDK or builds a
client on the event loop), the breakers, the retry and hedge shares, the accounting, the hooks
and the guardrails, over what the environment provides (:mod:`router.engine.environment`:
keys, header values, the Redis URL, never shown anywhere).

:func:`compile_spec` builds it; the Router holds it and hands it to its drivers (the sync and
async walks, :mod:`router.engine.streams`, :mod:`router.engine.hedge`), which touch nothing
else. How each provider's adapter is made is an option (``adapter_factory``, default
:func:`make_adapter`): the simulator wraps the real adapters through it.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from random import Random

from router.engine.accounting import Accounting
from router.engine.environment import (
    AdapterFactory,
    make_adapter,
    make_state,
    resolve,
    secrets_of,
    unavailable_reason,
)
from router.engine.guardrun import Guarding, GuardrailRun
from router.engine.hookrun import HookRun
from router.engine.hooks import HookRegistry
from router.engine.replan import replanner
from router.errors import ConfigError, GuardrailRefused, ProviderConfigError
from router.nodes.adapter import AdapterNode, LazyAdapter
from router.nodes.base import Node
from router.nodes.breaker import BreakerNode, CircuitBreaker
from router.nodes.cache import CacheNode
from router.nodes.limiter import LimiterNode, limits_for
from router.nodes.load import Live, LoadNode
from router.providers.base import RequestProfile
from router.providers.registry import profile_of
from router.routing.attempt import Try
from router.routing.balance import STRATEGIES, Pool
from router.routing.call import Call, ParamsCache, Target, build_request
from router.routing.extras import accepts
from router.routing.features import DEFAULT_EXPECTED_OUTPUT, estimate_tokens
from router.routing.hookplan import hook_names
from router.routing.retry import HedgeShare, RetryShare
from router.routing.walk import ChainRun, Go
from router.specmodel import ModelSpec, ProviderSpec, Spec
from router.state import StateBackend
from router.tools import prepare_schema_checks
from router.types import Request

__all__ = [
    "AdapterFactory",
    "AdapterNode",
    "LazyAdapter",
    "Runtime",
    "compile_spec",
    "estimate_request",
    "make_adapter",
    "make_state",
    "resolve",
    "secrets_of",
    "unavailable_reason",
]


def estimate_request(request: Request) -> int:
    if request.embed is not None:  # an embedding has no output: its input is its tokens
        return estimate_tokens(request.messages)
    return estimate_tokens(request.messages) + (request.max_tokens or DEFAULT_EXPECTED_OUTPUT)


@dataclass(frozen=True, slots=True, eq=False)
class Runtime:
    """A spec compiled: plain objects the drivers (the Router's, the streams', hedging's) run
    on. Built once by :func:`compile_spec`; the Router holds it and passes it on."""

    spec: Spec
    state: StateBackend
    pools: Mapping[str, Pool]  # model name -> its deployments, each a stack of nodes
    adapters: Mapping[str, LazyAdapter]  # provider name (or model/deployment) -> its adapter
    unavailable: Mapping[str, str | None]  # the same names -> why it cannot be called, or None
    breakers: Mapping[str, CircuitBreaker]  # deployment key -> its breaker
    retry_shares: Mapping[str, RetryShare]  # task name -> its retry share
    hedges: Mapping[str, HedgeShare]  # task name -> its hedge share (hedged tasks only)
    params_for: ParamsCache
    accounting: Accounting
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    asleep: Callable[[float], Awaitable[None]]
    hooks: HookRegistry | None = None  # the hooks the Router was given (None: none)
    guarding: Guarding | None = None  # the spec's guardrails (None: no task or rule names one)

    @property
    def targets(self) -> Mapping[str, Target]:
        """Model name -> its first deployment (the one of a model without ``deployments``)."""
        return {name: pool.targets[0] for name, pool in self.pools.items()}

    def deployments(self) -> Iterator[Target]:
        """Every deployment of every model, in spec order."""
        for pool in self.pools.values():
            yield from pool.every

    def model_unavailable(self, model: ModelSpec) -> str | None:
        """Why no deployment of ``model`` can be called (None: one can)."""
        pool = self.pools[model.name]
        return pool.targets[0].unavailable

    def run(self, call: Call) -> ChainRun:
        """A new walk of the call's chain (from the start of its hooks, when it has some)."""
        started = call.hooks.started if call.hooks is not None else call.started
        return ChainRun(
            self.spec, call, self.pools, self.clock, self.retry_shares.get(call.task.name), started
        )

    def _hooked(self, call: Call) -> HookRun | None:
        """The hooks and guardrails of ``call`` at work, or None when it passes neither."""
        guard = None
        if self.guarding is not None and (passes := self.guarding.select(call)):
            guard = GuardrailRun(self.guarding, passes)
        if guard is None and (not call.plan.hooks or self.hooks is None):
            return None
        planning = (self.model_unavailable, self.params_for, self.accounting.expected_latency)
        replan = replanner(self.spec, *planning)
        return HookRun(self.hooks, call, self.clock, replan, guard)

    def _refused(self, call: Call, hooks: HookRun) -> None:
        """A request the guardrails refused, recorded (what they found, never the values)."""
        self.accounting.refused(call, hooks.findings, self.clock() - hooks.started)

    def enter(self, call: Call) -> Call:
        """A call about to be walked: its ``before`` hooks (the call they leave, re-checked
        and re-planned), its guardrails (the messages to send), then the spend caps
        (:meth:`Accounting.gate`)."""
        if (hooks := self._hooked(call)) is not None:
            try:
                call = hooks.before(call)
            except GuardrailRefused:
                self._refused(call, hooks)
                raise
        return self.accounting.gate(call)

    async def aenter(self, call: Call) -> Call:
        if (hooks := self._hooked(call)) is not None:
            try:
                call = await hooks.abefore(call)
            except GuardrailRefused:
                self._refused(call, hooks)
                raise
        return await self.accounting.agate(call)

    def close_workers(self) -> None:
        """Stops the hooks' threads and loop and the guardrails' threads (a hook or a check
        still running finishes on its own)."""
        if self.hooks is not None:
            self.hooks.close()
        if self.guarding is not None:
            self.guarding.close()

    def attempt(self, run: ChainRun, step: Go) -> Try:
        """One attempt of ``run``: the request it sends to ``step.target``."""
        request = build_request(self.spec, run.call, step.target, step.timeout, self.params_for)
        return Try(run, step, request)


def _profile(provider: ProviderSpec) -> RequestProfile:
    """The request quirks of ``provider``'s adapter class. A class whose module cannot be
    imported gets the plain profile: its adapter fails every call with that ProviderConfigError
    before anything is sent (and building fails with it when the adapters are preloaded)."""
    try:
        return profile_of(provider.type)
    except ProviderConfigError:
        return RequestProfile()


def compile_spec(
    spec: Spec,
    *,
    environ: Mapping[str, str],
    state: StateBackend | None = None,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    asleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    redact: Callable[[str], str] | None = None,
    preload: bool = True,
    adapter_factory: AdapterFactory = make_adapter,
    random: Callable[[], float] | None = None,
    breakers: Mapping[str, CircuitBreaker] | None = None,
    hooks: Mapping[str, object] | None = None,
) -> Runtime:
    """Compile ``spec`` into a :class:`Runtime` (the options are the Router's; ``breakers``:
    deployment key -> a breaker to keep, from a Router this one takes over from). Raises
    ConfigError when a hook the spec names is not in ``hooks``."""
    from router.spec.checks_environment import environment_errors  # at build, not import

    if unsendable := environment_errors(spec, environ):  # a key or header value with CR/LF...
        raise ConfigError(unsendable)
    registry = None
    if hooks is not None or any(True for _ in hook_names(spec)):
        registry = HookRegistry(spec, hooks or {})  # before anything is started
    state = state if state is not None else make_state(spec, environ, wall)
    rand = random if random is not None else Random().random
    adapters: dict[str, LazyAdapter] = {}
    unavailable: dict[str, str | None] = {}

    def adapter_of(provider: ProviderSpec, label: str) -> str:
        if label not in adapters:
            unavailable[label] = unavailable_reason(provider, environ)
            adapters[label] = LazyAdapter(functools.partial(adapter_factory, provider, environ))
        return label

    for name, provider in spec.providers.items():
        adapter_of(provider, name)
    places: dict[str, str] = {}  # deployment key -> its adapter's name
    for model in spec.models.values():
        for d in model.pool():
            reached = spec.deployment_provider(d)
            # A deployment with its own key, URL or timeouts gets its own adapter.
            own = reached is not spec.providers[d.provider]
            places[d.key] = adapter_of(reached, d.key if own else d.provider)
    if preload:  # providers without their key are never called: nothing to load for them
        for label, lazy in adapters.items():
            if unavailable[label] is None:
                lazy.prepare()
    kept = breakers or {}
    made = {
        d.key: kept.get(d.key) or CircuitBreaker(d.key, model.breaker, clock)
        for model in spec.models.values()
        for d in model.pool()
    }
    accounting = Accounting(
        spec,
        state,
        clock=clock,
        wall=wall,
        secrets=secrets_of(spec, environ),
        redact=redact,
        breaker_state=lambda key: made[key].state,
    )
    if any(m.capabilities & {"tools", "json"} for m in spec.models.values()):
        prepare_schema_checks()  # per-call tool schemas are checked: import jsonschema now
    caching = any(task.cache.enabled for task in spec.tasks.values())
    # Each provider type's request quirks, from its adapter class (not the adapter the
    # factory makes, which may wrap it, as the simulator's does).
    profiles = {name: _profile(p) for name, p in spec.providers.items()}
    pools: dict[str, Pool] = {}
    for name, model in spec.models.items():
        targets = []
        several = len(model.pool()) > 1
        for d in model.pool():
            provider = spec.deployment_provider(d)
            live = Live()
            # What a strategy reads (in flight, latency, holds, headroom) is kept only for a
            # model with several deployments: one alone is never chosen among others.
            watch = live if several else None
            # Outermost first: cache → load → breaker → limiter → adapter. The breaker sits
            # above the limiter so a deployment that will be skipped never spends a slot.
            node: Node = AdapterNode(adapters[places[d.key]])
            limits = (
                limits_for("provider", provider.name, provider.limits)
                + limits_for("model", name, model.limits)
                + limits_for("deployment", d.key, d.limits)
            )
            if limits:
                node = LimiterNode(
                    node,
                    state,
                    limits,
                    model=name,
                    provider=provider.name,
                    estimate=estimate_request,
                    live=watch,
                    clock=clock,
                )
            node = BreakerNode(
                node,
                made[d.key],
                state,
                model=name,
                provider=provider.name,
                wall=wall,
                key=d.key,
                live=watch,
            )
            if several:
                node = LoadNode(node, live, clock)
            if caching:
                node = CacheNode(node, state)
            served = model
            # Cache prices the spec leaves out: the multiples of whoever serves this deployment.
            profile = profiles[provider.name]
            pricing = d.pricing or model.pricing
            if pricing is not None:
                pricing = pricing.resolved(
                    profile.cache_read_multiple, profile.cache_write_multiple
                )
            if d.id != model.id or pricing != model.pricing:
                served = replace(model, id=d.id, pricing=pricing)
            targets.append(
                Target(
                    model=served,
                    provider=provider.name,
                    node=node,
                    profile=profiles[provider.name],
                    unavailable=unavailable[places[d.key]],
                    deployment=d.name,
                    key=d.key,
                    weight=d.weight,
                    live=live,
                    request_timeout=provider.timeouts.request if d.timeouts is not None else None,
                    extra_params=accepts(spec, model, provider.name),
                )
            )
        pools[name] = Pool(name, targets, STRATEGIES[model.balance], rand, model.balance)
    return Runtime(
        spec=spec,
        state=state,
        pools=pools,
        adapters=adapters,
        unavailable=unavailable,
        breakers=made,
        retry_shares={
            name: RetryShare(task.retry.budget, clock=clock) for name, task in spec.tasks.items()
        },
        # Hedges: max_share of a task's requests, and at least one per window.
        hedges={
            name: HedgeShare(task.hedge.max_share, clock=clock)
            for name, task in spec.tasks.items()
            if task.hedge is not None
        },
        params_for=ParamsCache(spec),
        accounting=accounting,
        clock=clock,
        sleep=sleep,
        asleep=asleep,
        hooks=registry,
        guarding=Guarding.of(spec),
    )
