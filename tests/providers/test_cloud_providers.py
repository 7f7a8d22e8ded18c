"""What is particular to the cloud provider types (the shared behaviour is in test_adapters.py
and test_errors.py, run for every type): the clouds' paths, their auth, what is read from the
environment (only what the spec names, or the clouds' own variables as their tools read them),
the optional extras, and the AWS event-stream framing of Bedrock's streams."""

from __future__ import annotations

import asyncio
import base64
import json
import sys

import pytest
from provider_helpers import API_KEY, AWS_SECRET, MakeAdapter, req

from router import errors as E
from router.providers import ProviderSettings, get_adapter_class
from router.providers._eventstream import AWSEventStreamDecoder
from router.sandbox import Sandbox
from router.sandbox.wire_cloud import frame

TEXT = "The quick brown fox jumps over the lazy dog."


# -- Azure OpenAI ------------------------------------------------------------------------------


def test_azure_sends_to_the_deployment_with_the_api_version_and_an_api_key_header(
    make_adapter: MakeAdapter, sb: Sandbox
) -> None:
    adapter = make_adapter("azure_openai", api_version="2025-01-01-preview")
    adapter.complete(req("azure_openai", TEXT, model="gpt-4o-eu"))
    list(adapter.stream(req("azure_openai", TEXT, model="gpt-4o-eu")))
    plain, streamed = sb.requests[-2:]
    for rec in (plain, streamed):
        assert rec.raw_path == (
            "/openai/deployments/gpt-4o-eu/chat/completions?api-version=2025-01-01-preview"
        )
        assert rec.headers["api-key"] == "***" and "authorization" not in rec.headers
    assert streamed.body["stream"] is True and streamed.model == "gpt-4o-eu"


def test_azure_with_an_entra_id_token_sends_a_bearer_token_and_no_key(
    make_adapter: MakeAdapter, sb: Sandbox
) -> None:
    adapter = make_adapter("azure_openai", api_key=None, token=API_KEY)
    assert adapter.complete(req("azure_openai", TEXT)).content
    headers = sb.requests[-1].headers
    assert headers["authorization"] == "***" and "api-key" not in headers


def test_azure_reads_none_of_the_sdks_variables(
    make_adapter: MakeAdapter, sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "env-key-that-must-not-be-sent")
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "env-token-that-must-not-be-sent")
    monkeypatch.setenv("OPENAI_API_VERSION", "1999-01-01")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")
    adapter = make_adapter("azure_openai", api_key=None)
    with pytest.raises(E.AuthenticationError, match="no key or token configured"):
        adapter.complete(req("azure_openai", TEXT))
    make_adapter("azure_openai").complete(req("azure_openai", TEXT))
    assert "api-version=2024-10-21" in sb.requests[-1].raw_path


@pytest.mark.parametrize(
    ("settings", "words"),
    [({"base_url": None}, "needs a base_url"), ({"api_version": None}, "needs an api_version")],
)
def test_azure_needs_its_endpoint_and_api_version(
    make_adapter: MakeAdapter, settings: dict[str, object], words: str
) -> None:
    with pytest.raises(E.ProviderConfigError, match=words) as caught:
        make_adapter("azure_openai", **settings)
    assert caught.value.provider == "azure_openai-p"


# -- Bedrock -----------------------------------------------------------------------------------


def test_bedrock_invokes_the_model_path_signed_with_sigv4(
    make_adapter: MakeAdapter, sb: Sandbox
) -> None:
    model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    adapter = make_adapter("anthropic_bedrock")
    adapter.complete(req("anthropic_bedrock", TEXT, model=model))
    chunks = list(adapter.stream(req("anthropic_bedrock", TEXT, model=model)))
    plain, streamed = sb.requests[-2:]
    assert plain.path == f"/model/{model}/invoke"
    assert streamed.path == f"/model/{model}/invoke-with-response-stream"
    for rec in (plain, streamed):
        assert rec.body["anthropic_version"] == "bedrock-2023-05-31"
        assert "x-amz-date" in rec.headers and rec.headers["authorization"] == "***"
    assert "".join(c.delta for c in chunks) and chunks[-1].finish_reason == "stop"


def test_bedrock_with_an_api_key_sends_a_bearer_token_unsigned(
    make_adapter: MakeAdapter, sb: Sandbox
) -> None:
    adapter = make_adapter("anthropic_bedrock", environment={}, api_key=API_KEY)
    assert adapter.complete(req("anthropic_bedrock", TEXT)).content
    assert "x-amz-date" not in sb.requests[-1].headers


def test_bedrock_takes_no_bearer_token_from_the_environment_unless_the_spec_names_it(
    make_adapter: MakeAdapter, sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "a-token-nobody-configured")
    make_adapter("anthropic_bedrock").complete(req("anthropic_bedrock", TEXT))
    assert "x-amz-date" in sb.requests[-1].headers  # signed with the spec's credentials


def test_bedrock_region_from_the_spec_or_aws_region(make_adapter: MakeAdapter) -> None:
    env = {"AWS_ACCESS_KEY_ID": API_KEY, "AWS_SECRET_ACCESS_KEY": AWS_SECRET}
    with pytest.raises(E.ProviderConfigError, match=r"needs a region.*AWS_REGION"):
        make_adapter("anthropic_bedrock", region=None, environment=env)
    adapter = make_adapter(
        "anthropic_bedrock", region=None, environment={**env, "AWS_REGION": "eu-west-3"}
    )
    assert adapter.complete(req("anthropic_bedrock", TEXT)).content
    official = get_adapter_class("anthropic_bedrock")(
        ProviderSettings(name="b", region="eu-west-3", api_key="k")
    )
    assert str(official._clients.client().base_url).startswith(
        "https://bedrock-runtime.eu-west-3.amazonaws.com"
    )


def test_bedrock_without_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if not installed: import fails
    settings = ProviderSettings(name="b", region="us-east-1")
    with pytest.raises(E.ProviderConfigError) as caught:
        get_adapter_class("anthropic_bedrock")(settings)
    assert "pip install 'declarative-llm-router[bedrock]'" in str(caught.value)
    assert caught.value.provider == "b" and caught.value.__cause__ is None
    # A Bedrock API key needs no boto3: nothing is signed.
    get_adapter_class("anthropic_bedrock")(ProviderSettings(name="b", region="x", api_key="k"))


def test_an_aws_secret_never_shows(make_adapter: MakeAdapter) -> None:
    adapter = make_adapter("anthropic_bedrock", fault="403")
    with pytest.raises(E.AuthenticationError) as caught:
        adapter.complete(req("anthropic_bedrock", TEXT))
    for text in (str(caught.value), repr(caught.value), repr(adapter), repr(adapter.settings)):
        assert AWS_SECRET not in text and API_KEY not in text
    assert "AWS_SECRET_ACCESS_KEY" in repr(adapter.settings)  # the name, never the value


def _chunk(event: dict[str, object]) -> bytes:
    payload = {"bytes": base64.b64encode(json.dumps(event).encode()).decode()}
    headers = {":event-type": "chunk", ":message-type": "event"}
    return frame(headers, json.dumps(payload).encode())


def test_the_event_stream_decoder_reads_frames_split_anywhere() -> None:
    events = [{"type": "message_start", "n": 1}, {"type": "message_stop"}]
    exception = frame(
        {":message-type": "exception", ":exception-type": "throttlingException"},
        b'{"message": "Too many requests"}',
    )
    body = b"".join(_chunk(e) for e in events) + exception
    decoder = AWSEventStreamDecoder()
    got = [e for i in range(len(body)) for e in decoder.feed(body[i : i + 1])]
    assert decoder.flush() == []
    assert [name for name, _ in got] == ["message_start", "message_stop", "error"]
    assert json.loads(got[0][1]) == events[0]
    assert json.loads(got[2][1])["error"] == {
        "type": "rate_limit_error",
        "message": "throttlingException: Too many requests",
    }


def test_the_event_stream_decoder_refuses_a_corrupt_frame_and_reports_a_cut_one() -> None:
    good = _chunk({"type": "ping"})
    corrupt = good[:-1] + bytes([good[-1] ^ 0xFF])
    with pytest.raises(ValueError, match="checksum"):
        AWSEventStreamDecoder().feed(corrupt)
    decoder = AWSEventStreamDecoder()
    assert decoder.feed(good[:20]) == []
    ((name, data),) = decoder.flush()  # an event no parser accepts: a malformed answer
    assert name is None and data.startswith("unfinished event stream frame")


# -- Vertex ------------------------------------------------------------------------------------


def test_vertex_posts_raw_predict_for_the_project_and_region(
    make_adapter: MakeAdapter, sb: Sandbox
) -> None:
    adapter = make_adapter("anthropic_vertex", project="my-proj", region="europe-west1")
    adapter.complete(req("anthropic_vertex", TEXT, model="claude-sonnet-4-5@20250929"))

    async def go() -> None:
        try:
            async for _ in adapter.astream(req("anthropic_vertex", TEXT)):
                pass
        finally:
            await adapter.aclose()

    asyncio.run(go())
    plain, streamed = sb.requests[-2:]
    root = "/v1/projects/my-proj/locations/europe-west1/publishers/anthropic/models"
    assert plain.path == f"{root}/claude-sonnet-4-5@20250929:rawPredict"
    assert streamed.path == f"{root}/sandbox-claude:streamRawPredict"
    for rec in (plain, streamed):
        assert rec.body["anthropic_version"] == "vertex-2023-10-16"
        assert rec.headers["authorization"] == "***"


def test_vertex_region_and_project_from_the_environment(make_adapter: MakeAdapter) -> None:
    with pytest.raises(E.ProviderConfigError, match=r"needs a region.*CLOUD_ML_REGION"):
        make_adapter("anthropic_vertex", region=None)
    env = {"CLOUD_ML_REGION": "us-east5", "ANTHROPIC_VERTEX_PROJECT_ID": "p-from-env"}
    adapter = make_adapter("anthropic_vertex", region=None, project=None, environment=env)
    assert adapter.complete(req("anthropic_vertex", TEXT)).content
    with pytest.raises(E.ProviderConfigError, match="needs a project"):
        make_adapter("anthropic_vertex", project=None).complete(req("anthropic_vertex", TEXT))


def test_vertex_without_a_token_uses_application_default_credentials(
    make_adapter: MakeAdapter, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", f"{tmp_path}/no-such-credentials.json")
    adapter = make_adapter("anthropic_vertex", token=None)
    with pytest.raises(E.ProviderConfigError, match="no Google credentials found") as caught:
        adapter.complete(req("anthropic_vertex", TEXT))
    assert caught.value.__cause__ is None and "gcloud auth application-default" in str(caught.value)
    monkeypatch.setitem(sys.modules, "google.auth", None)
    with pytest.raises(E.ProviderConfigError, match=r"declarative-llm-router\[vertex\]"):
        make_adapter("anthropic_vertex", token=None)


@pytest.mark.parametrize("kind", ["azure_openai", "anthropic_bedrock", "anthropic_vertex"])
def test_the_clouds_list_no_models(make_adapter: MakeAdapter, kind: str) -> None:
    adapter = make_adapter(kind)
    if kind == "azure_openai":  # Azure lists the resource's models (GET /openai/models)
        assert "sandbox-gpt" in adapter.list_models()
        return
    with pytest.raises(E.ProviderConfigError, match="no model list"):
        adapter.list_models()
    with pytest.raises(E.ProviderConfigError, match="no model list"):
        asyncio.run(adapter.alist_models())
