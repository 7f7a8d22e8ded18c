"""Every fault kind, as the real SDKs surface it."""

from __future__ import annotations

import asyncio
import email.utils
import json
import socket
import time
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from router.sandbox import Sandbox

MSGS: list[Any] = [{"role": "user", "content": "The quick brown fox jumps over the lazy dog."}]


def oai_at(base: str, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=base, api_key="k", max_retries=0, **kw)


def ant_at(base: str, **kw: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base, api_key="k", max_retries=0, **kw)


def chat(client: openai.OpenAI, **kw: Any) -> Any:
    return client.chat.completions.create(model="m", messages=MSGS, **kw)


def message(client: anthropic.Anthropic, **kw: Any) -> Any:
    return client.messages.create(model="m", max_tokens=100, messages=MSGS, **kw)


def test_429_with_retry_after_both_sdks(sb: Sandbox) -> None:
    with (
        oai_at(sb.fault_url("429,retry-after=2") + "/v1") as client,
        pytest.raises(openai.RateLimitError) as o,
    ):
        chat(client)
    assert o.value.response.headers["retry-after"] == "2"
    assert o.value.code == "rate_limit_exceeded"
    with (
        ant_at(sb.fault_url("429,retry-after=2")) as aclient,
        pytest.raises(anthropic.RateLimitError) as a,
    ):
        message(aclient)
    assert a.value.response.headers["retry-after"] == "2"
    assert isinstance(a.value.body, dict)
    assert a.value.body["error"]["type"] == "rate_limit_error"
    assert a.value.body["request_id"] == a.value.response.headers["request-id"]


def test_retry_after_as_http_date(sb: Sandbox, oai: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        chat(oai, extra_headers={"x-sandbox-fault": "429,retry-after-date=30"})
    when = email.utils.parsedate_to_datetime(info.value.response.headers["retry-after"])
    assert 20 < when.timestamp() - time.time() <= 31


@pytest.mark.parametrize(
    ("status", "oai_exc", "ant_exc"),
    [
        (400, openai.BadRequestError, anthropic.BadRequestError),
        (401, openai.AuthenticationError, anthropic.AuthenticationError),
        (403, openai.PermissionDeniedError, anthropic.PermissionDeniedError),
        (404, openai.NotFoundError, anthropic.NotFoundError),
        (500, openai.InternalServerError, anthropic.InternalServerError),
        (502, openai.InternalServerError, anthropic.InternalServerError),
        (503, openai.InternalServerError, anthropic.ServiceUnavailableError),
        (529, openai.InternalServerError, anthropic.OverloadedError),
    ],
)
def test_status_faults(
    sb: Sandbox,
    oai: openai.OpenAI,
    ant: anthropic.Anthropic,
    status: int,
    oai_exc: type[Exception],
    ant_exc: type[Exception],
) -> None:
    header = {"x-sandbox-fault": str(status)}
    with pytest.raises(oai_exc):
        chat(oai, extra_headers=header)
    with pytest.raises(ant_exc):
        message(ant, extra_headers=header)
    assert sb.stats["faults"] == 2


def test_anthropic_error_types_per_status(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    kinds = {}
    for status in (400, 401, 403, 404, 429, 500, 529):
        with pytest.raises(anthropic.APIStatusError) as info:
            message(ant, extra_headers={"x-sandbox-fault": str(status)})
        assert isinstance(info.value.body, dict)
        kinds[status] = info.value.body["error"]["type"]
    assert kinds == {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_error",
        500: "api_error",
        529: "overloaded_error",
    }


def test_reset_is_a_connection_error(sb: Sandbox) -> None:
    with oai_at(sb.fault_url("reset") + "/v1") as client, pytest.raises(openai.APIConnectionError):
        chat(client)
    with ant_at(sb.fault_url("reset")) as aclient, pytest.raises(anthropic.APIConnectionError):
        message(aclient)
    assert sb.stats["resets"] == 2


def test_cut_stream_openai(sb: Sandbox, oai: openai.OpenAI) -> None:
    got: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in chat(oai, stream=True, extra_headers={"x-sandbox-fault": "cut=3"}):
            got.append(chunk)
    assert len(got) == 4  # role chunk + 3 content chunks
    assert all(c.choices[0].finish_reason is None for c in got)
    clean = list(chat(oai, stream=True, extra_headers={"x-sandbox-fault": "cut=3,clean"}))
    assert len(clean) == 4 and clean[-1].choices[0].finish_reason is None
    assert sb.stats["cuts"] == 2


def test_cut_stream_anthropic(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    got: list[str] = []
    # The anthropic SDK lets the transport error through unwrapped while streaming.
    with pytest.raises((anthropic.APIConnectionError, httpx2.RemoteProtocolError)):
        for event in message(ant, stream=True, extra_headers={"x-sandbox-fault": "cut=2"}):
            got.append(event.type)
    assert got == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
    ]
    clean = [
        e.type for e in message(ant, stream=True, extra_headers={"x-sandbox-fault": "cut=2,clean"})
    ]
    assert clean == got and "message_stop" not in clean


def test_cut_non_stream_is_a_connection_error(
    sb: Sandbox, oai: openai.OpenAI, ant: anthropic.Anthropic
) -> None:
    with pytest.raises(openai.APIConnectionError):
        chat(oai, extra_headers={"x-sandbox-fault": "cut"})
    with pytest.raises(anthropic.APIConnectionError):
        message(ant, extra_headers={"x-sandbox-fault": "cut=1"})


def test_context_fault(sb: Sandbox, oai: openai.OpenAI, ant: anthropic.Anthropic) -> None:
    with pytest.raises(openai.BadRequestError) as o:
        chat(oai, extra_headers={"x-sandbox-fault": "context"})
    assert o.value.code == "context_length_exceeded"
    with pytest.raises(anthropic.BadRequestError) as a:
        message(ant, extra_headers={"x-sandbox-fault": "context"})
    assert isinstance(a.value.body, dict)
    assert a.value.body["error"]["message"].startswith("prompt is too long: ")
    assert a.value.body["error"]["message"].endswith(" tokens > 200000 maximum")


def test_filter_faults(sb: Sandbox, oai: openai.OpenAI, ant: anthropic.Anthropic) -> None:
    with pytest.raises(openai.BadRequestError) as o:
        chat(oai, extra_headers={"x-sandbox-fault": "filter"})
    assert o.value.code == "content_policy_violation"
    finished = chat(oai, extra_headers={"x-sandbox-fault": "filter=finish"})
    assert finished.choices[0].finish_reason == "content_filter"
    streamed = list(chat(oai, stream=True, extra_headers={"x-sandbox-fault": "filter=finish"}))
    assert streamed[-1].choices[0].finish_reason == "content_filter"
    refused = message(ant, extra_headers={"x-sandbox-fault": "filter"})
    assert refused.stop_reason == "refusal"
    assert refused.stop_details is not None and refused.stop_details.type == "refusal"


def test_badjson_and_html(sb: Sandbox, oai: openai.OpenAI, ant: anthropic.Anthropic) -> None:
    # Neither SDK wraps a malformed 200 body in its own error type.
    with pytest.raises(json.JSONDecodeError):
        chat(oai, extra_headers={"x-sandbox-fault": "badjson"})
    with pytest.raises(json.JSONDecodeError):
        message(ant, extra_headers={"x-sandbox-fault": "badjson"})
    # A 200 text/html page is handed back as a plain string, not raised.
    page = chat(oai, extra_headers={"x-sandbox-fault": "html"})
    assert isinstance(page, str) and page.startswith("<!DOCTYPE html>")
    with pytest.raises(openai.InternalServerError) as info:
        chat(oai, extra_headers={"x-sandbox-fault": "html,502"})
    assert info.value.response.headers["content-type"].startswith("text/html")
    with pytest.raises(anthropic.InternalServerError):
        message(ant, extra_headers={"x-sandbox-fault": "html,502"})


def test_mid_stream_error_events(sb: Sandbox, oai: openai.OpenAI, ant: anthropic.Anthropic) -> None:
    got: list[Any] = []
    with pytest.raises(openai.APIError) as o:
        for chunk in chat(oai, stream=True, extra_headers={"x-sandbox-fault": "stream-error=2"}):
            got.append(chunk)
    assert len(got) == 3 and o.value.type == "server_error"
    with pytest.raises(anthropic.APIStatusError) as a:
        for _ in message(ant, stream=True, extra_headers={"x-sandbox-fault": "stream-error=1"}):
            pass
    assert isinstance(a.value.body, dict)
    assert a.value.body["error"]["type"] == "overloaded_error"


def test_script_times_and_model_filter(sb: Sandbox, oai: openai.OpenAI) -> None:
    sb.script("503", times=1)
    with pytest.raises(openai.InternalServerError):
        chat(oai)
    assert chat(oai).choices  # exactly one request was affected
    sb.script("429", times=2, model="other")
    assert chat(oai).choices
    other = [{"role": "user", "content": "hi"}]
    for _ in range(2):
        with pytest.raises(openai.RateLimitError):
            oai.chat.completions.create(model="other", messages=other)  # type: ignore[arg-type]
    assert oai.chat.completions.create(model="other", messages=other).choices  # type: ignore[arg-type]
    assert [r.status for r in sb.requests] == [503, 200, 200, 429, 429, 200]
    assert [r.fault for r in sb.requests] == ["503", None, None, "429", "429", None]


def test_set_fault_per_model_and_global(
    sb: Sandbox, oai: openai.OpenAI, ant: anthropic.Anthropic
) -> None:
    sb.set_fault("500", model="m")
    with pytest.raises(openai.InternalServerError):
        chat(oai)
    with pytest.raises(anthropic.InternalServerError):
        message(ant)
    assert oai.chat.completions.create(model="n", messages=MSGS).choices
    sb.set_fault(None, model="m")
    assert chat(oai).choices
    sb.set_fault("429")
    with pytest.raises(openai.RateLimitError):
        oai.chat.completions.create(model="anything", messages=MSGS)
    sb.reset()
    assert chat(oai).choices


def test_probability_is_seeded_and_repeatable(sb: Sandbox, oai: openai.OpenAI) -> None:
    def run() -> list[bool]:
        sb.set_fault("500,p=0.5")
        outcome = []
        for _ in range(12):
            try:
                chat(oai)
                outcome.append(True)
            except openai.InternalServerError:
                outcome.append(False)
        sb.reset()
        return outcome

    first, second = run(), run()
    assert first == second
    assert True in first and False in first


def test_script_is_consumed_by_sdk_retry(sb: Sandbox) -> None:
    sb.script("429,retry-after-ms=5", times=1)
    with openai.OpenAI(base_url=sb.openai_base_url, api_key="k", max_retries=2) as client:
        assert chat(client).choices
    assert [r.status for r in sb.requests] == [429, 200]
    assert sb.requests[1].headers["x-stainless-retry-count"] == "1"


def test_delay_does_not_block_other_connections(sb: Sandbox) -> None:
    async def go() -> list[str]:
        finished: list[str] = []
        async with openai.AsyncOpenAI(
            base_url=sb.openai_base_url, api_key="k", max_retries=0
        ) as client:

            async def slow() -> None:
                with pytest.raises(openai.APITimeoutError):
                    await client.chat.completions.create(
                        model="m",
                        messages=MSGS,
                        timeout=0.5,
                        extra_headers={"x-sandbox-fault": "delay=5000"},
                    )
                finished.append("slow")

            async def fast() -> None:
                await client.chat.completions.create(model="m", messages=MSGS)
                finished.append("fast")

            await asyncio.gather(slow(), fast())
        return finished

    assert asyncio.run(go()) == ["fast", "slow"]


def test_chunk_delay_still_delivers_everything(sb: Sandbox, ant: anthropic.Anthropic) -> None:
    events = [
        e.type
        for e in message(ant, stream=True, extra_headers={"x-sandbox-fault": "chunk-delay=1"})
    ]
    assert events[-1] == "message_stop"


def test_invalid_spec_is_rejected_loudly(sb: Sandbox, oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        chat(oai, extra_headers={"x-sandbox-fault": "429,retry-afterr=1"})
    assert "unknown fault item" in info.value.message
    with pytest.raises(ValueError, match="unknown fault item"):
        sb.script("teapot")


def _hung_up(sb: Sandbox) -> bool:
    """The sandbox notices a hang-up asynchronously: wait for it (a few seconds at most)."""
    for _ in range(500):
        if sb.stats["hangups"] == 1:
            return True
        time.sleep(0.01)
    return False


def test_stall_sends_n_events_then_holds_the_connection_until_the_client_hangs_up(
    sb: Sandbox,
) -> None:
    got: list[Any] = []
    with oai_at(sb.openai_base_url, timeout=0.3) as client:
        with pytest.raises(openai.APITimeoutError):
            for chunk in chat(client, stream=True, extra_headers={"x-sandbox-fault": "stall=2"}):
                got.append(chunk.choices[0].delta.content)
        assert got == ["", "Summary", ":"]  # the role chunk, then 2 content events
        assert _hung_up(sb)
        with pytest.raises(openai.APITimeoutError):  # non-stream: no answer at all
            chat(client, extra_headers={"x-sandbox-fault": "stall=0"})


def test_trickle_repeats_the_content_without_end_until_the_client_hangs_up(
    sb: Sandbox, ant: anthropic.Anthropic
) -> None:
    texts: list[str] = []
    events = message(ant, stream=True, extra_headers={"x-sandbox-fault": "trickle=1"})
    for event in events:
        if event.type == "content_block_delta":
            texts.append(event.delta.text)  # type: ignore[union-attr]
        if len(texts) == 40:  # far more than the answer has: it comes round again
            break
    events.close()
    answer = "".join(texts)
    assert answer.startswith("Summary: The quick brown fox") and answer.count("Summary") >= 2
    assert _hung_up(sb)
    with pytest.raises(ValueError, match="trickle"):
        sb.script("trickle=0")


def test_keepalive_sends_comment_lines_during_a_stall(sb: Sandbox) -> None:
    body = {"model": "m", "messages": MSGS, "stream": True}
    headers = {"authorization": "Bearer k", "x-sandbox-fault": "stall=1,keepalive=5"}
    seen = b""
    with (
        httpx2.Client(timeout=2) as client,
        client.stream(
            "POST", f"{sb.openai_base_url}/chat/completions", json=body, headers=headers
        ) as response,
    ):
        for data in response.iter_bytes():
            seen += data
            if seen.count(b": keep-alive") >= 3:
                break
    assert b'"content":"Summary"' in seen and b"[DONE]" not in seen
    assert _hung_up(sb)


def test_redirect_answers_with_its_location_and_status(sb: Sandbox) -> None:
    body = {"model": "m", "messages": MSGS}
    headers = {"authorization": "Bearer k"}
    sb.script("redirect=https://elsewhere.example/v1/chat/completions")
    sb.script("redirect=/v2/chat/completions,301")
    with httpx2.Client(timeout=2) as client:
        first = client.post(f"{sb.openai_base_url}/chat/completions", json=body, headers=headers)
        second = client.post(f"{sb.openai_base_url}/chat/completions", json=body, headers=headers)
    assert first.status_code == 307
    assert first.headers["location"] == "https://elsewhere.example/v1/chat/completions"
    assert (second.status_code, second.headers["location"]) == (301, "/v2/chat/completions")
    assert [r.status for r in sb.requests] == [307, 301]


def _raw_completion(sb: Sandbox, fault: str, enough: Any) -> bytes:
    """The raw bytes of a non-streamed completion under ``fault``, read until ``enough(seen)``;
    then the client hangs up."""
    body = json.dumps({"model": "m", "messages": MSGS}).encode()
    host, port = sb.url.removeprefix("http://").rsplit(":", 1)
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer k\r\n"
        f"x-sandbox-fault: {fault}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body
    seen = b""
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request)
        while not enough(seen):
            data = sock.recv(4096)
            assert data, "the server ended the answer"
            seen += data
    return seen


def _body_bytes(seen: bytes) -> int:
    return len(seen.split(b"\r\n\r\n", 1)[1]) if b"\r\n\r\n" in seen else -1


def test_trickle_sends_a_non_streamed_body_a_byte_at_a_time(sb: Sandbox) -> None:
    seen = _raw_completion(sb, "trickle=5", lambda seen: _body_bytes(seen) >= 4)
    head, body = seen.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200") and b"content-length:" in head.lower()
    assert body.startswith(b"{") and len(body) < 12  # a few bytes, not the whole answer
    assert _hung_up(sb)


def test_keepalive_on_a_non_streamed_request_never_ends_the_head(sb: Sandbox) -> None:
    seen = _raw_completion(sb, "keepalive=5", lambda seen: seen.count(b"x-keep-alive") >= 3)
    assert seen.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\n\r\n" not in seen
    assert _hung_up(sb)
