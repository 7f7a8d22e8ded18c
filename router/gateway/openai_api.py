"""OpenAI's Chat Completions on the wire: a request body read into a router call, and the
Response (or the stream of Chunks) written back as OpenAI writes it.

Read: ``model`` is the task; ``messages`` (the ``developer`` role is read as ``system``);
``max_tokens`` or ``max_completion_tokens``; ``temperature``, ``top_p``, ``stop``, ``seed``,
``presence_penalty``, ``frequency_penalty``, ``tools``, ``tool_choice``, ``response_format``
as the router takes them; ``stream`` and ``stream_options.include_usage``; ``metadata`` and
``user`` become request metadata (``user`` as ``metadata.user``); ``reasoning_effort``. Any
other field is a provider parameter (``service_tier``, ``top_k``...): passed to the Router
when the spec declares it under ``extra_params`` (which checks it against the task's models),
refused (400 naming it) when the spec declares it nowhere. ``store``, ``parallel_tool_calls``,
``service_tier`` and ``prediction`` are the exception: undeclared, they are accepted and
ignored, as clients send them by habit. ``n: 1`` and ``logprobs: false`` are accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

from router.errors import RequestError
from router.gateway.call import GatewayCall, merge_metadata, provider_params, require
from router.types import Chunk, Response, Usage

__all__ = ["StreamWriter", "chat_call", "completion_body", "request_metadata"]

_PASSED = (
    "temperature",
    "top_p",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "tools",
    "tool_choice",
    "response_format",
    "reasoning_effort",
)
_IGNORED = frozenset({"store", "parallel_tool_calls", "service_tier", "prediction"})
_KNOWN = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "metadata",
        "user",
        "n",
        "logprobs",
        *_PASSED,
        *_IGNORED,
    }
)


def _messages(raw: object) -> list[Any]:
    if not isinstance(raw, list):
        raise RequestError("messages: expected a list of messages", argument="messages")
    out: list[Any] = []
    for m in raw:
        developer = isinstance(m, dict) and m.get("role") == "developer"
        out.append({**m, "role": "system"} if developer else m)
    return out


def request_metadata(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """An OpenAI request body's ``metadata``, with its ``user`` (the end user's id) added as
    ``metadata.user``; RequestError naming the field when either has the wrong type."""
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise RequestError("metadata: expected an object of string values", argument="metadata")
    user = body.get("user")
    if user is not None:
        if not isinstance(user, str):
            raise RequestError("user: expected a string", argument="user")
        metadata = {**(metadata or {}), "user": user}
    return metadata


def chat_call(
    body: Mapping[str, Any], declared: Callable[[], Collection[str]] = frozenset
) -> GatewayCall:
    """The router call a Chat Completions body asks for; RequestError naming what is wrong.
    ``declared()``: the provider parameters the spec declares."""
    passes = ", ".join(sorted(_KNOWN - _IGNORED))
    extra = provider_params(body, _KNOWN - _IGNORED, _IGNORED, declared, passes)
    task = require(body, "model", str)
    params: dict[str, Any] = {k: body[k] for k in _PASSED if body.get(k) is not None}
    params.update(extra)
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    if body.get("n") not in (None, 1):
        raise RequestError(
            "n: the gateway returns one choice; send n: 1 or leave it out", argument="n"
        )
    if body.get("logprobs"):
        raise RequestError("logprobs: not supported by the gateway", argument="logprobs")
    metadata = request_metadata(body)
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise RequestError("stream: expected true or false", argument="stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise RequestError("stream_options: expected an object", argument="stream_options")
    return GatewayCall(
        task=task,
        messages=_messages(body.get("messages")),
        params=params,
        stream=stream,
        include_usage=bool(options.get("include_usage")),
        metadata=merge_metadata(metadata),
    )


def _usage(u: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
    }


def completion_body(r: Response, completion_id: str, created: int) -> bytes:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": r.content if (r.content or not r.tool_calls) else None,
        "refusal": None,
    }
    if r.tool_calls:
        message["tool_calls"] = [c.to_dict() for c in r.tool_calls]
    return json.dumps(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": r.model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": r.finish_reason}
            ],
            "usage": _usage(r.usage),
        },
        separators=(",", ":"),
    ).encode()


class StreamWriter:
    """Chunks as ``chat.completion.chunk`` SSE events, then the usage chunk (when asked for)
    and ``data: [DONE]``."""

    __slots__ = ("_head", "_include_usage", "_usage_null")

    def __init__(self, completion_id: str, created: int, model: str, include_usage: bool) -> None:
        head = json.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
            },
            separators=(",", ":"),
        )
        self._head = head[:-1]  # the object without its closing brace
        self._include_usage = include_usage
        self._usage_null = ',"usage":null' if include_usage else ""

    def _event(self, choices: str, usage: str | None = None) -> bytes:
        tail = self._usage_null if usage is None else f',"usage":{usage}'
        return f'data: {self._head},"choices":{choices}{tail}}}\n\n'.encode()

    def _delta(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return self._event("[" + json.dumps(choice, separators=(",", ":")) + "]")

    def start(self) -> bytes:
        return self._delta({"role": "assistant", "content": ""})

    def chunk(self, chunk: Chunk) -> bytes:
        out = b""
        if chunk.delta:
            out += self._delta({"content": chunk.delta})
        if chunk.tool_calls:
            calls = [{"index": i, **c.to_dict()} for i, c in enumerate(chunk.tool_calls)]
            out += self._delta({"tool_calls": calls})
        if chunk.finish_reason is not None:
            out += self._delta({}, chunk.finish_reason)
        return out

    def end(self, usage: Usage | None) -> bytes:
        out = b""
        if self._include_usage:
            out += self._event("[]", json.dumps(_usage(usage or Usage()), separators=(",", ":")))
        return out + b"data: [DONE]\n\n"

    @staticmethod
    def error(error_body: bytes) -> bytes:
        """A failure after the stream started, as OpenAI sends one: an ``error`` event."""
        return b"data: " + error_body + b"\n\n"
