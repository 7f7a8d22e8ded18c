"""Provider parameters through `router serve`, sent by the real OpenAI and Anthropic SDKs: a
body field the spec declares reaches the models that declare it (what the sandbox received),
one it declares nowhere is refused naming it, one no model of the task takes is refused by the
Router's own check, and the fields clients send by habit are still ignored when undeclared."""

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
  oai:
    type: openai
    base_url: "{openai}"
    api_key_env: SANDBOX_API_KEY
    local: true
    extra_params: [service_tier]
  ant:
    type: anthropic
    base_url: "{anthropic}"
    api_key_env: SANDBOX_API_KEY
    local: true
models:
  gpt: {{provider: oai, id: gpt}}
  claude: {{provider: ant, id: claude, extra_params: [top_k]}}
defaults:
  retry: {{attempts: 1}}
tasks:
  chat: {{candidates: [gpt], fallback: [claude]}}
  gpt: {{candidates: [gpt]}}
"""
ASK = [{"role": "user", "content": "The sky is blue today."}]


@pytest.fixture(scope="module")
def gateway(sandbox_server: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder = tmp_path_factory.mktemp("params")
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


@pytest.fixture
def oai(gateway: Gateway) -> Iterator[Any]:
    c = openai.OpenAI(base_url=gateway.url + "/v1", api_key=GATEWAY_KEY, max_retries=0)
    yield c
    c.close()


@pytest.fixture
def ant(gateway: Gateway) -> Iterator[Any]:
    c = anthropic.Anthropic(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0)
    yield c
    c.close()


def test_openai_sdk_fields_reach_only_the_models_that_declare_them(oai: Any, sb: Sandbox) -> None:
    sb.script("503", model="gpt")
    r = oai.chat.completions.create(
        model="chat", messages=ASK, service_tier="flex", extra_body={"top_k": 3}
    )
    assert r.model == "claude"
    gpt, claude = (req.body for req in sb.requests)
    assert gpt["service_tier"] == "flex" and "top_k" not in gpt
    assert claude["top_k"] == 3 and "service_tier" not in claude


def test_anthropic_sdk_fields_go_through_the_same_checks(ant: Any, sb: Sandbox) -> None:
    # The installed SDK's create() has no top_k argument: its users send it in extra_body.
    sb.script("503", model="gpt")
    ant.messages.create(model="chat", max_tokens=20, messages=ASK, extra_body={"top_k": 5})
    assert [(r.model, r.body.get("top_k")) for r in sb.requests] == [("gpt", None), ("claude", 5)]
    with pytest.raises(anthropic.BadRequestError) as bad:
        ant.messages.create(model="gpt", max_tokens=20, messages=ASK, extra_body={"top_k": 5})
    assert "top_k: no model this call may reach accepts it (gpt)" in bad.value.message
    with pytest.raises(anthropic.BadRequestError) as wrong:
        ant.messages.create(model="chat", max_tokens=20, messages=ASK, extra_body={"top_k": -2})
    assert "-2 is not an integer >= 0 (as model 'claude' takes it)" in wrong.value.message
    assert len(sb.requests) == 2


def test_a_field_the_spec_declares_nowhere_is_refused_naming_it(oai: Any, sb: Sandbox) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        oai.chat.completions.create(model="chat", messages=ASK, extra_body={"min_p": 0.1})
    error = bad.value.body
    assert error["param"] == "min_p"
    assert "unrecognized request argument min_p" in error["message"]
    assert "provider parameters the spec declares: service_tier, top_k" in error["message"]
    assert sb.requests == []


def test_fields_clients_send_by_habit_are_ignored_when_undeclared(oai: Any, sb: Sandbox) -> None:
    oai.chat.completions.create(model="gpt", messages=ASK, store=False, parallel_tool_calls=True)
    assert "store" not in sb.requests[-1].body
    assert "parallel_tool_calls" not in sb.requests[-1].body
