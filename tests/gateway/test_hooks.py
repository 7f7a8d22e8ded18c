"""`router serve --hooks` runs the spec's hooks on every request, through the real OpenAI and
Anthropic SDKs and curl: a rewrite (the sandbox gets the masked text, the caller the
original), a refusal in each API's error shape with nothing sent upstream, a hook that fails,
streams; and a spec naming a hook the command line did not register is refused at start."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from router.sandbox import Sandbox

from .helpers import GATEWAY_KEY, Gateway, curl_post, write_routes

CANARY = "canary-7e2a-secret"

HOOKS_MODULE = textwrap.dedent(
    """
    import dataclasses

    from router import Hook, RequestRefused

    EMAIL, PLACEHOLDER = "alice@example.com", "[EMAIL_1]"


    class Mask(Hook):
        def before(self, ctx):
            ctx.messages = [
                dataclasses.replace(m, content=m.content.replace(EMAIL, PLACEHOLDER))
                if isinstance(m.content, str) else m
                for m in ctx.messages
            ]

        def after(self, ctx, response):
            return dataclasses.replace(
                response, content=response.content.replace(PLACEHOLDER, EMAIL)
            )

        def after_chunk(self, ctx, chunk):
            text = ctx.state.pop("held", "") + chunk.delta
            cut = text.rfind("[")
            if chunk.finish_reason is None and cut != -1 and "]" not in text[cut:]:
                text, ctx.state["held"] = text[:cut], text[cut:]
            return dataclasses.replace(chunk, delta=text.replace(PLACEHOLDER, EMAIL))


    async def no_keys(ctx):
        if "sk-" in ctx.text():
            raise RequestRefused("a key was pasted into the prompt", code="secret_in_prompt")


    def broken(ctx):
        if "explode" in ctx.text():
            raise ValueError("the hook's own words: """
    + CANARY
    + """")


    HOOKS = {"mask": Mask(), "no-keys": no_keys}
    """
)


@pytest.fixture(scope="module")
def hooked(sandbox_server: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    folder = tmp_path_factory.mktemp("gw-hooks")
    (folder / "gwhooks.py").write_text(HOOKS_MODULE, encoding="utf-8")
    routes = write_routes(sandbox_server, folder / "routes.yaml")
    text = routes.read_text(encoding="utf-8").replace(
        "    candidates: [gpt]\n    fallback: [claude]\n",
        "    candidates: [gpt]\n    fallback: [claude]\n    hooks: [no-keys, mask, broken]\n",
        1,
    )
    claude = "  claude:\n    candidates: [claude]\n"
    routes.write_text(
        text.replace(claude, claude + "    hooks: [no-keys, mask]\n"), encoding="utf-8"
    )
    gw = Gateway(
        routes,
        folder / "serve.log",
        "--hooks",
        "gwhooks:HOOKS",
        "--hooks",
        "broken=gwhooks:broken",
        env={"PYTHONPATH": str(folder)},
    )
    yield gw
    assert gw.stop() == 0


@pytest.fixture
def oai(hooked: Gateway) -> Iterator[Any]:
    c = openai.OpenAI(base_url=hooked.url + "/v1", api_key=GATEWAY_KEY, max_retries=0)
    yield c
    c.close()


@pytest.fixture
def ant(hooked: Gateway) -> Iterator[Any]:
    c = anthropic.Anthropic(base_url=hooked.url, api_key=GATEWAY_KEY, max_retries=0)
    yield c
    c.close()


MASKED = [{"role": "user", "content": "Summarize: write to alice@example.com today."}]
PASTED = [{"role": "user", "content": f"Summarize: my key is sk-{CANARY}."}]


def _sent_text(sb: Sandbox) -> str:
    body = sb.requests[-1].body
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


def test_a_rewrite_reaches_the_upstream_and_the_caller_gets_the_original(
    oai: Any, ant: Any, sb: Sandbox
) -> None:
    done = oai.chat.completions.create(model="chat", messages=MASKED)
    assert "alice@example.com" in done.choices[0].message.content
    assert _sent_text(sb) == "Summarize: write to [EMAIL_1] today."

    message = ant.messages.create(model="claude", max_tokens=50, messages=MASKED)
    assert "alice@example.com" in message.content[0].text
    assert _sent_text(sb) == "Summarize: write to [EMAIL_1] today."


def test_a_stream_is_restored_chunk_by_chunk(oai: Any, sb: Sandbox) -> None:
    chunks = list(oai.chat.completions.create(model="chat", messages=MASKED, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "alice@example.com" in text and "[" not in text
    assert _sent_text(sb) == "Summarize: write to [EMAIL_1] today."


def test_a_refusal_is_a_400_in_each_apis_error_shape_and_nothing_goes_upstream(
    oai: Any, ant: Any, sb: Sandbox
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        oai.chat.completions.create(model="chat", messages=PASTED)
    error = refused.value.body
    assert refused.value.status_code == 400
    assert (error["type"], error["code"]) == ("invalid_request_error", "request_refused")
    assert error["message"] == (
        "refused by hook 'no-keys', secret_in_prompt: a key was pasted into the prompt"
    )

    with pytest.raises(anthropic.BadRequestError) as rejected:
        ant.messages.create(model="claude", max_tokens=50, messages=PASTED, stream=True)
    assert rejected.value.body["type"] == "error"
    assert rejected.value.body["error"]["type"] == "invalid_request_error"
    assert "refused by hook 'no-keys'" in rejected.value.body["error"]["message"]
    assert sb.requests == []
    assert CANARY not in json.dumps(error)


def test_curl_gets_the_refusal_as_openai_error_json(hooked: Gateway, sb: Sandbox) -> None:
    body = {"model": "chat", "messages": PASTED, "stream": True}
    head, payload = curl_post(hooked.url + "/v1/chat/completions", body)
    assert head.startswith("HTTP/1.1 400")
    assert json.loads(payload)["error"]["code"] == "request_refused"
    assert sb.requests == []


def test_a_hook_that_fails_is_a_500_naming_it_never_its_words(oai: Any, sb: Sandbox) -> None:
    with pytest.raises(openai.InternalServerError) as failed:
        oai.chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "Please explode."}]
        )
    error = failed.value.body
    assert error["code"] == "hook_failed"
    assert error["message"].startswith("hook 'broken' failed in before: it raised ValueError")
    assert CANARY not in json.dumps(error)
    assert sb.requests == []


def test_a_spec_naming_a_hook_the_command_line_did_not_register_does_not_start(
    routes: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "routes.yaml"
    spec.write_text(
        routes.read_text(encoding="utf-8").replace("defaults:\n", "defaults:\n  hooks: [pii]\n"),
        encoding="utf-8",
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from router.cli import main; main()",
            "serve",
            "--config",
            str(spec),
            "--port",
            "0",
            "--no-auth",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={"SANDBOX_API_KEY": "k", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 1
    assert "hook 'pii' is not registered" in out.stderr
    assert "--hooks pii=module:attribute" in out.stderr
