"""Hot reload against `router serve` in a subprocess: a changed file, SIGHUP and the admin
call (which needs the admin key); an invalid spec (the old one keeps serving, /readyz, the
admin call and the log say why); a stream that started before a reload ending on the old
graph; limits and breakers of unchanged models carried over."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from router.sandbox import Sandbox

from .helpers import (
    ADMIN_KEY,
    GATEWAY_KEY,
    METRICS_KEY,
    Gateway,
    wait_for,
    write_reload_routes,
)

ASK = [{"role": "user", "content": "The sky is blue today."}]
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
ENV = {
    "ROUTER_ADMIN_KEY": ADMIN_KEY,
    "ROUTER_METRICS_KEY": METRICS_KEY,
    "SANDBOX_API_KEY_WEST": "sk-sandbox-west",
}


def _serve(sb: Sandbox, tmp_path: Path, watch: str) -> Iterator[tuple[Gateway, Path]]:
    path = write_reload_routes(sb, tmp_path / "routes.yaml")
    gw = Gateway(path, tmp_path / "serve.log", "--watch-seconds", watch, env=ENV)
    yield gw, path
    assert gw.stop() == 0


@pytest.fixture
def watched(sb: Sandbox, tmp_path: Path) -> Iterator[tuple[Gateway, Path]]:
    """The gateway watching its file closely."""
    yield from _serve(sb, tmp_path, "0.05")


@pytest.fixture
def served(sb: Sandbox, tmp_path: Path) -> Iterator[tuple[Gateway, Path]]:
    """The gateway without the file watch: only SIGHUP and the admin call reload."""
    yield from _serve(sb, tmp_path, "0")


def _client(gw: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0)


def _ready(gw: Gateway) -> dict[str, Any]:
    answer = httpx2.get(gw.url + "/readyz")
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def _generation(gw: Gateway) -> int:
    return int(_ready(gw)["config"]["generation"])


def _tasks(gw: Gateway) -> list[str]:
    with _client(gw) as c:
        return [m.id for m in c.models.list()]


def test_a_changed_file_sighup_and_the_admin_call_each_reload(
    watched: tuple[Gateway, Path], sb: Sandbox
) -> None:
    gw, path = watched
    assert "fresh" not in _tasks(gw)
    assert _ready(gw)["config"]["generation"] == 1
    write_reload_routes(sb, path, extra="  fresh: {candidates: [claude]}\n")
    wait_for(lambda: _generation(gw) == 2, "the file watch's reload")
    assert "fresh" in _tasks(gw)
    with _client(gw) as c:
        raw = c.chat.completions.with_raw_response.create(model="fresh", messages=ASK)
    assert raw.headers["x-router-model"] == "claude"
    config = _ready(gw)["config"]
    assert config["stale"] is False and "last_reload" not in config
    reloads = gw.events("reload")
    assert [(e["outcome"], e["source"], e["generation"]) for e in reloads] == [
        ("reloaded", "file", 2)
    ]
    assert "fresh" in reloads[0]["tasks"]
    # The replaced Router had nothing in flight: it was closed at once.
    assert gw.events("retire")[0]["generation"] == 1
    # Touching the file without changing it reloads nothing.
    path.touch()
    assert _generation(gw) == 2
    # SIGHUP reloads.
    gw.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: _generation(gw) == 3, "the SIGHUP reload")
    assert gw.events("reload", 2)[1]["source"] == "sighup"
    # So does the admin call, with the admin key only.
    url = gw.url + "/admin/reload"
    for headers in ({}, {"Authorization": f"Bearer {GATEWAY_KEY}"}, {"x-api-key": METRICS_KEY}):
        refused = httpx2.post(url, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json()["error"]["code"] in ("missing_api_key", "invalid_api_key")
    assert _generation(gw) == 3
    done = httpx2.post(url, headers=ADMIN)
    assert done.status_code == 200
    body = done.json()
    assert (body["outcome"], body["source"], body["generation"]) == ("reloaded", "admin", 4)
    assert body["serving"]["generation"] == 4 and body["serving"]["stale"] is False
    status = httpx2.get(url, headers={"x-api-key": ADMIN_KEY})
    assert status.status_code == 200 and status.json()["generation"] == 4
    assert httpx2.delete(url, headers=ADMIN).status_code == 405
    for secret in (ADMIN_KEY, METRICS_KEY, GATEWAY_KEY):
        assert secret not in gw.log.read_text()


def test_an_invalid_spec_is_refused_and_the_old_one_keeps_serving(
    watched: tuple[Gateway, Path], sb: Sandbox
) -> None:
    gw, path = watched
    good = path.read_text()
    bad = good.replace("chat: {candidates: [gpt]}", "chat: {candidates: [gtp]}")
    line = bad.splitlines().index("  chat: {candidates: [gtp]}") + 1
    write_reload_routes(sb, path, text=bad)
    wait_for(lambda: _ready(gw)["config"]["stale"], "the refused reload")
    ready = _ready(gw)
    assert ready["status"] == "ready"  # still serving: not taken out of a load balancer
    config = ready["config"]
    assert config["generation"] == 1
    failed = config["last_reload"]
    assert (failed["outcome"], failed["source"]) == ("invalid", "file")
    found = [d for d in failed["diagnostics"] if d["code"] == "unknown-model"]
    assert found and found[0]["path"] == "$.tasks.chat.candidates[0]"
    assert found[0]["file"] == str(path) and found[0]["line"] == line
    assert "gtp" in found[0]["message"]
    # The old graph answers, chat on gpt.
    with _client(gw) as c:
        raw = c.chat.completions.with_raw_response.create(model="chat", messages=ASK)
    assert raw.headers["x-router-model"] == "gpt"
    # The admin call says the same, and retrying it changes nothing.
    again = httpx2.post(gw.url + "/admin/reload", headers=ADMIN)
    assert again.status_code == 422
    assert again.json()["outcome"] == "invalid" and again.json()["serving"]["generation"] == 1
    assert any(d["code"] == "unknown-model" for d in again.json()["diagnostics"])
    shown = httpx2.get(gw.url + "/admin/reload", headers=ADMIN).json()
    assert shown["stale"] is True and shown["last_reload"]["source"] == "admin"
    # So does the log, once per attempt (the watch does not retry an unchanged bad file).
    logged = gw.events("reload", 2)
    assert [(e["outcome"], e["source"]) for e in logged] == [
        ("invalid", "file"),
        ("invalid", "admin"),
    ]
    assert any(d["code"] == "unknown-model" for d in logged[0]["diagnostics"])
    # Fixed: served, no longer stale.
    write_reload_routes(sb, path, text=good)
    wait_for(lambda: not _ready(gw)["config"]["stale"], "the fixed spec's reload")
    assert _generation(gw) == 2


def test_a_stream_started_before_a_reload_ends_on_the_graph_it_started_on(
    served: tuple[Gateway, Path], sb: Sandbox
) -> None:
    gw, path = served
    sb.set_fault("chunk-delay=150", model="sandbox-gpt-mini")  # a stream of a few seconds
    with _client(gw) as c:
        stream = c.chat.completions.create(
            model="slow", messages=ASK, stream=True, extra_headers={"x-request-id": "across"}
        )
        chunks = iter(stream)
        first = next(chunks)
        assert first.model == "gpt-mini"
        # The new spec sends task slow to claude; the reload is done when the call returns.
        write_reload_routes(sb, path, slow="claude")
        done = httpx2.post(gw.url + "/admin/reload", headers=ADMIN)
        assert done.json()["generation"] == 2
        assert gw.entries("retire") == []  # the stream is still on the old Router
        rest = list(chunks)
        assert rest, "the stream ended before the reload"
        assert {ch.model for ch in rest} == {"gpt-mini"}
        assert rest[-1].choices[0].finish_reason == "stop"
        raw = c.chat.completions.with_raw_response.create(model="slow", messages=ASK)
        assert raw.headers["x-router-model"] == "claude"
    entry = gw.entry("across")
    assert (entry["status"], entry["outcome"], entry["model"]) == (200, "ok", "gpt-mini")
    # The old Router was closed only after the stream ended.
    gw.events("retire")
    lines = gw.log.read_text().splitlines()
    stream_line = next(i for i, line in enumerate(lines) if '"request_id":"across"' in line)
    retire_line = next(i for i, line in enumerate(lines) if '"event":"retire"' in line)
    assert stream_line < retire_line


def test_limits_and_breakers_of_unchanged_models_carry_over(
    served: tuple[Gateway, Path], sb: Sandbox
) -> None:
    gw, path = served

    def upstream(fault: str | None) -> int:
        return sum(1 for r in sb.requests if r.fault == fault)

    with _client(gw) as c:
        c.chat.completions.create(model="capped", messages=ASK)  # the minute's one request
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="capped", messages=ASK)
        for _ in range(2):  # two failures of three before the circuit opens
            with pytest.raises(openai.APIStatusError) as failed:
                c.chat.completions.create(model="flaky", messages=ASK)
            assert failed.value.status_code == 502
        assert upstream("503") == 2
        sent = len(sb.requests)
        write_reload_routes(sb, path, extra="  fresh: {candidates: [claude]}\n")
        assert httpx2.post(gw.url + "/admin/reload", headers=ADMIN).json()["generation"] == 2
        # The limit's state carried over: still no room this minute, nothing sent.
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="capped", messages=ASK)
        assert len(sb.requests) == sent
        # The breaker's count carried over: the third failure opens it...
        with pytest.raises(openai.APIStatusError) as failed:
            c.chat.completions.create(model="flaky", messages=ASK)
        assert failed.value.status_code == 502 and upstream("503") == 3
        # ...and the next request is refused without reaching the provider.
        with pytest.raises(openai.APIStatusError) as refused:
            c.chat.completions.create(model="flaky", messages=ASK)
        assert refused.value.status_code == 503 and upstream("503") == 3
        assert "circuit open" in refused.value.body["message"]
