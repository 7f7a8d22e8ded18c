"""``POST /v1/embeddings`` in OpenAI's shape: ``model`` names a task of embedding models,
``input`` is a string or a list of strings, ``encoding_format`` is ``float`` (default) or
``base64`` (the openai SDK's default: little-endian float32), ``dimensions`` is passed to the
models; ``user`` and ``metadata`` become request metadata. Answered with ``Router.aembed``:
the same key checks, budgets, limits and decision headers as the completion endpoints."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from router.errors import RequestError, RouterError
from router.gateway.auth import Principal
from router.gateway.call import merge_metadata, require, routing_hints
from router.gateway.completions import admit, parse_body
from router.gateway.errors import failure_of
from router.gateway.exchange import Exchange, decision_headers
from router.gateway.openai_api import request_metadata
from router.types import Embeddings

__all__ = ["embed", "embeddings_body"]

_KNOWN = frozenset({"model", "input", "encoding_format", "dimensions", "user", "metadata"})


def _read(body: dict[str, Any]) -> tuple[str, Any, str, int | None, dict[str, Any] | None]:
    unknown = sorted(body.keys() - _KNOWN)
    if unknown:
        raise RequestError(
            f"{unknown[0]}: not supported by the gateway's embeddings endpoint "
            f"(accepted: {', '.join(sorted(_KNOWN))})",
            argument=unknown[0],
        )
    task = require(body, "model", str)
    if "input" not in body:
        raise RequestError("input: required", argument="input")
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise RequestError(
            f"encoding_format: expected 'float' or 'base64', got {encoding!r}",
            argument="encoding_format",
        )
    dimensions = body.get("dimensions")
    return task, body["input"], encoding, dimensions, request_metadata(body)


def embeddings_body(e: Embeddings, encoding: str) -> bytes:
    data = []
    for i, vector in enumerate(e.vectors):
        value: Any = list(vector)
        if encoding == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": value})
    usage = {"prompt_tokens": e.usage.input_tokens, "total_tokens": e.usage.input_tokens}
    return json.dumps(
        {"object": "list", "data": data, "model": e.model, "usage": usage},
        separators=(",", ":"),
    ).encode()


async def embed(ex: Exchange, raw: bytes, router: Any, principal: Principal) -> None:
    """Answer one embeddings request on ``router`` (read once by the caller)."""
    try:
        task_name, texts, encoding, dimensions, metadata = _read(parse_body(raw))
        tags, header_metadata = routing_hints(ex.scope["headers"])
    except RequestError as exc:
        await ex.fail(failure_of(exc))
        return
    admitted = await admit(ex, router, principal, task_name, len(raw), 0)
    if admitted is None:
        return
    task, grant = admitted
    params: dict[str, Any] = {}
    if merged := merge_metadata(metadata, header_metadata, principal.metadata):
        params["metadata"] = merged
    if all_tags := [*principal.tags, *tags]:
        params["tags"] = all_tags
    ex.watch()
    try:
        result = await router.aembed(task.name, texts, dimensions=dimensions, **params)
    except RouterError as exc:
        await ex.fail(failure_of(exc))
        return
    ex.answered(result)
    if grant is not None:  # spend recorded before the answer: the next call sees it
        await grant.settle(result)
    await ex.reply(200, embeddings_body(result, encoding), decision_headers(task.name, result))
