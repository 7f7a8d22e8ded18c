"""The HTTP layer, side endpoints and request validation, checked on the raw wire."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from typing import Any

import pytest

from router.sandbox import Sandbox, parse_fault
from router.sandbox.answer import count_tokens, pieces

OAI = "/v1/chat/completions"
ANT = "/v1/messages"
AUTH = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}
ANT_HEADERS = {
    "x-api-key": "sk-ant-test",
    "anthropic-version": "2023-06-01",
    "Content-Type": "application/json",
}
CHAT: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "Hello there."}]}
MESSAGE: dict[str, Any] = {**CHAT, "max_tokens": 50}


def read_chunked(
    sb: Sandbox, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[bytes, list[bytes]]:
    """Send one request on a raw socket; return the head and the raw chunk payloads."""
    data = json.dumps(body).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: sandbox",
        f"Content-Length: {len(data)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    with socket.create_connection(("127.0.0.1", sb.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        buf = b""
        while chunk := sock.recv(65536):
            buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    chunks = []
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        chunks.append(rest[:size])
        rest = rest[size + 2 :]
        if size == 0:
            break
    return head, chunks


def test_openai_sse_framing(sb: Sandbox) -> None:
    head, chunks = read_chunked(sb, OAI, {**CHAT, "stream": True}, AUTH)
    assert b"transfer-encoding: chunked" in head.lower()
    assert b"text/event-stream" in head
    assert chunks[-1] == b""  # the chunked terminator
    events = chunks[:-1]
    # One SSE event per HTTP chunk: each one is flushed on its own.
    assert all(
        e.startswith(b"data: ") and e.endswith(b"\n\n") and e.count(b"\n\n") == 1 for e in events
    )
    assert events[-1] == b"data: [DONE]\n\n"
    first = json.loads(events[0][6:])
    assert first["object"] == "chat.completion.chunk" and "usage" not in first


def test_anthropic_sse_framing_includes_ping(sb: Sandbox) -> None:
    _, chunks = read_chunked(sb, ANT, {**MESSAGE, "stream": True}, ANT_HEADERS)
    names = [c.split(b"\n", 1)[0] for c in chunks[:-1]]
    assert names[:3] == [b"event: message_start", b"event: content_block_start", b"event: ping"]
    assert names[-3:] == [
        b"event: content_block_stop",
        b"event: message_delta",
        b"event: message_stop",
    ]


def test_unclean_cut_has_no_chunk_terminator(sb: Sandbox) -> None:
    _, chunks = read_chunked(
        sb, OAI, {**CHAT, "stream": True}, {**AUTH, "x-sandbox-fault": "cut=1"}
    )
    assert len(chunks) == 2 and chunks[-1] != b""
    _, clean = read_chunked(sb, "/fault/cut=1,clean" + OAI, {**CHAT, "stream": True}, AUTH)
    assert len(clean) == 3 and clean[-1] == b""


def test_keep_alive_reuses_one_connection(sb: Sandbox) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    for _ in range(3):
        conn.request("POST", OAI, body=json.dumps(CHAT), headers=AUTH)
        resp = conn.getresponse()
        assert resp.status == 200
        json.loads(resp.read())
    conn.request("GET", "/health")
    assert conn.getresponse().read() == b"ok"
    conn.close()
    assert sb.stats["connections"] == 1
    assert sb.stats["requests"] == 4 and sb.stats["completions"] == 3


def test_side_endpoints(sb: Sandbox, raw: Any) -> None:
    raw("POST", OAI, CHAT, AUTH)
    status, _, body = raw("GET", "/stats")
    stats = json.loads(body)
    assert status == 200 and stats["completions"] == 1 and stats["models"] == {"m": 1}
    status, _, body = raw("GET", "/nope", headers={"anthropic-version": "2023-06-01"})
    assert status == 404 and json.loads(body)["type"] == "error"
    status, _, body = raw("GET", "/v1/nope")
    assert status == 404 and "Invalid URL" in json.loads(body)["error"]["message"]
    assert raw("GET", OAI)[0] == 405


def test_auth_and_version_checks(sb: Sandbox, raw: Any) -> None:
    status, _, body = raw("POST", OAI, CHAT, {"Content-Type": "application/json"})
    assert status == 401
    assert json.loads(body)["error"] == {
        "message": json.loads(body)["error"]["message"],
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
    status, _, body = raw("POST", ANT, MESSAGE, {"anthropic-version": "2023-06-01"})
    assert status == 401
    error = json.loads(body)
    assert error["type"] == "error" and error["error"]["type"] == "authentication_error"
    no_version = {k: v for k, v in ANT_HEADERS.items() if k != "anthropic-version"}
    status, _, body = raw("POST", ANT, MESSAGE, no_version)
    assert status == 400 and "anthropic-version" in json.loads(body)["error"]["message"]
    bearer = {"Authorization": "Bearer k", "anthropic-version": "2023-06-01"}
    assert raw("POST", ANT, MESSAGE, bearer)[0] == 200
    assert raw("GET", "/v1/models")[0] == 401


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        (OAI, {"messages": CHAT["messages"]}, "you must provide a model parameter"),
        (OAI, {"model": "m"}, "Missing required parameter: 'messages'."),
        (OAI, {**CHAT, "max_tokens": 0}, "integer below minimum value"),
        (ANT, CHAT, "max_tokens: Field required"),
        (ANT, {**MESSAGE, "max_tokens": "many"}, "max_tokens: Input should be a valid integer"),
        (ANT, {**MESSAGE, "messages": []}, "at least one message is required"),
        (ANT, {**MESSAGE, "messages": [{"role": "user", "content": ""}]}, "non-empty content"),
    ],
)
def test_validation_errors(
    sb: Sandbox, raw: Any, path: str, body: dict[str, Any], needle: str
) -> None:
    headers = AUTH if path == OAI else ANT_HEADERS
    status, _, data = raw("POST", path, body, headers)
    assert status == 400
    assert needle in json.loads(data)["error"]["message"]


def test_malformed_json_body(sb: Sandbox, raw: Any) -> None:
    status, _, data = raw("POST", OAI, b"{not json", AUTH)
    assert status == 400 and json.loads(data)["error"]["type"] == "invalid_request_error"


def test_recorded_requests_redact_credentials(sb: Sandbox, raw: Any) -> None:
    raw("POST", OAI, CHAT, AUTH)
    raw("POST", "/fault/500" + ANT, MESSAGE, {**ANT_HEADERS, "Authorization": "Bearer x"})
    first, second = sb.requests
    assert (first.api, first.path, first.model, first.status) == ("openai", OAI, "m", 200)
    assert first.headers["authorization"] == "***"
    assert first.body == CHAT
    assert (second.api, second.path, second.raw_path) == ("anthropic", ANT, "/fault/500" + ANT)
    assert second.headers["x-api-key"] == "***" and second.headers["authorization"] == "***"
    assert second.headers["anthropic-version"] == "2023-06-01"
    assert (second.fault, second.status) == ("500", 500)
    assert "sk-" not in json.dumps([vars(r) for r in sb.requests])


def test_control_endpoints(sb: Sandbox, raw: Any) -> None:
    assert raw("POST", "/_sandbox/script", {"spec": "503", "times": 1})[0] == 200
    assert raw("POST", OAI, CHAT, AUTH)[0] == 503
    assert raw("POST", "/_sandbox/fault", {"spec": "429", "model": "m"})[0] == 200
    assert raw("POST", OAI, CHAT, AUTH)[0] == 429
    status, _, body = raw("GET", "/_sandbox/requests")
    assert status == 200 and [r["status"] for r in json.loads(body)] == [503, 429]
    assert raw("POST", "/_sandbox/fault", {"spec": "bogus"})[0] == 400
    assert raw("POST", "/_sandbox/reset")[0] == 200
    assert raw("POST", OAI, CHAT, AUTH)[0] == 200


def test_fault_grammar() -> None:
    spec = parse_fault("429, retry-after=2,p=0.25;delay=10,chunk-delay=5,cut=3,clean")
    assert (spec.status, spec.retry_after, spec.p, spec.delay_ms) == (429, "2", 0.25, 10.0)
    assert (spec.chunk_delay_ms, spec.cut, spec.clean) == (5.0, 3, True)
    assert parse_fault("html,502").html and parse_fault("filter").filter == "error"
    assert parse_fault("filter=finish").filter == "finish"
    assert parse_fault("redirect=http://h:1/v1/x,308").redirect == "http://h:1/v1/x"
    for bad in (
        "p=2",
        "cut=-1",
        "retry-after=soon",
        "999",
        "explode",
        "filter=maybe",
        "redirect=h",
    ):
        with pytest.raises(ValueError):
            parse_fault(bad)


def test_tokenizer_pieces_rebuild_the_text() -> None:
    text = "Summary: it's 3.5 times  better!  "
    assert "".join(pieces(text)) == text
    assert count_tokens("Hello, world.") == 4


def test_sandbox_lifecycle_and_urls() -> None:
    box = Sandbox(seed=3)
    with pytest.raises(RuntimeError):
        _ = box.url
    with box:
        assert box.openai_base_url == box.url + "/v1"
        assert box.anthropic_base_url == box.url
        assert box.fault_url("429,retry-after=2") == box.url + "/fault/429,retry-after=2"
        port = box.port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_cli_prints_ready_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "router.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("READY ")
        conn = http.client.HTTPConnection("127.0.0.1", int(line.split()[1]), timeout=10)
        conn.request("GET", "/health")
        assert conn.getresponse().read() == b"ok"
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
