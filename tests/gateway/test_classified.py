"""`router serve` with a classifier: the model `auto` lets it choose the task, through the
unmodified OpenAI and Anthropic SDKs (the sandbox upstream), and `auto` is listed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from router.sandbox import Sandbox

from .helpers import GATEWAY_KEY, Gateway

ROUTES = """\
version: 1
providers:
  oai: {{type: openai, base_url: "{openai}", api_key_env: SANDBOX_API_KEY, local: true}}
  ant: {{type: anthropic, base_url: "{anthropic}", api_key_env: SANDBOX_API_KEY, local: true}}
models:
  coder: {{provider: ant, id: sandbox-coder, capabilities: [streaming]}}
  talker: {{provider: oai, id: sandbox-talker, capabilities: [streaming]}}
tasks:
  code: {{candidates: [coder]}}
  chat: {{candidates: [talker]}}
classifier:
  labels: [code, chat]
  fallback: chat
  examples:
    code: [Write a Python function, Fix my JavaScript bug, Why does this SQL query fail,
           Implement a linked list in C, Refactor this Go code]
    chat: [Hello how are you, Tell me a joke, What a nice day, Good morning friend,
           How was your weekend]
"""
CODE = [{"role": "user", "content": "Write a Python function that parses JSON"}]


@pytest.fixture(scope="module")
def gateway(sandbox_server: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("gw-classified")
    routes = folder / "routes.yaml"
    routes.write_text(
        ROUTES.format(
            openai=sandbox_server.openai_base_url, anthropic=sandbox_server.anthropic_base_url
        ),
        encoding="utf-8",
    )
    gw = Gateway(routes, Path(folder) / "serve.log")
    yield gw
    assert gw.stop() == 0


def test_model_auto_is_classified_through_the_openai_sdk(gateway: Any, sb: Sandbox) -> None:
    with openai.OpenAI(base_url=gateway.url + "/v1", api_key=GATEWAY_KEY, max_retries=0) as c:
        raw = c.chat.completions.with_raw_response.create(model="auto", messages=CODE)
        listed = [m.id for m in c.models.list()]

    assert raw.headers["x-router-model"] == "coder"
    assert raw.parse().choices[0].message.content
    assert [r.model for r in sb.requests] == ["sandbox-coder"]
    assert listed == ["code", "chat", "auto"]


def test_model_auto_streams_through_the_anthropic_sdk(gateway: Any, sb: Sandbox) -> None:
    hello = [{"role": "user", "content": "Hello, how are you?"}]
    with (
        anthropic.Anthropic(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0) as c,
        c.messages.stream(model="auto", max_tokens=64, messages=hello) as stream,
    ):
        text = "".join(stream.text_stream)

    assert text
    assert [r.model for r in sb.requests] == ["sandbox-talker"]
