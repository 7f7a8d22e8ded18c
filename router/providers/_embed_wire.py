"""OpenAI's embeddings wire format (``POST /embeddings``), spoken by OpenAI, Azure OpenAI and
OpenAI-compatible servers: the request body, and the answer as a :class:`Response` whose
``vectors`` hold one vector per input, in input order."""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping
from typing import Any

from router.types import Request, Response, Usage

__all__ = ["embed_body", "parse_embeddings"]


def embed_body(request: Request) -> dict[str, Any]:
    assert request.embed is not None
    body: dict[str, Any] = {
        "model": request.model_id,
        "input": list(request.embed),
        "encoding_format": "float",
    }
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    body.update(request.extra)
    return body


def _vector(raw: Any) -> tuple[float, ...]:
    if isinstance(raw, str):  # a server that answers base64 whatever was asked
        data = base64.b64decode(raw)
        return struct.unpack(f"<{len(data) // 4}f", data)
    if not isinstance(raw, list):
        raise TypeError(f"an embedding is a list of numbers, not {type(raw).__name__}")
    return tuple(float(x) for x in raw)


def parse_embeddings(data: Mapping[str, Any], request: Request, latency_s: float) -> Response:
    items = sorted(data["data"], key=lambda item: int(item.get("index", 0)))
    vectors = tuple(_vector(item["embedding"]) for item in items)
    if request.embed is not None and len(vectors) != len(request.embed):
        raise ValueError(f"{len(vectors)} vectors for {len(request.embed)} inputs")
    u = data.get("usage") or {}
    prompt = int(u.get("prompt_tokens") or 0)
    usage = Usage(
        input_tokens=prompt, output_tokens=0, total_tokens=int(u.get("total_tokens") or prompt)
    )
    return Response(
        content="",
        finish_reason="stop",
        usage=usage,
        model=request.model,
        model_id=str(data.get("model") or request.model_id),
        provider=request.provider,
        cost=None,
        latency_s=latency_s,
        vectors=vectors,
    )
