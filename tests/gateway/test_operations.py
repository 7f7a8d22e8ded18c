"""Keys, errors in OpenAI's shape, limits, request ids, a client hanging up mid-stream, and
SIGTERM draining what is in flight, against `router serve` in a subprocess."""

from __future__ import annotations

import io
import json
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from router.cli import run
from router.sandbox import Sandbox

from .helpers import GATEWAY_KEY, Gateway, wait_for

ASK = [{"role": "user", "content": "The sky is blue today."}]
AUTH = {"Authorization": f"Bearer {GATEWAY_KEY}"}


def _client(gateway: Gateway, key: str = GATEWAY_KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)


def test_no_key_or_a_wrong_key_is_401_and_nothing_is_sent(gateway: Gateway, sb: Sandbox) -> None:
    for key in ("wrong-key", GATEWAY_KEY[:-1]):
        with _client(gateway, key) as c, pytest.raises(openai.AuthenticationError) as refused:
            c.chat.completions.create(model="chat", messages=ASK)
        assert refused.value.body == {
            "message": "invalid API key",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    answer = httpx2.post(
        gateway.url + "/v1/chat/completions", json={"model": "chat", "messages": ASK}
    )
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "missing_api_key"
    assert answer.headers["www-authenticate"] == "Bearer"
    assert httpx2.get(gateway.url + "/v1/models").status_code == 401
    assert sb.requests == []
    # The probes need no key.
    assert httpx2.get(gateway.url + "/healthz").json() == {"status": "ok"}
    ready = httpx2.get(gateway.url + "/readyz").json()
    assert ready["status"] == "ready" and ready["auth"] == "keys"
    # The access log names the caller by the key's name, never the key.
    assert GATEWAY_KEY not in gateway.log.read_text()


def test_an_unknown_task_is_404_in_openais_shape(gateway: Gateway, sb: Sandbox) -> None:
    with _client(gateway) as c, pytest.raises(openai.NotFoundError) as missing:
        c.chat.completions.create(model="gpt-4o", messages=ASK)
    assert missing.value.body["code"] == "model_not_found"
    assert "chat, claude" in missing.value.body["message"]
    assert sb.requests == []


def test_upstream_failures_keep_their_meaning(gateway: Gateway) -> None:
    with _client(gateway) as c:
        with pytest.raises(openai.APIStatusError) as failed:
            c.chat.completions.create(model="broken", messages=ASK)
        assert failed.value.status_code == 502
        assert failed.value.body["code"] == "upstream_error"
        assert "ProviderUnavailable" in failed.value.body["message"]
        assert "HTTP 503" in failed.value.body["message"]
        with pytest.raises(openai.RateLimitError) as limited:
            c.chat.completions.create(model="limited", messages=ASK)
        assert limited.value.response.headers["retry-after"] == "7"
        # A stream that fails before its first chunk fails the same way, with a status.
        with pytest.raises(openai.APIStatusError) as stream_failed:
            c.chat.completions.create(model="broken", messages=ASK, stream=True)
        assert stream_failed.value.status_code == 502


def test_bad_requests_are_400_naming_the_argument(gateway: Gateway) -> None:
    url = gateway.url + "/v1/chat/completions"
    bad_json = httpx2.post(url, content=b"{nope", headers=AUTH)
    assert bad_json.status_code == 400 and "not valid JSON" in bad_json.json()["error"]["message"]
    for body, argument in (
        ({"model": "chat", "messages": ASK, "logit_bias": {}}, "logit_bias"),
        ({"model": "chat", "messages": ASK, "temperature": 9}, "temperature"),
        ({"model": "chat", "messages": "hi"}, "messages"),
        ({"messages": ASK}, "model"),
    ):
        answer = httpx2.post(url, json=body, headers=AUTH)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["param"] == argument
    assert httpx2.get(url, headers=AUTH).status_code == 405
    assert httpx2.get(gateway.url + "/v2/nothing", headers=AUTH).status_code == 404


def test_a_body_over_the_limit_is_413(gateway: Gateway, sb: Sandbox) -> None:
    big = [{"role": "user", "content": "x" * 70_000}]  # the server runs --max-body-bytes 65536
    answer = httpx2.post(
        gateway.url + "/v1/chat/completions", json={"model": "chat", "messages": big}, headers=AUTH
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "request_too_large"
    assert sb.requests == []


def test_tags_and_metadata_reach_the_rules(gateway: Gateway) -> None:
    url = gateway.url + "/v1/chat/completions"
    body = {"model": "chat", "messages": ASK}

    def model(headers: dict[str, str], **extra: Any) -> str:
        answer = httpx2.post(url, json={**body, **extra}, headers={**AUTH, **headers})
        assert answer.status_code == 200, answer.text
        return answer.headers["x-router-model"]

    assert model({}) == "gpt"
    assert model({"x-router-tags": "batch, anthropic-only"}) == "claude"
    assert model({"x-router-metadata": '{"tier": "gold"}'}) == "claude"
    assert model({}, metadata={"tier": "gold"}) == "claude"  # the body's metadata too
    bad = httpx2.post(url, json=body, headers={**AUTH, "x-router-metadata": "tier=gold"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "x-router-metadata"


def test_a_client_hanging_up_mid_stream_cancels_the_upstream_call(
    gateway: Gateway, sb: Sandbox
) -> None:
    sb.set_fault("trickle=20", model="sandbox-gpt-mini")  # content forever, until a hang-up
    with _client(gateway) as c:
        stream = c.chat.completions.create(
            model="slow", messages=ASK, stream=True, extra_headers={"x-request-id": "hangup-1"}
        )
        for _, _chunk in zip(range(3), stream, strict=False):
            pass
        stream.close()
    wait_for(lambda: sb.stats["hangups"] >= 1, "the sandbox to see the upstream hang up")
    entry = gateway.entry("hangup-1")
    assert entry["outcome"] == "client_disconnected" and entry["model"] == "gpt-mini"
    assert httpx2.get(gateway.url + "/readyz").json()["client_disconnects"] >= 1


def test_sigterm_drains_requests_in_flight_then_cuts_what_outlasts_the_drain(
    routes: Path, sb: Sandbox
) -> None:
    # --no-auth is accepted on loopback; this server has no keys at all.
    gw = Gateway(
        routes, routes.parent / "drain.log", "--no-auth", "--drain-seconds", "4", keys=None
    )
    sb.set_fault("chunk-delay=40", model="sandbox-gpt")  # a stream of ~0.5 s
    sb.set_fault("delay=400", model="sandbox-claude")  # an answer after 0.4 s
    sb.set_fault("trickle=50", model="sandbox-gpt-mini")  # a stream that never ends
    results: dict[str, Any] = {}

    def call(name: str, task: str, stream: bool) -> None:
        with openai.OpenAI(base_url=gw.url + "/v1", api_key="unused", max_retries=0) as c:
            try:
                if stream:
                    chunks = c.chat.completions.create(model=task, messages=ASK, stream=True)
                    results[name] = "".join(x.choices[0].delta.content or "" for x in chunks)
                else:
                    results[name] = c.chat.completions.create(model=task, messages=ASK)
            except (openai.APIError, httpx2.HTTPError) as exc:
                results[name] = exc

    threads = [
        threading.Thread(target=call, args=("stream", "chat", True)),
        threading.Thread(target=call, args=("json", "claude", False)),
        threading.Thread(target=call, args=("endless", "slow", True)),
    ]
    for t in threads:
        t.start()
    wait_for(lambda: len(sb.requests) == 3, "three requests upstream")
    gw.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(30)
    assert gw.stop() == 0
    assert results["stream"] == "Summary: The sky is blue today."
    assert results["json"].choices[0].message.content == "Summary: The sky is blue today."
    # The endless stream was cut when the drain time ran out, and its upstream call with it.
    assert not isinstance(results["endless"], str) or not results["endless"].endswith(".")
    assert sb.stats["hangups"] >= 1
    outcomes = sorted(e["outcome"] for e in gw.entries())
    assert outcomes == ["cancelled", "ok", "ok"]


def test_no_auth_is_refused_off_loopback_and_keys_are_required(routes: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = run(["serve", "--config", str(routes), "--no-auth", "--host", "0.0.0.0"], out, err)
    assert code == 1 and "--no-auth is refused on 0.0.0.0" in err.getvalue()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROUTER_GATEWAY_KEYS", "")
        err = io.StringIO()
        code = run(["serve", "--config", str(routes), "--port", "0"], out, err)
        assert code == 1 and "router serve needs keys: set ROUTER_GATEWAY_KEYS" in err.getvalue()
        mp.setenv("ROUTER_GATEWAY_KEYS", "a-long-enough-key-000, tiny-secret")
        err = io.StringIO()
        code = run(["serve", "--config", str(routes), "--port", "0"], out, err)
    # Which key is too short is said by its position: the key itself is never shown.
    assert code == 1 and "key 2 (by position) is shorter than 16" in err.getvalue()
    assert "tiny-secret" not in err.getvalue()


def test_a_port_in_use_is_said_plainly(routes: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = io.StringIO()
        code = run(
            ["serve", "--config", str(routes), "--no-auth", "--port", str(port)], io.StringIO(), err
        )
    assert code == 2
    assert (
        err.getvalue()
        == f"router serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_without_uvicorn_the_error_names_the_extra(routes: Path) -> None:
    script = (
        "import sys; sys.modules['uvicorn'] = None; from router.cli import main; "
        f"sys.argv = ['router', 'serve', '--config', {str(routes)!r}, '--no-auth']; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "[gateway]'" in done.stderr and "pip install" in done.stderr


def test_every_serve_option_has_help() -> None:
    out = io.StringIO()
    assert run(["serve", "--help"], out, io.StringIO()) == 0
    options = ("--config", "--host", "--port", "--no-auth", "--workers", "--max-body-bytes")
    for option in (*options, "--drain-seconds", "--no-access-log", "--watch-seconds", "--sandbox"):
        assert option in out.getvalue()


def test_workers_share_the_port_and_stop_on_sigterm(routes: Path) -> None:
    gw = Gateway(routes, routes.parent / "workers.log", "--workers", "2")
    try:
        with _client(gw) as c:
            answers = [c.chat.completions.create(model="chat", messages=ASK) for _ in range(4)]
        assert {a.choices[0].message.content for a in answers} == {
            "Summary: The sky is blue today."
        }
        with _client(gw, "wrong-key") as c, pytest.raises(openai.AuthenticationError):
            c.chat.completions.create(model="chat", messages=ASK)
    finally:
        assert gw.stop() == 0


def test_a_client_giving_up_on_a_plain_request_cancels_the_upstream_call(
    gateway: Gateway, sb: Sandbox
) -> None:
    sb.set_fault("stall=0", model="sandbox-gpt-mini")  # no answer at all, until a hang-up
    with pytest.raises(httpx2.ReadTimeout):
        httpx2.post(
            gateway.url + "/v1/chat/completions",
            json={"model": "slow", "messages": ASK},
            headers={**AUTH, "x-request-id": "gave-up-1"},
            timeout=httpx2.Timeout(5.0, read=0.5),
        )
    wait_for(lambda: sb.stats["hangups"] >= 1, "the sandbox to see the upstream hang up")
    assert gateway.entry("gave-up-1")["outcome"] == "client_disconnected"


def test_a_stream_cut_after_output_ends_with_the_apis_error_event(
    gateway: Gateway, sb: Sandbox
) -> None:
    import anthropic

    sb.set_fault("cut=3", model="sandbox-gpt-mini")  # 3 content events, then the line drops
    with _client(gateway) as c:
        stream = c.chat.completions.create(model="slow", messages=ASK, stream=True)
        with pytest.raises(openai.APIError) as cut:
            for _chunk in stream:
                pass
    assert "was cut after it had started" in str(cut.value)
    raw = httpx2.post(
        gateway.url + "/v1/chat/completions",
        json={"model": "slow", "messages": ASK, "stream": True},
        headers=AUTH,
    )
    events = [e for e in raw.text.split("\n\n") if e.strip()]
    assert json.loads(events[-1].removeprefix("data: "))["error"]["code"] == "stream_interrupted"
    assert "data: [DONE]" not in raw.text
    a = anthropic.Anthropic(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0)
    with (
        a,
        pytest.raises(anthropic.APIStatusError) as cut_again,
        a.messages.stream(model="slow", max_tokens=50, messages=ASK) as s,
    ):
        for _event in s:
            pass
    assert "was cut after it had started" in str(cut_again.value)
