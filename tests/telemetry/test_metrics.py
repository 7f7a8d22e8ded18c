"""Metrics: the Prometheus series a request produces."""

from __future__ import annotations

import builtins
import sys
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from router.telemetry.metrics import Metrics

from .helpers import attempt, request


def _samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = metrics.exposition().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.name.endswith("_created")
    }


def _value(metrics: Metrics, name: str, **labels: str) -> float:
    return _samples(metrics)[(name, frozenset(labels.items()))]


def _record(metrics: Metrics) -> None:
    metrics.record(
        request(
            attempt(model="small", outcome="error", error_kind="rate_limit"),
            attempt(
                model="big",
                provider="ant",
                depth=1,
                input_tokens=100,
                output_tokens=20,
                cached_input_tokens=40,
                cost=0.25,
                latency_s=1.5,
            ),
        )
    )
    metrics.record(request(attempt(model="local", provider="ollama", cost=None, latency_s=0.2)))
    metrics.record(request(attempt(cache_hit=True, latency_s=0.01)))
    metrics.record(request(attempt(outcome="error", error_kind="timeout")))


def test_requests_and_attempts() -> None:
    m = Metrics()
    _record(m)
    assert _value(m, "router_requests_total", task="summarize", model="big", outcome="ok") == 1
    assert _value(m, "router_requests_total", task="summarize", model="", outcome="failed") == 1
    assert (
        _value(
            m,
            "router_attempts_total",
            task="summarize",
            model="small",
            provider="oai",
            outcome="error",
            error_kind="rate_limit",
        )
        == 1
    )
    ok = {"task": "summarize", "provider": "oai", "outcome": "ok", "error_kind": ""}
    assert _value(m, "router_attempts_total", model="small", **ok) == 1


def test_tokens_cost_fallbacks_and_cache_hits() -> None:
    m = Metrics()
    _record(m)
    assert _value(m, "router_tokens_total", model="big", kind="input") == 100
    assert _value(m, "router_tokens_total", model="big", kind="output") == 20
    assert _value(m, "router_tokens_total", model="big", kind="cached_input") == 40
    assert _value(m, "router_cost_usd_total", model="big") == 0.25
    assert ("router_cost_usd_total", frozenset({("model", "local")})) not in _samples(m)
    assert _value(m, "router_unpriced_attempts_total", model="local") == 1
    assert _value(m, "router_fallbacks_total", task="summarize") == 1
    assert _value(m, "router_cache_hits_total", task="summarize") == 1


def test_latency_histogram() -> None:
    m = Metrics()
    _record(m)
    labels = {"task": "summarize", "model": "big"}
    assert _value(m, "router_latency_seconds_count", **labels) == 1
    assert _value(m, "router_latency_seconds_sum", **labels) == 2.5  # both attempts
    assert _value(m, "router_latency_seconds_bucket", le="2.5", **labels) == 1
    assert _value(m, "router_latency_seconds_bucket", le="1.0", **labels) == 0


def test_breaker_gauge() -> None:
    m = Metrics()
    m.set_breaker("small", "open")
    m.set_breaker("big", "half-open")
    m.set_breaker("local", False)
    assert _value(m, "router_breaker_open", model="small") == 1
    assert _value(m, "router_breaker_open", model="big") == 0.5
    assert _value(m, "router_breaker_open", model="local") == 0
    m.set_breaker("small", "closed")
    assert _value(m, "router_breaker_open", model="small") == 0
    with pytest.raises(ValueError, match="breaker state"):
        m.set_breaker("small", "ajar")


def test_each_metrics_has_its_own_registry_unless_given_one() -> None:
    Metrics()
    Metrics()  # no duplicate-series error
    shared = CollectorRegistry()
    m = Metrics(registry=shared)
    assert m.registry is shared


def test_missing_prometheus_client_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_prometheus(name: str, *args: Any, **kw: Any) -> Any:
        if name.startswith("prometheus_client"):
            raise ImportError(name)
        return real_import(name, *args, **kw)

    monkeypatch.delitem(sys.modules, "prometheus_client", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_prometheus)
    with pytest.raises(ImportError, match="pip install prometheus-client"):
        Metrics()


def test_importing_telemetry_does_not_import_prometheus() -> None:
    import subprocess

    code = "import sys, router.telemetry; print('prometheus_client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
