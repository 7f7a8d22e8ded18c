"""``GET /metrics``: Prometheus text, from one registry per gateway process that outlives
reloads. Needs prometheus-client (the ``metrics`` extra); without it ``/metrics`` answers
501 saying what to install, and everything else serves as usual.

The registry holds the engine's series (:mod:`router.telemetry.metrics`: requests,
attempts per model and per deployment, tokens, cost, latency, breakers; every Router the
gateway builds records into the same :class:`~router.telemetry.metrics.Metrics`, so a reload
does not reset them) and the gateway's own::

    router_gateway_requests_total{endpoint, key, task, model, deployment, status}
    router_gateway_request_seconds{endpoint, key, task}     histogram, whole request
    router_gateway_client_disconnects_total{key, task}
    router_gateway_in_flight                                requests being served now
    router_gateway_reloads_total{outcome, source}           reloaded | invalid | failed
    router_gateway_config_generation                        1 at start, +1 per reload
    router_gateway_config_stale                             1 while the last reload failed

``key`` is the caller's name (``key-1``, a team key's name, ``anonymous``), never a key;
``endpoint`` is one of a fixed few (``chat``, ``messages``, ``models``, ``admin``,
``metrics``, ``other``), so an unknown path cannot grow the series.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from router.telemetry.metrics import LATENCY_BUCKETS, Metrics

if TYPE_CHECKING:
    from router.gateway.exchange import Exchange

__all__ = ["MISSING", "GatewayMetrics", "load_metrics"]

MISSING = (
    "/metrics needs prometheus-client, which is not installed: "
    "pip install 'declarative-llm-router[metrics]' (or pip install prometheus-client)"
)

_MAX_CACHED = 10_000  # label sets whose children are kept at hand

_ENDPOINTS = {
    "/v1/chat/completions": "chat",
    "/chat/completions": "chat",
    "/v1/messages": "messages",
    "/metrics": "metrics",
}


def _endpoint(path: str) -> str:
    found = _ENDPOINTS.get(path)
    if found is not None:
        return found
    if path.startswith(("/v1/models", "/models")):
        return "models"
    return "admin" if path.startswith("/admin/") else "other"


def load_metrics(in_flight: Any) -> GatewayMetrics | None:
    """The gateway's metrics, or None when prometheus-client is missing. ``in_flight()`` is
    read at each scrape."""
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return None
    return GatewayMetrics(in_flight)


class GatewayMetrics:
    def __init__(self, in_flight: Any) -> None:
        import prometheus_client as prom

        self.registry = r = prom.CollectorRegistry(auto_describe=True)
        self.engine = Metrics(r)
        self._prom = prom
        self._requests = prom.Counter(
            "router_gateway_requests",
            "Gateway requests by endpoint, caller, task, model, deployment and status.",
            ["endpoint", "key", "task", "model", "deployment", "status"],
            registry=r,
        )
        self._seconds = prom.Histogram(
            "router_gateway_request_seconds",
            "Gateway request duration, streams to their end.",
            ["endpoint", "key", "task"],
            buckets=(0.005, 0.025, *LATENCY_BUCKETS),
            registry=r,
        )
        self._disconnects = prom.Counter(
            "router_gateway_client_disconnects",
            "Requests whose client hung up before the answer ended.",
            ["key", "task"],
            registry=r,
        )
        gauge = prom.Gauge("router_gateway_in_flight", "Requests being served.", registry=r)
        gauge.set_function(in_flight)
        self._reloads = prom.Counter(
            "router_gateway_reloads", "Spec reloads by outcome.", ["outcome", "source"], registry=r
        )
        self._generation = prom.Gauge(
            "router_gateway_config_generation", "The served spec's generation.", registry=r
        )
        self._generation.set(1)
        self._children: dict[tuple[str, str, str, str, str, int], tuple[Any, Any]] = {}
        self._stale = prom.Gauge(
            "router_gateway_config_stale", "1 while the last reload failed.", registry=r
        )

    def adopt(self, router: Any) -> None:
        """``router`` records its requests into this registry (whatever its spec's
        ``telemetry.metrics`` says)."""
        router.telemetry.metrics = self.engine

    def observe(self, ex: Exchange, elapsed: float) -> None:
        """One finished request (on the event loop: a dict lookup and two increments; the
        labelled children are made once per label set, as ``labels()`` costs more)."""
        labels = (
            ex.scope["path"],
            ex.caller or "",
            ex.task or "",
            ex.model or "",
            ex.deployment or "",
            ex.status,
        )
        children = self._children.get(labels)
        if children is None:
            path, key, task, model, deployment, status = labels
            endpoint = _endpoint(path)
            children = (
                self._requests.labels(endpoint, key, task, model, deployment, str(status)),
                self._seconds.labels(endpoint, key, task),
            )
            if len(self._children) < _MAX_CACHED:  # unknown paths: not cached
                self._children[labels] = children
        children[0].inc()
        children[1].observe(elapsed)
        if ex.outcome == "client_disconnected":
            self._disconnects.labels(ex.caller or "", ex.task or "").inc()

    def reloaded(self, outcome: str, source: str, reloader: Any) -> None:
        self._reloads.labels(outcome, source).inc()
        self._generation.set(reloader.generation)
        self._stale.set(1 if reloader.failure is not None else 0)

    def exposition(self) -> bytes:
        """The registry as Prometheus text (CPU work: the caller runs it in a thread)."""
        return bytes(self._prom.generate_latest(self.registry))

    @property
    def content_type(self) -> bytes:
        return str(self._prom.CONTENT_TYPE_LATEST).encode()


async def serve_metrics(app: Any, ex: Exchange) -> None:
    """``GET /metrics``: needs ``ROUTER_METRICS_KEY`` or ``ROUTER_ADMIN_KEY`` (see
    :mod:`router.gateway.opkeys`)."""
    import asyncio

    from router.gateway.errors import Failure

    refused = app.operators.refusal(ex, "metrics")
    if refused is not None:
        await ex.fail(refused)
        return
    metrics: GatewayMetrics | None = app.metrics
    if metrics is None:
        await ex.fail(Failure(501, MISSING, "server_error", "metrics_unavailable"))
        return
    body = await asyncio.to_thread(metrics.exposition)
    await ex.reply(200, body, content_type=metrics.content_type)
