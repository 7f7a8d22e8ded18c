"""POST /v1/embeddings against `router serve` with the openai SDK and curl, unmodified: the
task's chain (a fallback here), both encodings, decision headers, errors in OpenAI's shape."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import openai
import pytest

from router.sandbox import Sandbox
from router.sandbox.embeddings import vector

from .helpers import GATEWAY_KEY, Gateway


@pytest.fixture
def client(gateway: Gateway) -> Any:
    c = openai.OpenAI(base_url=gateway.url + "/v1", api_key=GATEWAY_KEY, max_retries=0)
    yield c
    c.close()


def test_the_sdk_embeds_through_the_tasks_chain(client: Any, sb: Sandbox) -> None:
    raw = client.embeddings.with_raw_response.create(model="vectors", input=["one", "two"])
    out = raw.parse()  # the SDK asks for base64 and decodes it
    assert [d.index for d in out.data] == [0, 1]
    for d, text in zip(out.data, ["one", "two"], strict=True):
        assert d.embedding == pytest.approx(vector(text, 64), abs=1e-6)
    assert out.model == "emb" and out.usage.prompt_tokens == out.usage.total_tokens > 0
    h = raw.headers
    assert (h["x-router-task"], h["x-router-model"], h["x-router-attempts"]) == (
        "vectors",
        "emb",
        "2",
    )
    assert h["x-router-route"] == "emb-down:unavailable,emb:ok"
    assert float(h["x-router-cost-usd"]) > 0
    assert [(r.path, r.model) for r in sb.requests] == [("/v1/embeddings", "sandbox-embed")] * 2
    floats = client.embeddings.create(
        model="vectors", input="one", encoding_format="float", dimensions=8
    )
    assert floats.data[0].embedding == vector("one", 8)
    assert sb.requests[-1].body["dimensions"] == 8


def test_errors_come_in_openais_shape(client: Any, sb: Sandbox) -> None:
    with pytest.raises(openai.BadRequestError) as chat_task:
        client.embeddings.create(model="chat", input="x")
    assert "embed() needs a task whose candidates are embedding models" in str(chat_task.value)
    with pytest.raises(openai.NotFoundError) as unknown:
        client.embeddings.create(model="nope", input="x")
    assert unknown.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as empty:
        client.embeddings.create(model="vectors", input=[])
    assert empty.value.body["param"] == "input"
    with pytest.raises(openai.BadRequestError) as encoding:
        client.embeddings.create(model="vectors", input="x", encoding_format="int8")  # type: ignore[arg-type]
    assert encoding.value.body["param"] == "encoding_format"
    with pytest.raises(openai.BadRequestError, match="call embed"):
        client.chat.completions.create(model="vectors", messages=[{"role": "user", "content": "x"}])
    assert sb.requests == []


def test_curl(gateway: Gateway) -> None:
    body = json.dumps({"model": "vectors", "input": "hello"})
    auth = ["-H", f"Authorization: Bearer {GATEWAY_KEY}", "-H", "Content-Type: application/json"]
    out = subprocess.run(
        ["curl", "-sS", "-i", *auth, "-d", body, gateway.url + "/v1/embeddings"],
        capture_output=True,
        check=True,
    )
    head, _, payload = out.stdout.decode().partition("\r\n\r\n")
    assert "x-router-model: emb" in head.lower()
    answer = json.loads(payload)
    assert answer["object"] == "list" and answer["data"][0]["embedding"] == vector("hello", 64)
    unauthorised = subprocess.run(
        ["curl", "-sS", "-d", body, gateway.url + "/v1/embeddings"], capture_output=True, check=True
    )
    assert json.loads(unauthorised.stdout)["error"]["code"] == "missing_api_key"
