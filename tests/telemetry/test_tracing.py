"""Tracing: a request span with one child per attempt, from the record's times."""

from __future__ import annotations

import pytest

from router.telemetry.tracing import Tracing, tracing_available

from .helpers import T0, attempt, request

FALLBACK = request(
    attempt(model="small", outcome="error", error_kind="unavailable", status=503, error="down"),
    attempt(model="big", provider="ant", depth=1, input_tokens=7, output_tokens=2, ts=T0 + 1),
)


def test_without_an_sdk_nothing_breaks() -> None:
    assert tracing_available()
    tracing = Tracing()  # the API's placeholder provider: spans would go nowhere
    assert not tracing.active
    tracing.record(FALLBACK)


def test_a_global_sdk_provider_set_later_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tracing = Tracing()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # set_tracer_provider may be called once per process: swap the global for this test only
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", provider)
    assert tracing.active
    tracing.record(FALLBACK)
    assert len(exporter.get_finished_spans()) == 3


def test_spans_with_the_sdk() -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    Tracing(tracer_provider=provider).record(FALLBACK)
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["router.attempt", "router.attempt", "router.request"]
    failed, ok, root = spans
    assert failed.parent is not None and failed.parent.span_id == root.context.span_id
    assert ok.parent is not None and ok.parent.span_id == root.context.span_id
    assert root.start_time == int(T0 * 1e9)
    assert root.end_time == root.start_time + 2_000_000_000
    assert ok.start_time == int((T0 + 1) * 1e9)
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.status.description == "down"
    assert dict(failed.attributes or {})["error.type"] == "unavailable"
    assert dict(failed.attributes or {})["http.response.status_code"] == 503
    attrs = dict(ok.attributes or {})
    assert attrs["gen_ai.request.model"] == "big"
    assert attrs["gen_ai.provider.name"] == "ant"
    assert attrs["gen_ai.usage.input_tokens"] == 7
    assert attrs["router.depth"] == 1
    assert "error.type" not in attrs
    assert root.status.status_code is StatusCode.UNSET
    assert dict(root.attributes or {})["router.fallbacks"] == 1
