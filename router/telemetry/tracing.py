"""OpenTelemetry spans, when the ``opentelemetry-api`` package is installed.

Each request becomes a ``router.request`` span with one ``router.attempt`` child per attempt,
built from the finished record with their real start and end times. Without an SDK (or with
the API's default provider) the spans are no-ops; configure an SDK ``TracerProvider`` to export
them. Attributes follow the GenAI semantic conventions where one fits (``gen_ai.*``,
``error.type``) and are ``router.*`` otherwise; no prompt or response text is put on spans.
What the guardrails found is ``router.guardrails`` on the request's span: one string per
guardrail, kind and outcome (``pii.email.masked=2``), counts only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from router.telemetry.records import AttemptRecord, RequestRecord

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

__all__ = ["Tracing", "tracing_available"]

_NS = 1_000_000_000


def tracing_available() -> bool:
    """True when ``opentelemetry-api`` can be imported."""
    try:
        import opentelemetry.trace  # noqa: F401
    except ImportError:
        return False
    return True


def _attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}  # OTel refuses None values


class Tracing:
    """Turns request records into spans. ``tracer_provider`` defaults to the global one."""

    __slots__ = ("_global", "_status", "_trace", "_tracer")

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        try:
            from opentelemetry import trace
        except ImportError as exc:
            raise ImportError(
                "tracing needs OpenTelemetry: pip install opentelemetry-api "
                "(and opentelemetry-sdk to export spans)"
            ) from exc
        from opentelemetry.trace import Status, StatusCode

        self._trace = trace
        self._status = (Status, StatusCode)
        self._tracer = trace.get_tracer("router", tracer_provider=tracer_provider)
        self._global = tracer_provider is None

    @property
    def active(self) -> bool:
        """False while spans would go nowhere: the global provider is still the API's
        placeholder (no SDK configured yet). Checked per request, so an SDK set up after
        the router starts is picked up."""
        if not self._global:
            return True
        provider = self._trace.get_tracer_provider()
        return not isinstance(
            provider, self._trace.ProxyTracerProvider | self._trace.NoOpTracerProvider
        )

    def __repr__(self) -> str:
        return "Tracing()"

    def record(self, request: RequestRecord) -> None:
        if not self.active:
            return
        status, code = self._status
        start = int(request.ts * _NS)
        span = self._tracer.start_span(
            "router.request",
            start_time=start,
            attributes=_attributes(
                {
                    "router.task": request.task,
                    "router.requested_task": request.requested_task,
                    "router.outcome": request.outcome,
                    "router.fallbacks": request.fallbacks,
                    "router.cache_hit": request.cache_hit,
                    "router.stream": request.stream,
                    "router.cost_usd": request.cost,
                    "gen_ai.request.model": request.model,
                    "gen_ai.provider.name": request.provider,
                    "gen_ai.usage.input_tokens": request.input_tokens,
                    "gen_ai.usage.output_tokens": request.output_tokens,
                    "router.guardrails": [
                        f"{g.guardrail}.{g.kind}.{g.outcome}={g.count}" for g in request.guardrails
                    ]
                    or None,
                }
            ),
        )
        context = self._trace.set_span_in_context(span)
        for a in request.attempts:
            self._attempt(a, context)
        if request.outcome != "ok":
            span.set_status(status(code.ERROR, f"request {request.outcome}"))
        span.end(end_time=start + int(request.latency_s * _NS))

    def _attempt(self, a: AttemptRecord, context: Any) -> None:
        status, code = self._status
        start = int(a.ts * _NS)
        span = self._tracer.start_span(
            "router.attempt",
            context=context,
            start_time=start,
            attributes=_attributes(
                {
                    "router.task": a.task,
                    "router.outcome": a.outcome,
                    "router.depth": a.depth,
                    "router.cache_hit": a.cache_hit,
                    "router.cost_usd": a.cost,
                    "gen_ai.request.model": a.model,
                    "gen_ai.provider.name": a.provider,
                    "gen_ai.usage.input_tokens": a.input_tokens,
                    "gen_ai.usage.output_tokens": a.output_tokens,
                    "error.type": a.error_kind,
                    "http.response.status_code": a.status,
                }
            ),
        )
        if a.outcome == "error":
            span.set_status(status(code.ERROR, a.error or a.error_kind))
        span.end(end_time=start + int(a.latency_s * _NS))

    def close(self) -> None:
        pass
