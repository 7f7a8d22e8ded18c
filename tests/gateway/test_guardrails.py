"""`router serve` runs the spec's guardrails on every request, through the real OpenAI and
Anthropic SDKs and curl: the upstream gets placeholders and the caller the originals (whole
answers and streams, both APIs); a pasted key is a 400 in each API's error shape
(``guardrail_refused`` with ``param`` saying where, Anthropic's ``invalid_request_error``)
with nothing sent upstream, an embedding too; the key is in no answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from router.sandbox import Sandbox

from .helpers import GATEWAY_KEY, Gateway, curl_post, write_routes

KEY = "sk-proj-Zq7rT2mXv9LkP4wN8bJc"
EMAIL = "ana@example.com"
MASKED = [{"role": "user", "content": f"Summarize: write to {EMAIL} today."}]
PASTED = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": f"Summarize: my key is {KEY} today."},
]


@pytest.fixture(scope="module")
def guarded(sandbox_server: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder = tmp_path_factory.mktemp("gw-guardrails")
    routes = write_routes(sandbox_server, folder / "routes.yaml")
    text = routes.read_text(encoding="utf-8")
    routes.write_text(
        text.replace("defaults:\n", "defaults:\n  guardrails: [secrets, pii]\n", 1),
        encoding="utf-8",
    )
    gw = Gateway(routes, folder / "serve.log")
    yield gw
    assert gw.stop() == 0


@pytest.fixture
def oai(guarded: Gateway) -> Iterator[Any]:
    c = openai.OpenAI(base_url=guarded.url + "/v1", api_key=GATEWAY_KEY, max_retries=0)
    yield c
    c.close()


@pytest.fixture
def ant(guarded: Gateway) -> Iterator[Any]:
    c = anthropic.Anthropic(base_url=guarded.url, api_key=GATEWAY_KEY, max_retries=0)
    yield c
    c.close()


def _sent_text(sb: Sandbox) -> str:
    content = sb.requests[-1].body["messages"][-1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


def test_the_upstream_gets_placeholders_and_the_caller_the_originals(
    oai: Any, ant: Any, sb: Sandbox
) -> None:
    done = oai.chat.completions.create(model="chat", messages=MASKED)
    assert done.choices[0].message.content == f"Summary: Summarize: write to {EMAIL} today."
    assert _sent_text(sb) == "Summarize: write to <EMAIL_1> today."

    message = ant.messages.create(model="claude", max_tokens=50, messages=MASKED)
    assert message.content[0].text == f"Summary: Summarize: write to {EMAIL} today."
    assert _sent_text(sb) == "Summarize: write to <EMAIL_1> today."
    assert all(EMAIL not in json.dumps(r.body) for r in sb.requests)


def test_streams_are_restored_in_both_apis(oai: Any, ant: Any, sb: Sandbox) -> None:
    chunks = list(oai.chat.completions.create(model="chat", messages=MASKED, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"Summary: Summarize: write to {EMAIL} today."

    with ant.messages.stream(model="claude", max_tokens=50, messages=MASKED) as stream:
        streamed = "".join(stream.text_stream)
    assert streamed == f"Summary: Summarize: write to {EMAIL} today."
    assert [_sent_text(sb)] * 2 == ["Summarize: write to <EMAIL_1> today."] * 2
    assert all(EMAIL not in json.dumps(r.body) for r in sb.requests)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_pasted_key_is_a_400_in_each_apis_shape_and_nothing_goes_upstream(
    oai: Any, ant: Any, sb: Sandbox, stream: bool
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        oai.chat.completions.create(model="chat", messages=PASTED, stream=stream)
    error = refused.value.body
    assert refused.value.status_code == 400
    assert (error["type"], error["code"], error["param"]) == (
        "invalid_request_error",
        "guardrail_refused",
        "messages[1].content",  # the index in the request's own messages
    )
    assert error["message"] == (
        "guardrail 'secrets' refused the request: messages[1].content holds an OpenAI API key "
        "(openai_key); nothing was sent"
    )

    with pytest.raises(anthropic.BadRequestError) as rejected:
        ant.messages.create(
            model="claude", max_tokens=50, messages=PASTED[1:], system="Be brief.", stream=stream
        )
    assert rejected.value.status_code == 400
    assert rejected.value.body["type"] == "error"
    assert rejected.value.body["error"]["type"] == "invalid_request_error"
    assert rejected.value.body["error"]["message"].startswith("guardrail 'secrets' refused")
    assert sb.requests == []
    assert KEY not in json.dumps(error) + json.dumps(rejected.value.body)


def test_curl_gets_the_refusal_as_openai_error_json(guarded: Gateway, sb: Sandbox) -> None:
    body = {"model": "chat", "messages": PASTED, "stream": True}
    head, payload = curl_post(guarded.url + "/v1/chat/completions", body)
    assert head.startswith("HTTP/1.1 400")
    error = json.loads(payload)["error"]
    assert (error["code"], error["param"]) == ("guardrail_refused", "messages[1].content")
    assert sb.requests == []


def test_an_embedding_input_is_masked_or_refused(oai: Any, sb: Sandbox) -> None:
    out = oai.embeddings.create(model="vectors", input=["one", f"mail {EMAIL}"])
    assert len(out.data) == 2
    assert sb.requests[-1].body["input"] == ["one", "mail <EMAIL_1>"]
    sent = len(sb.requests)
    with pytest.raises(openai.BadRequestError) as refused:
        oai.embeddings.create(model="vectors", input=["one", f"key {KEY}"])
    assert (refused.value.body["code"], refused.value.body["param"]) == (
        "guardrail_refused",
        "input[1]",
    )
    assert len(sb.requests) == sent
