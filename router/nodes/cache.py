"""Response cache: the top node of a target's stack.

The key is the SHA-256 of canonical JSON over everything that changes the answer: the model
that answers (spec name and provider id), the messages (an embedding call's texts and
dimensions) (prompt-cache markers included: they
change what the provider bills), every generation parameter (tools and their markers,
response_format and seed included) and the namespace (the task's, or the call's ``tenant``).
API keys and headers never enter it. Only complete answers are stored: errors and cut streams
never are, and a task caches calls with temperature above 0 only when it opts in. A fallback's
answer is stored under the model that produced it (each target has its own cache node). A
cached answer to a streaming call replays as a stream.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import AsyncGenerator, Iterator, Mapping
from dataclasses import asdict
from types import MappingProxyType

from router.nodes.base import Node, Wrapper
from router.state.base import StateBackend
from router.types import Chunk, Request, Response, ToolCall, Usage

KEY_VERSION = 1
_WORDS = re.compile(r"\S+\s*|\s+")


def cache_key(request: Request, namespace: str) -> str:
    """SHA-256 over the canonical JSON of what determines the answer."""
    payload = {
        "v": KEY_VERSION,
        "ns": namespace,
        "model": request.model,
        "model_id": request.model_id,
        "messages": [m.to_dict() for m in request.messages],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop": list(request.stop),
        "seed": request.seed,
        "tools": [
            {"name": t.name, "description": t.description, "parameters": t.parameters}
            | ({"cache_control": dict(t.cache_control)} if t.cache_control is not None else {})
            for t in request.tools
        ],
        "tool_choice": request.tool_choice,
        "response_format": request.response_format,
        "extra": dict(request.extra),
    }
    if request.embed is not None:  # an embedding call: the texts, in order, and the length
        payload["embed"] = list(request.embed)
        payload["dimensions"] = request.dimensions
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: object) -> object:
    """Read-only mappings (a tool's default parameters, markers) as the dicts they show."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"a {type(value).__name__} is not JSON")


def encode(response: Response) -> bytes:
    data: dict[str, object] = {
        "content": response.content,
        "finish_reason": response.finish_reason,
        "usage": asdict(response.usage),
        "model": response.model,
        "model_id": response.model_id,
        "provider": response.provider,
        "tool_calls": [asdict(c) for c in response.tool_calls],
        "raw_id": response.raw_id,
        "reasoning": response.reasoning,
        "thinking_blocks": [dict(b) for b in response.thinking_blocks],
    }
    if response.vectors:
        data["vectors"] = [list(v) for v in response.vectors]
    return json.dumps(data, separators=(",", ":")).encode()


def decode(raw: bytes) -> Response | None:
    try:
        data = json.loads(raw)
        return Response(
            content=data["content"],
            finish_reason=data["finish_reason"],
            usage=Usage(**data["usage"]),
            model=data["model"],
            model_id=data["model_id"],
            provider=data["provider"],
            cost=None,
            latency_s=0.0,
            cached=True,
            tool_calls=tuple(ToolCall(**c) for c in data["tool_calls"]),
            raw_id=data.get("raw_id"),
            reasoning=data.get("reasoning"),
            thinking_blocks=tuple(MappingProxyType(b) for b in data.get("thinking_blocks", ())),
            vectors=tuple(tuple(float(x) for x in v) for v in data.get("vectors", ())),
        )
    except (ValueError, KeyError, TypeError):
        return None  # an entry from another version or a corrupted one: treat as a miss


def replay(response: Response) -> Iterator[Chunk]:
    """A cached answer as a stream: its reasoning, then word by word, then the final chunk."""
    if response.reasoning:
        yield Chunk(
            "", response.model, response.provider, cached=True, reasoning=response.reasoning
        )
    for piece in _WORDS.findall(response.content):
        yield Chunk(piece, response.model, response.provider, cached=True)
    yield Chunk(
        "",
        response.model,
        response.provider,
        finish_reason=response.finish_reason,
        usage=response.usage,
        tool_calls=response.tool_calls,
        cached=True,
        thinking_blocks=response.thinking_blocks,
    )


class CacheNode(Wrapper):
    """Looks the request up before calling the rest of the stack; stores complete answers.
    Whether and how long is decided per call (the task's cache policy, the call's bypass):
    ``request.cache_ttl`` None means "not cached"."""

    __slots__ = ("backend",)

    def __init__(self, wrapped: Node, backend: StateBackend) -> None:
        self.wrapped = wrapped
        self.backend = backend

    def describe(self) -> str:
        return "cache"

    @staticmethod
    def _key(request: Request) -> tuple[str, float] | None:
        if request.cache_ttl is None:
            return None
        return cache_key(request, request.cache_namespace), request.cache_ttl

    def _lookup(self, key: tuple[str, float] | None) -> Response | None:
        if key is None:
            return None
        raw = self.backend.cache_get(key[0])
        return decode(raw) if raw is not None else None

    async def _alookup(self, key: tuple[str, float] | None) -> Response | None:
        if key is None:
            return None
        raw = await self.backend.acache_get(key[0])
        return decode(raw) if raw is not None else None

    def complete(self, request: Request) -> Response:
        key = self._key(request)
        hit = self._lookup(key)
        if hit is not None:
            return hit
        response = self.wrapped.complete(request)
        if key is not None:
            self.backend.cache_set(key[0], encode(response), key[1])
        return response

    async def acomplete(self, request: Request) -> Response:
        key = self._key(request)
        hit = await self._alookup(key)
        if hit is not None:
            return hit
        response: Response = await self.wrapped.acomplete(request)
        if key is not None:
            await self.backend.acache_set(key[0], encode(response), key[1])
        return response

    @staticmethod
    def _assemble(request: Request, parts: list[str], last: Chunk) -> Response:
        return Response(
            content="".join(parts),
            finish_reason=last.finish_reason or "stop",
            usage=last.usage or Usage(),
            model=request.model,
            model_id=request.model_id,
            provider=request.provider,
            cost=None,
            latency_s=0.0,
            tool_calls=last.tool_calls,
        )

    def stream(self, request: Request) -> Iterator[Chunk]:
        key = self._key(request)
        hit = self._lookup(key)
        if hit is not None:
            yield from replay(hit)
            return
        parts: list[str] = []
        last: Chunk | None = None
        for chunk in self.wrapped.stream(request):
            parts.append(chunk.delta)
            if chunk.finish_reason is not None:
                last = chunk
            yield chunk
        # Reached only when the stream ended cleanly after its terminal chunk: a cut stream
        # raises before this line and is never stored.
        if last is not None and key is not None:
            done = self._assemble(request, parts, last)
            self.backend.cache_set(key[0], encode(done), key[1])

    async def astream(self, request: Request) -> AsyncGenerator[Chunk, None]:
        key = self._key(request)
        hit = await self._alookup(key)
        if hit is not None:
            for chunk in replay(hit):
                yield chunk
            return
        parts: list[str] = []
        last: Chunk | None = None
        async with contextlib.aclosing(self.wrapped.astream(request)) as chunks:
            async for chunk in chunks:
                parts.append(chunk.delta)
                if chunk.finish_reason is not None:
                    last = chunk
                yield chunk
        if last is not None and key is not None:
            done = self._assemble(request, parts, last)
            await self.backend.acache_set(key[0], encode(done), key[1])
