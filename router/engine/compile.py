"""The spec compiled into a :class:`Runtime`: each model's stack of nodes over its provider
adapter (made and prepared when the Router is built, so no call imports an SDK or builds a
client on the event loop), the breakers, the retry and hedge shares, the accounting, and what
the environment provides (keys, header values, the Redis URL), never shown anywhere.

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

from router.diagnostics import Diagnostic
from router.engine.accounting import Accounting
from router.errors import ConfigError, ProviderConfigError
from router.nodes.adapter import AdapterNode, LazyAdapter
from router.nodes.base import Node
from router.nodes.breaker import BreakerNode, CircuitBreaker
from router.nodes.cache import CacheNode
from router.nodes.limiter import LimiterNode, limits_for
from router.nodes.load import Live, LoadNode
from router.providers.base import CREDENTIAL_NAME, Adapter, ProviderSettings, RequestProfile
from router.providers.registry import get_adapter_class, profile_of
from router.redaction import url_secrets
from router.routing.attempt import Try
from router.routing.balance import STRATEGIES, Pool
from router.routing.call import Call, ParamsCache, Target, build_request
from router.routing.extras import accepts
from router.routing.features import DEFAULT_EXPECTED_OUTPUT, estimate_tokens
from router.routing.retry import HedgeShare, RetryShare
from router.routing.walk import ChainRun, Go
from router.specmodel import EnvRef, ModelSpec, ProviderSpec, Spec
from router.state import StateBackend, make_backend
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


def make_state(spec: Spec, environ: Mapping[str, str], wall: Callable[[], float]) -> StateBackend:
    state = spec.state
    url = None
    if state.backend == "redis":
        url = environ.get(state.url_env or "")
        if not url:
            raise ConfigError(
                [
                    Diagnostic(
                        f"state.backend is redis but the environment variable {state.url_env} "
                        "is not set",
                        code="env-unset",
                        path="$.state.url_env",
                        file=spec.source,
                        hint=f"export {state.url_env}=redis://... (router explain and graph, "
                        "and --sandbox runs, need no Redis)",
                    )
                ]
            )
    return make_backend(
        state.backend,
        url=url,
        key_prefix=state.key_prefix,
        on_unavailable=state.on_unavailable,
        connect_timeout=state.connect_timeout,
        clock=wall,
        cache_max_entries=spec.defaults.cache.max_entries,
    )


def secrets_of(spec: Spec, environ: Mapping[str, str]) -> list[str]:
    """Every value read from the environment that could be a secret: keys, header values,
    the Redis URL's password. Telemetry redacts them wherever they might appear."""
    names = [n for p in spec.providers.values() for n in (p.api_key_env, p.token_env) if n]
    names += [d.api_key_env for m in spec.models.values() for d in m.deployments if d.api_key_env]
    # The cloud credentials an adapter reads (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN...).
    names += [n for t in {p.type for p in spec.providers.values()} for n in _credential_names(t)]
    names += [
        v.name for p in spec.providers.values() for v in p.headers.values() if isinstance(v, EnvRef)
    ]
    found = [environ[n] for n in names if environ.get(n)]
    url = environ.get(spec.state.url_env or "")
    return found + url_secrets(url) if url else found


def _credential_names(provider_type: str) -> tuple[str, ...]:
    """The environment variables holding credentials that adapters of this type read; none
    when its module cannot be imported (that provider fails on its own, naming what to
    install)."""
    try:
        names = get_adapter_class(provider_type).environment_names
    except (ProviderConfigError, ValueError):
        return ()
    return tuple(n for n in names if CREDENTIAL_NAME.search(n))


def resolve(value: str | EnvRef, environ: Mapping[str, str]) -> str | None:
    return environ.get(value.name) if isinstance(value, EnvRef) else value


def unavailable_reason(provider: ProviderSpec, environ: Mapping[str, str]) -> str | None:
    for name in (provider.api_key_env, provider.token_env):
        if name and not environ.get(name):
            return f"{name} is not set"
    for header, value in provider.headers.items():
        if isinstance(value, EnvRef) and not environ.get(value.name):
            return f"{value.name} (header {header}) is not set"
    return None


#: Makes the adapter of one provider entry, given the environment (keys, header values).
AdapterFactory = Callable[[ProviderSpec, Mapping[str, str]], Adapter]


def make_adapter(provider: ProviderSpec, environ: Mapping[str, str]) -> Adapter:
    """The default :data:`AdapterFactory`: the registry's adapter class for the provider's
    type, with its key and header values taken from ``environ``."""
    headers = {k: v for k, raw in provider.headers.items() if (v := resolve(raw, environ))}
    cls = get_adapter_class(provider.type, provider=provider.name)
    settings = ProviderSettings(
        name=provider.name,
        base_url=provider.base_url,
        api_key=environ.get(provider.api_key_env) if provider.api_key_env else None,
        headers=headers,
        connect_timeout=provider.timeouts.connect,
        request_timeout=provider.timeouts.request,
        api_version=provider.api_version,
        region=provider.region,
        project=provider.project,
        token=environ.get(provider.token_env) if provider.token_env else None,
        environment={n: environ[n] for n in cls.environment_names if environ.get(n)},
    )
    return cls(settings)


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
        """A new walk of the call's chain."""
        return ChainRun(
            self.spec, call, self.pools, self.clock, self.retry_shares.get(call.task.name)
        )

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
) -> Runtime:
    """Compile ``spec`` into a :class:`Runtime` (the options are the Router's; ``breakers``:
    deployment key -> a breaker to keep, from a Router this one takes over from)."""
    from router.spec.checks_environment import environment_errors  # at build, not import

    if unsendable := environment_errors(spec, environ):  # a key or header value with CR/LF...
        raise ConfigError(unsendable)
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
    )
