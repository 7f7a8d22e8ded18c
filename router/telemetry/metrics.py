"""Prometheus metrics through prometheus-client (imported only when metrics are asked for).

Series (labels come from the spec's task, model and provider names, outcomes and error kinds
only; never from text that could carry a secret or personal data)::

    router_requests_total{task, model, outcome}        model "" when none answered;
                                                       outcome refused: by a guardrail
    router_attempts_total{task, model, provider, outcome, error_kind}
    router_deployment_attempts_total{model, deployment, outcome}   every deployment by name
    router_tokens_total{model, kind}                   kind: input, output, cached_input,
                                                       cache_write, reasoning
    router_cost_usd_total{model}                       priced attempts only
    router_unpriced_attempts_total{model}              attempts whose cost is unknown
    router_fallbacks_total{task}                       models tried after the first
    router_cache_hits_total{task}
    router_latency_seconds{task, model}                histogram of request latency
    router_breaker_open{model}                         1 open, 0.5 half-open, 0 closed; one
                                                       per deployment: model/deployment for a
                                                       model with ``deployments``
    router_guardrail_findings_total{task, guardrail, kind, outcome}
                                                       occurrences each guardrail found, by
                                                       kind (email, openai_key...) and what it
                                                       did: masked, refused, reported

Each :class:`Metrics` has its own registry unless given one (pass
``prometheus_client.REGISTRY`` to serve them with the process's default metrics).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from router.telemetry.records import RequestRecord

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["LATENCY_BUCKETS", "Metrics"]

# LLM calls take seconds to minutes: the client's default buckets stop at 10 s.
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
_MAX_KIDS = 50_000  # label sets whose child is kept at hand
_BREAKER_VALUES = {"closed": 0.0, "half-open": 0.5, "half_open": 0.5, "open": 1.0}


def _prometheus() -> Any:
    try:
        import prometheus_client
    except ImportError as exc:
        raise ImportError(
            "metrics need prometheus-client: pip install prometheus-client "
            "(or pip install 'declarative-llm-router[metrics]')"
        ) from exc
    return prometheus_client


class Metrics:
    """Counters, a latency histogram and a breaker gauge fed from request records."""

    __slots__ = (
        "_attempts",
        "_breaker",
        "_cache_hits",
        "_cost",
        "_deployments",
        "_fallbacks",
        "_findings",
        "_kids",
        "_latency",
        "_prom",
        "_requests",
        "_tokens",
        "_unpriced",
        "registry",
    )

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        prom = _prometheus()
        self._prom = prom
        # Each label set's child, made once: prometheus-client's labels() validates and locks
        # on every call, which cost more than the increments themselves.
        self._kids: dict[tuple[Any, tuple[str, ...]], Any] = {}
        self.registry = prom.CollectorRegistry(auto_describe=True) if registry is None else registry
        r = self.registry
        self._requests = prom.Counter(
            "router_requests", "Requests by outcome.", ["task", "model", "outcome"], registry=r
        )
        self._attempts = prom.Counter(
            "router_attempts",
            "Attempts by model, outcome and error kind.",
            ["task", "model", "provider", "outcome", "error_kind"],
            registry=r,
        )
        self._deployments = prom.Counter(
            "router_deployment_attempts",
            "Attempts by model deployment and outcome.",
            ["model", "deployment", "outcome"],
            registry=r,
        )
        self._tokens = prom.Counter("router_tokens", "Tokens used.", ["model", "kind"], registry=r)
        self._cost = prom.Counter(
            "router_cost_usd", "Cost in USD of priced attempts.", ["model"], registry=r
        )
        self._unpriced = prom.Counter(
            "router_unpriced_attempts", "Attempts whose cost is unknown.", ["model"], registry=r
        )
        self._fallbacks = prom.Counter(
            "router_fallbacks", "Models tried after the first.", ["task"], registry=r
        )
        self._cache_hits = prom.Counter(
            "router_cache_hits", "Requests answered from the cache.", ["task"], registry=r
        )
        self._latency = prom.Histogram(
            "router_latency_seconds",
            "Request latency.",
            ["task", "model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._findings = prom.Counter(
            "router_guardrail_findings",
            "Occurrences each guardrail found, by kind and what it did.",
            ["task", "guardrail", "kind", "outcome"],
            registry=r,
        )
        self._breaker = prom.Gauge(
            "router_breaker_open",
            "Circuit breaker state: 1 open, 0.5 half-open, 0 closed.",
            ["model"],
            registry=r,
        )

    def __repr__(self) -> str:
        return "Metrics()"

    def _child(self, metric: Any, *values: str) -> Any:
        key = (metric, values)
        child = self._kids.get(key)
        if child is None:
            child = metric.labels(*values)
            if len(self._kids) < _MAX_KIDS:
                self._kids[key] = child
        return child

    def record(self, request: RequestRecord) -> None:
        child = self._child
        model = request.model or ""
        child(self._requests, request.task, model, request.outcome).inc()
        child(self._latency, request.task, model).observe(request.latency_s)
        if request.fallbacks:
            child(self._fallbacks, request.task).inc(request.fallbacks)
        if request.cache_hit:
            child(self._cache_hits, request.task).inc()
        for g in request.guardrails:
            child(self._findings, request.task, g.guardrail, g.kind, g.outcome).inc(g.count)
        for a in request.attempts:
            child(self._attempts, a.task, a.model, a.provider, a.outcome, a.error_kind or "").inc()
            if a.deployment is not None:
                child(self._deployments, a.model, a.deployment, a.outcome).inc()
            for kind, n in (
                ("input", a.input_tokens),
                ("output", a.output_tokens),
                ("cached_input", a.cached_input_tokens),
                ("cache_write", a.cache_write_tokens),
                ("reasoning", a.reasoning_tokens),
            ):
                if n:
                    child(self._tokens, a.model, kind).inc(n)
            if a.cost is None:
                child(self._unpriced, a.model).inc()
            elif a.cost:
                child(self._cost, a.model).inc(a.cost)

    def set_breaker(self, model: str, state: str | bool) -> None:
        """Publish a breaker's state: ``"closed"``, ``"half-open"`` or ``"open"`` (or a bool:
        open or not)."""
        if isinstance(state, bool):
            value = 1.0 if state else 0.0
        else:
            try:
                value = _BREAKER_VALUES[state]
            except KeyError:
                raise ValueError(f"unknown breaker state {state!r}") from None
        self._child(self._breaker, model).set(value)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return self._prom.generate_latest(self.registry)  # type: ignore[no-any-return]

    def close(self) -> None:
        pass
