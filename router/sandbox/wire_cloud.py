"""The clouds' endpoints for the same two APIs: Azure OpenAI (Chat Completions under
``/openai/deployments/{deployment}/...?api-version=``, keyed by an ``api-key`` header or an
Entra ID bearer token), Claude on Vertex AI (``.../publishers/anthropic/models/{m}:rawPredict``
and ``:streamRawPredict``, bearer access token, ``anthropic_version`` in the body) and Claude
on Bedrock (``/model/{id}/invoke`` and ``/invoke-with-response-stream``, SigV4-signed or a
bearer API key, errors as ``{"message"}`` with ``x-amzn-ErrorType``, streams in the AWS
event-stream binary framing)."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from .answer import Completion, Prompt
from .http11 import Headers, dumps
from .wire import StreamPlan, Wire, WireError, bearer_token
from .wire_anthropic import AnthropicWire
from .wire_openai import OpenAIWire

__all__ = ["AzureWire", "BedrockWire", "CloudRoute", "VertexWire", "cloud_route", "frame"]

_AZURE = re.compile(r"^/openai/deployments/([^/]+)/chat/completions$")
_VERTEX = re.compile(
    r"^/v1/projects/[^/]+/locations/[^/]+/publishers/anthropic/models/([^/:]+):"
    r"(rawPredict|streamRawPredict)$"
)
_BEDROCK = re.compile(r"^/model/([^/]+)/(invoke|invoke-with-response-stream)$")
_SIGV4 = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/[^,]*/bedrock/aws4_request,")


@dataclass(frozen=True, slots=True)
class CloudRoute:
    """A completion at a cloud's path: the wire, and the model (and streaming) the path says."""

    wire: Wire
    model: str
    stream: bool | None  # None: the body says


class AzureWire(OpenAIWire):
    def check_auth(self, headers: Mapping[str, str], api_key: str | None) -> None:
        key = headers.get("api-key") or bearer_token(headers)
        if not key:
            raise WireError(
                401,
                {
                    "error": {
                        "code": "401",
                        "message": "Access denied due to missing subscription key. Make sure "
                        "to include subscription key when making requests to an API.",
                    }
                },
            )
        if api_key is not None and key != api_key:
            raise WireError(
                401,
                {
                    "error": {
                        "code": "401",
                        "message": "Access denied due to invalid subscription key or wrong "
                        "API endpoint. Make sure to provide a valid key for an active "
                        "subscription and use a correct regional API endpoint for your resource.",
                    }
                },
            )


class VertexWire(AnthropicWire):
    def check_auth(self, headers: Mapping[str, str], api_key: str | None) -> None:
        token = bearer_token(headers)
        if not token or (api_key is not None and token != api_key):
            raise WireError(
                401,
                {
                    "error": {
                        "code": 401,
                        "message": "Request had invalid authentication credentials. Expected "
                        "OAuth 2 access token, login cookie or other valid authentication "
                        "credential.",
                        "status": "UNAUTHENTICATED",
                    }
                },
            )

    def parse(self, body: Any) -> Prompt:
        return super().parse(_versioned(self, body, "vertex-2023-10-16"))


def _versioned(wire: Wire, body: Any, version: str) -> Any:
    if not isinstance(body, dict):
        return body
    if body.get("anthropic_version") != version:
        raise wire.invalid(f"anthropic_version: Input should be '{version}'")
    return {k: v for k, v in body.items() if k != "anthropic_version"}


_BEDROCK_ERRORS = {
    400: "ValidationException",
    401: "UnrecognizedClientException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
    504: "ModelTimeoutException",
    529: "ServiceUnavailableException",
}


def _exception(status: int) -> str:
    found = _BEDROCK_ERRORS.get(status)
    if found:
        return found
    return "InternalServerException" if status >= 500 else "ValidationException"


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        bytes([len(raw_name)]) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value
    )


def frame(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message (prelude, CRCs, string headers, payload)."""
    head = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + head + payload
    return body + struct.pack(">I", zlib.crc32(body))


def _chunk_frame(sse: bytes) -> bytes:
    data = next(line[6:] for line in sse.split(b"\n") if line.startswith(b"data: "))
    payload = dumps({"bytes": base64.b64encode(data).decode(), "p": "abcd"})
    return frame(
        {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"},
        payload,
    )


class BedrockWire(AnthropicWire):
    stream_content_type = "application/vnd.amazon.eventstream"

    def check_auth(self, headers: Mapping[str, str], api_key: str | None) -> None:
        signed = _SIGV4.match(headers.get("authorization", ""))
        key = signed.group(1) if signed else bearer_token(headers)
        if signed and not headers.get("x-amz-date"):
            raise self._error(403, "Signature expired or missing X-Amz-Date.")
        if not key:
            raise self._error(403, "Missing Authentication Token")
        if api_key is not None and key != api_key:
            raise self._error(403, "The security token included in the request is invalid.")

    def parse(self, body: Any) -> Prompt:
        return super().parse(_versioned(self, body, "bedrock-2023-05-31"))

    def _error(self, status: int, message: str, headers: Headers = ()) -> WireError:
        name = _exception(status)
        return WireError(
            status,
            {"message": message},
            [
                (
                    "x-amzn-errortype",
                    f"{name}:http://internal.amazon.com/coral/com.amazon.bedrock/",
                ),
                *headers,
            ],
        )

    def _rewrap(self, err: WireError) -> WireError:
        inner = err.body.get("error") if isinstance(err.body, dict) else None
        message = inner.get("message") if isinstance(inner, dict) else None
        return self._error(err.status, str(message or "error"), err.headers)

    def status_error(
        self,
        status: int,
        model: str,
        *,
        quota: bool = False,
        credential: str | None = None,
        echo: bool = False,
    ) -> WireError:
        return self._rewrap(
            super().status_error(status, model, quota=quota, credential=credential, echo=echo)
        )

    def context_error(self, prompt: Prompt) -> WireError:
        return self._rewrap(super().context_error(prompt))

    def filter_error(self) -> WireError:
        return self._rewrap(super().filter_error())

    def invalid(self, message: str) -> WireError:
        return self._error(400, message)

    def stream(self, completion: Completion, prompt: Prompt) -> StreamPlan:
        plan = super().stream(completion, prompt)
        return StreamPlan(
            preamble=[_chunk_frame(e) for e in plan.preamble if b"event: ping" not in e],
            content=[_chunk_frame(e) for e in plan.content],
            terminal=[_chunk_frame(e) for e in plan.terminal],
        )

    def stream_error_event(self, status: int) -> bytes:
        name = _exception(status)
        exception = name[0].lower() + name[1:]
        message = json.dumps({"message": f"Sandbox injected a {status} error mid-stream."})
        return frame(
            {
                ":exception-type": exception,
                ":content-type": "application/json",
                ":message-type": "exception",
            },
            message.encode(),
        )

    def id_headers(self, request_id: str) -> Headers:
        return [("x-amzn-requestid", request_id)]


AZURE, VERTEX, BEDROCK = AzureWire(), VertexWire(), BedrockWire()


def cloud_route(path: str) -> CloudRoute | None:
    """The cloud completion ``path`` (without its query) names, or None."""
    if found := _AZURE.match(path):
        return CloudRoute(AZURE, unquote(found.group(1)), None)
    if found := _VERTEX.match(path):
        return CloudRoute(VERTEX, unquote(found.group(1)), found.group(2) == "streamRawPredict")
    if found := _BEDROCK.match(path):
        stream = found.group(2) == "invoke-with-response-stream"
        return CloudRoute(BEDROCK, unquote(found.group(1)), stream)
    return None
