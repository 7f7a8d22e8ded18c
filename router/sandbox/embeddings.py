"""What the sandbox answers at ``POST /v1/embeddings`` (and Azure's
``/openai/deployments/{deployment}/embeddings``): deterministic unit vectors, one per input,
of the asked-for ``dimensions`` (else the model's usual length), with OpenAI's usage. The
same text gives the same vector on every run, so tests can compare them."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from typing import Any
from urllib.parse import unquote

from .answer import Prompt
from .wire import Wire

__all__ = ["DEFAULT_DIMENSIONS", "EmbedCall", "embed_route", "parse_embed", "render_embed"]

#: Vector lengths of well-known embedding models; any other model id: DEFAULT_DIMENSIONS.
KNOWN_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
DEFAULT_DIMENSIONS = 64
_PATHS = ("/v1/embeddings", "/embeddings")
_AZURE = re.compile(r"^/openai/deployments/([^/]+)/embeddings$")


def embed_route(path: str) -> tuple[bool, str | None] | None:
    """(is embeddings, the model the path names) for an embeddings path, else None."""
    if path in _PATHS:
        return True, None
    if found := _AZURE.match(path):
        return True, unquote(found.group(1))
    return None


class EmbedCall:
    __slots__ = ("dimensions", "encoding", "texts")

    def __init__(self, texts: list[str], dimensions: int, encoding: str) -> None:
        self.texts = texts
        self.dimensions = dimensions
        self.encoding = encoding


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def parse_embed(wire: Wire, body: Any) -> tuple[Prompt, EmbedCall]:
    """The request as a Prompt (for faults and errors) and what to embed; a 400 in OpenAI's
    shape for anything the real endpoint refuses."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise wire.invalid("you must provide a model parameter")
    raw = body.get("input")
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise wire.invalid("'input' must be a non-empty string or array")
    if all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
        raw = [" ".join(map(str, raw))]  # one input of token ids
    texts: list[str] = []
    for entry in raw:
        item = " ".join(map(str, entry)) if isinstance(entry, list) else entry
        if not isinstance(item, str) or not item:
            raise wire.invalid("'input' must be a string, an array of strings or of tokens")
        texts.append(item)
    dims = body.get("dimensions")
    if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims < 1):
        raise wire.invalid("'dimensions' must be an integer of 1 or more")
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise wire.invalid("'encoding_format' must be 'float' or 'base64'")
    size = dims or KNOWN_DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
    tokens = sum(_tokens(t) for t in texts)
    prompt = Prompt(api="openai", model=model, user_text=texts[0], prompt_tokens=tokens)
    return prompt, EmbedCall(texts, size, encoding)


def vector(text: str, size: int) -> list[float]:
    """A unit vector of ``size`` that only ``text`` gives."""
    out: list[float] = []
    counter = 0
    while len(out) < size:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        out.extend((b - 127.5) / 127.5 for b in digest)
        counter += 1
    del out[size:]
    norm = math.sqrt(sum(x * x for x in out)) or 1.0
    return [round(x / norm, 6) for x in out]


def render_embed(prompt: Prompt, call: EmbedCall) -> dict[str, Any]:
    data = []
    for i, text in enumerate(call.texts):
        vec: Any = vector(text, call.dimensions)
        if call.encoding == "base64":
            vec = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
        data.append({"object": "embedding", "index": i, "embedding": vec})
    return {
        "object": "list",
        "data": data,
        "model": prompt.model,
        "usage": {"prompt_tokens": prompt.prompt_tokens, "total_tokens": prompt.prompt_tokens},
    }
