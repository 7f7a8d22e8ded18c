"""Failure translation, through the real SDKs against the sandbox's fault injection."""

from __future__ import annotations

import asyncio
import pickle
import time
from email.utils import formatdate

import pytest
from provider_helpers import API_KEY, AWS_SECRET, WIRE, MakeAdapter, credentials, req, root_url

from router import errors as E
from router.providers import Adapter, ProviderSettings, get_adapter_class, parse_retry_after
from router.providers._errors import redact, status_error
from router.providers._facts import retry_after_from_headers
from router.sandbox import Sandbox
from router.types import Chunk, Request

TEXT = "The quick brown fox jumps over the lazy dog. It was a sunny day in the park."


def fail_sync(adapter: Adapter, request: Request) -> E.ProviderError:
    with pytest.raises(E.ProviderError) as info:
        adapter.complete(request)
    return info.value


def fail_async(adapter: Adapter, request: Request) -> E.ProviderError:
    async def go() -> None:
        try:
            await adapter.acomplete(request)
        finally:
            await adapter.aclose()

    with pytest.raises(E.ProviderError) as info:
        asyncio.run(go())
    return info.value


def fail_stream(adapter: Adapter, request: Request) -> tuple[list[Chunk], E.ProviderError]:
    got: list[Chunk] = []
    with pytest.raises(E.ProviderError) as info:
        got.extend(adapter.stream(request))
    return got, info.value


def fail_astream(adapter: Adapter, request: Request) -> tuple[list[Chunk], E.ProviderError]:
    got: list[Chunk] = []

    async def go() -> None:
        try:
            async for chunk in adapter.astream(request):
                got.append(chunk)
        finally:
            await adapter.aclose()

    with pytest.raises(E.ProviderError) as info:
        asyncio.run(go())
    return got, info.value


CASES = [
    ("401", E.AuthenticationError, 401),
    ("403", E.AuthenticationError, 403),
    ("429", E.RateLimitError, 429),
    ("408", E.ProviderTimeout, 408),
    ("400", E.BadRequestError, 400),
    ("404", E.BadRequestError, 404),
    ("422", E.BadRequestError, 422),
    ("500", E.ProviderUnavailable, 500),
    ("503", E.ProviderUnavailable, 503),
    ("529", E.ProviderUnavailable, 529),
    ("html,502", E.ProviderUnavailable, 502),
    ("reset", E.ProviderUnavailable, None),
    ("context", E.ContextWindowExceeded, 400),
    ("badjson", E.ModelError, None),
    ("html", E.ModelError, None),
]


@pytest.mark.parametrize(("fault", "cls", "status"), CASES)
def test_error_mapping(
    kind: str,
    make_adapter: MakeAdapter,
    fault: str,
    cls: type[E.ProviderError],
    status: int | None,
) -> None:
    request = req(kind, TEXT)
    errs = [
        fail_sync(make_adapter(kind, fault=fault), request),
        fail_async(make_adapter(kind, fault=fault), request),
    ]
    if fault != "badjson":  # a broken stream is covered in test_broken_streams
        errs.append(fail_stream(make_adapter(kind, fault=fault), request)[1])
    for err in errs:
        assert type(err) is cls, (fault, err)
        assert (err.provider, err.model, err.status) == (f"{kind}-p", "spec-model", status)
        # No SDK exception rides along (its request holds the key); the facts do instead.
        assert err.__cause__ is None and err.__context__ is None
        if status is not None:
            assert err.request_id and f"request id {err.request_id}" in str(err)
        assert API_KEY not in str(err)
        assert len(str(err)) > 20


def test_messages_carry_the_providers_words(kind: str, make_adapter: MakeAdapter) -> None:
    err = fail_sync(make_adapter(kind, fault="context"), req(kind, TEXT))
    assert ("maximum context length" in str(err)) or ("prompt is too long" in str(err))
    err = fail_sync(make_adapter(kind, fault="html,502"), req(kind, TEXT))
    assert "HTML page titled '502" in str(err)


def test_content_policy(kind: str, make_adapter: MakeAdapter) -> None:
    adapter = make_adapter(kind, fault="filter")
    if WIRE[kind] == "anthropic":  # Claude refuses in-band (stop_reason "refusal"), not with a 400
        assert adapter.complete(req(kind, TEXT)).finish_reason == "content_filter"
    else:
        err = fail_sync(adapter, req(kind, TEXT))
        assert type(err) is E.ContentFiltered and "safety system" in str(err)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [("429,retry-after=2", 2.0), ("429,retry-after-ms=1500", 1.5), ("503,retry-after=7", 7.0)],
)
def test_retry_after(kind: str, make_adapter: MakeAdapter, fault: str, expected: float) -> None:
    err = fail_sync(make_adapter(kind, fault=fault), req(kind, TEXT))
    assert err.retry_after == expected


def test_retry_after_http_date(kind: str, make_adapter: MakeAdapter) -> None:
    err = fail_sync(make_adapter(kind, fault="429,retry-after-date=30"), req(kind, TEXT))
    assert isinstance(err, E.RateLimitError)
    assert err.retry_after is not None and 27.5 <= err.retry_after <= 30.5


def test_timeout_from_a_slow_provider(kind: str, make_adapter: MakeAdapter) -> None:
    # The server answers after 0.5 s, long after the 0.05 s timeout, but soon enough that no
    # delayed answer is still pending when the session's sandbox shuts down.
    request = req(kind, TEXT, timeout=0.05)
    for err in (
        fail_sync(make_adapter(kind, fault="delay=500"), request),
        fail_async(make_adapter(kind, fault="delay=500"), request),
        fail_stream(make_adapter(kind, fault="delay=500"), request)[1],
    ):
        assert type(err) is E.ProviderTimeout and err.status is None


def test_timeout_mid_stream(kind: str, make_adapter: MakeAdapter) -> None:
    _, err = fail_stream(make_adapter(kind, fault="chunk-delay=500"), req(kind, TEXT, timeout=0.1))
    assert type(err) is E.ProviderTimeout


@pytest.mark.parametrize("fault", ["cut=3", "cut=3,clean"])
def test_cut_stream_raises_after_chunks(kind: str, make_adapter: MakeAdapter, fault: str) -> None:
    for run in (fail_stream, fail_astream):
        got, err = run(make_adapter(kind, fault=fault), req(kind, TEXT))
        assert len(got) == 3 and all(c.delta and c.finish_reason is None for c in got)
        assert type(err) is E.ProviderUnavailable
        assert "stream ended before its terminal event" in str(err)


@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        ("stream-error=2", E.ProviderUnavailable),
        ("stream-error=2,429", E.RateLimitError),
        ("badjson", E.ModelError),
    ],
)
def test_broken_streams(
    kind: str, make_adapter: MakeAdapter, fault: str, cls: type[E.ProviderError]
) -> None:
    _, err = fail_stream(make_adapter(kind, fault=fault), req(kind, TEXT))
    assert type(err) is cls
    assert err.provider == f"{kind}-p"


@pytest.mark.parametrize("fault", ["500", "429,retry-after=0", "reset", "529"])
def test_no_sdk_retries(kind: str, make_adapter: MakeAdapter, sb: Sandbox, fault: str) -> None:
    fail_sync(make_adapter(kind, fault=fault), req(kind, TEXT))
    fail_async(make_adapter(kind, fault=fault), req(kind, TEXT))
    assert len(sb.requests) == 2


def test_wrong_key_is_not_echoed(kind: str) -> None:
    secret = "sk-wrong-secret-0123456789"
    with Sandbox(api_key="the-right-key") as strict:
        url = root_url(kind, strict.url)
        settings = ProviderSettings(name="p", base_url=url, **credentials(kind, secret))
        adapter = get_adapter_class(kind)(settings)
        try:
            err = fail_sync(adapter, req(kind, TEXT))
        finally:
            adapter.close()
    assert isinstance(err, E.AuthenticationError)
    for text in (str(err), repr(err), err.message, repr(adapter), str(settings)):
        assert secret not in text and AWS_SECRET not in text


def test_missing_key_is_an_authentication_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for kind, env in (("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")):
        monkeypatch.delenv(env, raising=False)
        adapter = get_adapter_class(kind)(ProviderSettings(name="p", base_url="http://127.0.0.1:9"))
        with pytest.raises(E.AuthenticationError, match=env):
            adapter.complete(req(kind, TEXT))


def test_connection_refused_is_unavailable(kind: str) -> None:
    adapter = get_adapter_class(kind)(
        ProviderSettings(name="p", base_url="http://127.0.0.1:9/v1", **credentials(kind))
    )
    with pytest.raises(E.ProviderUnavailable, match="connection failed"):
        adapter.complete(req(kind, TEXT))


def test_unexpressible_request_is_a_bad_request(make_adapter: MakeAdapter) -> None:
    adapter = make_adapter("anthropic")
    with pytest.raises(E.BadRequestError, match="not supported"):
        adapter.complete(req("anthropic", TEXT, response_format={"type": "grammar"}))


# -- pure functions ----------------------------------------------------------------------------


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("2", now) == 2.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after("0", now) == 0.0
    for bad in ("", "-1", "soon", "nan", "inf", "Mon, 99 Foo 2024"):
        assert parse_retry_after(bad, now) is None, bad
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now) == 30.0
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now) == 0.0
    assert parse_retry_after(formatdate(now + 5), now) == 5.0  # "-0000" zone form


def test_retry_after_headers_case_and_precedence() -> None:
    now = time.time()
    assert retry_after_from_headers({"Retry-After": "3"}, now) == 3.0
    assert retry_after_from_headers({"RETRY-AFTER-MS": "250", "retry-after": "9"}, now) == 0.25
    assert retry_after_from_headers({"retry-after-ms": "x", "retry-after": "9"}, now) == 9.0
    assert retry_after_from_headers({}, now) is None
    assert retry_after_from_headers(None, now) is None


def test_redact() -> None:
    assert redact("bad key sk-abcdef123 given", "sk-abcdef123") == "bad key *** given"
    assert "tok123" not in redact("header Authorization: Bearer tok123", None)
    assert "k9" not in redact("x-api-key: k9", None)
    assert redact("nothing to hide", "sk-abcdef123") == "nothing to hide"
    assert redact("missing x-api-key header", None) == "missing x-api-key header"


def test_a_status_error_carries_the_providers_facts_and_not_the_key() -> None:
    key = "sk-Zq9Wm2Xk7Lp4Rt8Yv3Bn6Hc1"
    body = {
        "error": {
            "message": f"Incorrect API key provided: {key}.",
            "type": "invalid_request_error",
            "code": "invalid_api_key",
        }
    }
    err = status_error(
        401, {"x-request-id": "req_abc123"}, body, provider="oai", model="gpt", secret=key
    )
    assert type(err) is E.AuthenticationError
    assert (err.status, err.request_id) == (401, "req_abc123")
    assert (err.error_type, err.error_code) == ("invalid_request_error", "invalid_api_key")
    assert str(err) == (
        "oai/gpt: authentication failed: Incorrect API key provided: ***. [invalid_api_key] "
        "(HTTP 401, type invalid_request_error, request id req_abc123)"
    )
    # Anthropic puts the id in a request-id header, and in the body of a streamed error.
    streamed = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    streamed["request_id"] = "req_011CAnt"
    err = status_error(None, None, streamed, provider="ant", model="c", secret=None)
    assert (err.request_id, err.error_type) == ("req_011CAnt", "overloaded_error")
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.request_id, clone.error_type, str(clone)) == (
        err.request_id,
        err.error_type,
        str(err),
    )


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (
            None,
            {"type": "error", "error": {"type": "overloaded_error", "message": "x"}},
            E.ProviderUnavailable,
        ),
        (
            None,
            {"error": {"message": "slow down", "code": "rate_limit_exceeded"}},
            E.RateLimitError,
        ),
        (
            400,
            {"error": {"message": "x", "code": "context_length_exceeded"}},
            E.ContextWindowExceeded,
        ),
        (
            400,
            {"error": {"message": "Input is too long for requested model."}},
            E.ContextWindowExceeded,
        ),
        (400, {"error": {"message": "flagged", "code": "content_filter"}}, E.ContentFiltered),
        (413, "<html><title>Too big</title></html>", E.BadRequestError),
        (418, None, E.BadRequestError),
        (None, "garbage", E.ModelError),
    ],
)
def test_status_error_classification(
    status: int | None, body: object, cls: type[E.ProviderError]
) -> None:
    err = status_error(status, None, body, provider="p", model="m", secret=None)
    assert type(err) is cls and err.status == status


@pytest.mark.parametrize(
    ("location", "where"),
    [
        (
            "https://user:pw@elsewhere.example:8443/v1/x?token=t0k3n",
            "https://elsewhere.example:8443",
        ),
        ("http://[::1]:9/v1", "http://[::1]:9"),
        ("/v2/chat/completions?key=t0k3n", "another path on the same host"),
        ("http://[::1", "another address"),  # not a URL anyone could follow
        (None, "another address"),
    ],
)
def test_a_redirect_names_where_it_pointed_by_origin_only(location: str | None, where: str) -> None:
    headers = {"location": location} if location is not None else {}
    err = status_error(302, headers, None, provider="p", model="m", secret=None)
    assert isinstance(err, E.ProviderConfigError) and not err.retriable and err.status == 302
    assert f"a redirect to {where}; redirects are not followed" in str(err)
    assert "t0k3n" not in str(err) and "pw" not in str(err)
