"""No secret leaves `router serve` on its refusals: the provider key (a canary, quoted whole
by the upstream's 401 with `echo-key`), the gateway's own key, and a wrong key a client sent
appear in no response body, no header and no line of the server's log, on every kind of
failure the gateway answers (auth, malformed body, unknown model, provider auth failure,
provider down, stream failure)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.sandbox import Sandbox

from .helpers import Gateway

PROVIDER_KEY = "sk-cnry-Qm2Xw9Lp4Zr8Tn3Vb6Hd7"
GATEWAY_KEY = "gw-cnry-7Hd2Ks9Pq4Lm8Zx1Wq5"
WRONG_KEY = "gw-cnry-3Fj6Ty1Rk8Wn5Cv2Jp4"
SECRETS = (PROVIDER_KEY, GATEWAY_KEY, WRONG_KEY)

SPEC = """\
version: 1
providers:
  leaky:
    type: openai
    base_url: "{leaky}"
    api_key_env: CANARY_PROVIDER_KEY
    local: true
  leaky_ant:
    type: anthropic
    base_url: "{leaky_ant}"
    api_key_env: CANARY_PROVIDER_KEY
    local: true
  down:
    type: openai
    base_url: "{down}"
    api_key_env: CANARY_PROVIDER_KEY
    local: true
models:
  gpt: {{provider: leaky, id: sandbox-gpt, capabilities: [streaming]}}
  claude: {{provider: leaky_ant, id: sandbox-claude, capabilities: [streaming]}}
  gone: {{provider: down, id: sandbox-gpt, capabilities: [streaming]}}
defaults:
  retry: {{attempts: 1}}
tasks:
  chat: {{candidates: [gpt], fallback: [claude]}}
  broken: {{candidates: [gone]}}
"""


@pytest.fixture(scope="module")
def gateway(sandbox_server: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder = tmp_path_factory.mktemp("secrets")
    routes = folder / "routes.yaml"
    routes.write_text(
        SPEC.format(
            leaky=sandbox_server.fault_url("401,echo-key") + "/v1",
            leaky_ant=sandbox_server.fault_url("401,echo-key"),
            down=sandbox_server.fault_url("503") + "/v1",
        ),
        encoding="utf-8",
    )
    gw = Gateway(
        routes, folder / "serve.log", keys=GATEWAY_KEY, env={"CANARY_PROVIDER_KEY": PROVIDER_KEY}
    )
    yield gw
    assert gw.stop() == 0


def _send(gw: Gateway, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """One request; the status and everything the gateway sent back (headers and body)."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    try:
        conn.request(
            "POST", path, body=body, headers={"content-type": "application/json", **headers}
        )
        reply = conn.getresponse()
        text = reply.read().decode("utf-8", "replace")
        shown = "\n".join(f"{k}: {v}" for k, v in reply.getheaders()) + "\n" + text
        return reply.status, shown
    finally:
        conn.close()


def _chat(model: str, *, stream: bool = False) -> bytes:
    body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "stream": stream}
    return json.dumps(body).encode()


OPENAI = {"authorization": f"Bearer {GATEWAY_KEY}"}
ANTHROPIC = {"x-api-key": GATEWAY_KEY, "anthropic-version": "2023-06-01"}

CASES = [
    ("wrong key", "/v1/chat/completions", _chat("chat"), {"authorization": f"Bearer {WRONG_KEY}"}),
    ("wrong x-api-key", "/v1/messages", _chat("chat"), {"x-api-key": WRONG_KEY}),
    ("malformed json", "/v1/chat/completions", b'{"model": "chat", "messages": [', OPENAI),
    ("unknown model", "/v1/chat/completions", _chat("no-such-task"), OPENAI),
    ("provider 401s", "/v1/chat/completions", _chat("chat"), OPENAI),
    ("provider 401s, stream", "/v1/chat/completions", _chat("chat", stream=True), OPENAI),
    ("provider down", "/v1/chat/completions", _chat("broken"), OPENAI),
    (
        "anthropic api, provider 401s",
        "/v1/messages",
        json.dumps(
            {"model": "chat", "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]}
        ).encode(),
        ANTHROPIC,
    ),
]


@pytest.mark.parametrize(("what", "path", "body", "headers"), CASES, ids=[c[0] for c in CASES])
def test_a_refusal_shows_no_secret(
    gateway: Gateway, what: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    status, shown = _send(gateway, path, body, headers)
    assert status >= 400 or "error" in shown, what  # a stream may fail inside a 200
    for secret in SECRETS:
        assert secret not in shown, what
        assert secret[-12:] not in shown, what  # not even the tail a masked key would show


def test_the_log_shows_no_secret(gateway: Gateway) -> None:
    for _, path, body, headers in CASES:
        _send(gateway, path, body, headers)
    gateway.events("access", count=len(CASES))
    log = Path(gateway.log).read_text(encoding="utf-8")
    assert log  # the log was written
    for secret in SECRETS:
        assert secret not in log
        assert secret[-12:] not in log
