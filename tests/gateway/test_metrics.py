"""`/metrics` (Prometheus text per key, task, model and deployment, kept across reloads; an
operator key; a clear answer without prometheus-client) and the decision headers, against
`router serve` in a subprocess."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx2
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from router.cli import run
from router.sandbox import Sandbox

from .helpers import ADMIN_KEY, GATEWAY_KEY, METRICS_KEY, Gateway, write_reload_routes
from .test_reload import ASK, ENV

AUTH = {"Authorization": f"Bearer {GATEWAY_KEY}"}


@pytest.fixture
def served(sb: Sandbox, tmp_path: Path) -> Iterator[Gateway]:
    path = write_reload_routes(sb, tmp_path / "routes.yaml")
    gw = Gateway(path, tmp_path / "serve.log", "--watch-seconds", "0", env=ENV)
    yield gw
    assert gw.stop() == 0


def _samples(gw: Gateway) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = httpx2.get(gw.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_KEY}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    for secret in (GATEWAY_KEY, ADMIN_KEY, METRICS_KEY, "sk-sandbox"):
        assert secret not in answer.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def _one(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_metrics_per_key_task_model_and_deployment_survive_a_reload(served: Gateway) -> None:
    gw = served
    with openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0) as c:
        c.chat.completions.create(model="chat", messages=ASK)
        raw = c.chat.completions.with_raw_response.create(model="pooled", messages=ASK)
        deployment = raw.headers["x-router-deployment"]
        assert deployment in ("east", "west")
        assert raw.headers["x-router-model"] == "pooled"
        with pytest.raises(openai.APIStatusError):
            c.chat.completions.create(model="flaky", messages=ASK)
        # A stream's headers go out before its first chunk: the task and the request id.
        with c.chat.completions.with_streaming_response.create(
            model="chat", messages=ASK, stream=True, extra_headers={"x-request-id": "s-1"}
        ) as streamed:
            assert streamed.headers["x-router-task"] == "chat"
            assert streamed.headers["x-request-id"] == "s-1"
            assert streamed.headers["x-router-model"] == "gpt"
            assert "[DONE]" in streamed.read().decode()
    assert gw.entry("s-1")["stream"] is True
    for headers in ({}, AUTH):  # a caller's key does not read the metrics
        assert httpx2.get(gw.url + "/metrics", headers=headers).status_code == 401
    samples = _samples(gw)
    requests = "router_gateway_requests_total"
    ok = {"endpoint": "chat", "key": "key-1", "status": "200"}
    assert _one(samples, requests, **ok, task="chat", model="gpt", deployment="oai") == 2
    assert _one(samples, requests, **ok, task="pooled", model="pooled", deployment=deployment) == 1
    failed = {**ok, "status": "502", "task": "flaky", "model": "", "deployment": ""}
    assert _one(samples, requests, **failed) == 1
    # The engine's series, for a spec that does not ask for metrics itself.
    assert _one(samples, "router_requests_total", task="chat", model="gpt", outcome="ok") == 2
    attempts = "router_deployment_attempts_total"
    assert _one(samples, attempts, model="pooled", deployment=deployment, outcome="ok") == 1
    assert _one(samples, "router_gateway_config_generation") == 1
    # A reload keeps every series: one registry for the process.
    done = httpx2.post(gw.url + "/admin/reload", headers={"x-api-key": ADMIN_KEY})
    assert done.status_code == 200
    after = _samples(gw)
    assert _one(after, "router_requests_total", task="chat", model="gpt", outcome="ok") == 2
    assert _one(after, "router_gateway_reloads_total", outcome="reloaded", source="admin") == 1
    assert _one(after, "router_gateway_config_generation") == 2
    assert _one(after, "router_gateway_config_stale") == 0
    # The admin key reads them too.
    admin = httpx2.get(gw.url + "/metrics", headers={"x-api-key": ADMIN_KEY})
    assert admin.status_code == 200


def test_operator_endpoints_are_off_until_their_key_is_set(gateway: Gateway) -> None:
    for path, variable in (
        ("/metrics", "ROUTER_METRICS_KEY"),
        ("/admin/reload", "ROUTER_ADMIN_KEY"),
    ):
        answer = httpx2.get(gateway.url + path, headers=AUTH)
        assert answer.status_code == 403
        assert variable in answer.json()["error"]["message"]


def test_metrics_without_prometheus_client_say_what_to_install(sb: Sandbox, tmp_path: Path) -> None:
    # The package made unimportable, as on a machine without the metrics extra.
    missing = tmp_path / "site" / "prometheus_client"
    missing.mkdir(parents=True)
    (missing / "__init__.py").write_text(
        "raise ImportError('prometheus_client is not installed')\n"
    )
    path = write_reload_routes(sb, tmp_path / "routes.yaml")
    env = {**ENV, "PYTHONPATH": str(missing.parent)}
    gw = Gateway(path, tmp_path / "serve.log", "--watch-seconds", "0", env=env)
    try:
        answer = httpx2.get(gw.url + "/metrics", headers={"x-api-key": METRICS_KEY})
        assert answer.status_code == 501
        assert "pip install 'declarative-llm-router[metrics]'" in answer.json()["error"]["message"]
        # Everything else serves.
        chat = httpx2.post(
            gw.url + "/v1/chat/completions", headers=AUTH, json={"model": "chat", "messages": ASK}
        )
        assert chat.status_code == 200
    finally:
        assert gw.stop() == 0


def test_a_short_operator_key_or_a_negative_watch_is_refused_before_serving(
    sb: Sandbox, tmp_path: Path
) -> None:
    routes = str(write_reload_routes(sb, tmp_path / "routes.yaml"))
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROUTER_GATEWAY_KEYS", GATEWAY_KEY)
        for variable in ("ROUTER_ADMIN_KEY", "ROUTER_METRICS_KEY"):
            mp.setenv(variable, "short-secret")
            err = io.StringIO()
            assert run(["serve", "--config", routes, "--port", "0"], out, err) == 1
            assert f"{variable} is shorter than 16 characters" in err.getvalue()
            assert "short-secret" not in err.getvalue()
            mp.delenv(variable)
        err = io.StringIO()
        code = run(["serve", "--config", routes, "--port", "0", "--watch-seconds", "-1"], out, err)
        assert code == 1 and "--watch-seconds -1.0: expected 0 (off) or more" in err.getvalue()
    assert out.getvalue() == ""  # never listened
