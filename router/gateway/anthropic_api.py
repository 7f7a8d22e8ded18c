"""Anthropic's Messages API on the wire: a request body read into a router call (its content
blocks turned into the OpenAI-shaped messages the Router takes), and the Response, or the
Chunks, written back as Anthropic writes them (``message_start``, ``content_block_start``,
``content_block_delta``, ``content_block_stop``, ``message_delta``, ``message_stop``).

Read: ``model`` (the task), ``max_tokens`` (required, as Anthropic requires it), ``messages``
(text, image, tool_use and tool_result blocks), ``system`` (text or text blocks),
``stop_sequences``, ``temperature``, ``top_p``, ``tools``, ``tool_choice`` (auto, any, tool,
none), ``metadata`` (becomes request metadata), ``stream``. ``cache_control`` marks on
system, user text and image blocks and tools go through to the router (and on to
Anthropic-wire providers). Accepted and ignored: marks on assistant turns, ``thinking`` blocks
in earlier assistant turns. Any other field (``top_k``, ``service_tier``...) is a provider
parameter: passed to the Router when the spec declares it under ``extra_params`` (which checks
it against the task's models); ``service_tier`` undeclared is ignored, as before; anything
else undeclared (``thinking``, documents...) is refused with a 400 naming it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

from router.errors import RequestError
from router.gateway.call import GatewayCall, merge_metadata, provider_params, require
from router.types import Chunk, Response, ToolCall, Usage

__all__ = ["StreamWriter", "message_body", "messages_call"]

_IGNORED = frozenset({"service_tier"})
_KNOWN = frozenset(
    {
        "model",
        "max_tokens",
        "messages",
        "system",
        "stop_sequences",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "metadata",
        "stream",
        *_IGNORED,
    }
)
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}


def _bad(where: str, problem: str) -> RequestError:
    return RequestError(f"{where}: {problem}", argument=where)


def _text_of(raw: object, where: str) -> str:
    """A string, or a list of text blocks, as one string."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):
        parts = []
        for i, block in enumerate(raw):
            if not isinstance(block, dict) or block.get("type") != "text":
                raise _bad(f"{where}[{i}]", "expected a text block")
            parts.append(block.get("text") or "")
        return "".join(parts)
    raise _bad(where, "expected a string or a list of text blocks")


def _image(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    url: object
    if isinstance(source, dict) and source.get("type") == "base64":
        url = f"data:{source.get('media_type')};base64,{source.get('data')}"
    elif isinstance(source, dict) and source.get("type") == "url":
        url = source.get("url")
    else:
        raise _bad(
            f"{where}.source", "expected {type: base64, media_type, data} or {type: url, url}"
        )
    return {"type": "image_url", "image_url": {"url": url}}


def _marked(part: dict[str, Any], block: Mapping[str, Any]) -> dict[str, Any]:
    """``part`` with the block's prompt-cache mark, if it has one (checked by the router)."""
    if block.get("cache_control") is not None:
        part["cache_control"] = block["cache_control"]
    return part


def _system(raw: object) -> str | list[dict[str, Any]]:
    """The system prompt: its text, or its text blocks when one carries a cache mark."""
    if isinstance(raw, list) and any(isinstance(b, dict) and "cache_control" in b for b in raw):
        _text_of(raw, "system")  # the same checks
        return [_marked({"type": "text", "text": b.get("text") or ""}, b) for b in raw]
    return _text_of(raw, "system")


def _turn(message: object, i: int) -> list[dict[str, Any]]:
    """One Anthropic message as OpenAI-shaped messages (tool results become tool messages,
    placed first, as they answer the previous assistant turn's calls)."""
    where = f"messages[{i}]"
    if not isinstance(message, dict):
        raise _bad(where, "expected an object with role and content")
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise _bad(f"{where}.role", f"{role!r} is not user or assistant")
    content = message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise _bad(f"{where}.content", "expected a string or a list of content blocks")
    tools: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for j, block in enumerate(content):
        at = f"{where}.content[{j}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            parts.append(_marked({"type": "text", "text": block.get("text")}, block))
        elif kind == "image":
            parts.append(_marked(_image(block, at), block))
        elif kind == "tool_use" and role == "assistant":
            arguments = json.dumps(block.get("input") or {})
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
        elif kind == "tool_result" and role == "user":
            raw = block.get("content")
            text = "" if raw is None else _text_of(raw, f"{at}.content")
            if block.get("is_error"):
                text = f"(tool error) {text}"
            tools.append(
                {"role": "tool", "tool_call_id": block.get("tool_use_id"), "content": text}
            )
        elif kind in ("thinking", "redacted_thinking") and role == "assistant":
            continue
        else:
            raise _bad(at, f"content block type {kind!r} is not supported by the gateway")
    out = tools
    if role == "assistant":
        text = "".join(p["text"] or "" for p in parts if p["type"] == "text")
        if parts or calls:
            turn: dict[str, Any] = {
                "role": "assistant",
                "content": text if text or not calls else None,
            }
            if calls:
                turn["tool_calls"] = calls
            out.append(turn)
    elif parts or not tools:
        out.append({"role": "user", "content": parts})
    return out


def _tool_choice(raw: object) -> object:
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind in ("auto", "none"):
        return kind
    if kind == "any":
        return "required"
    if kind == "tool" and isinstance(raw, dict):
        return {"type": "function", "function": {"name": raw.get("name")}}
    raise _bad(
        "tool_choice", "expected {type: auto}, {type: any}, {type: none} or {type: tool, name}"
    )


def messages_call(
    body: Mapping[str, Any], declared: Callable[[], Collection[str]] = frozenset
) -> GatewayCall:
    """The router call a Messages body asks for; RequestError naming what is wrong.
    ``declared()``: the provider parameters the spec declares."""
    known = _KNOWN - _IGNORED
    extra = provider_params(body, known, _IGNORED, declared, ", ".join(sorted(known)))
    task = require(body, "model", str)
    params: dict[str, Any] = {"max_tokens": require(body, "max_tokens", int), **extra}
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            params[name] = body[name]
    if body.get("stop_sequences"):
        params["stop"] = body["stop_sequences"]
    if body.get("tools"):
        params["tools"] = body["tools"]
        if body.get("tool_choice") is not None:
            params["tool_choice"] = _tool_choice(body["tool_choice"])
    raw = body.get("messages")
    if not isinstance(raw, list):
        raise _bad("messages", "expected a list of messages")
    messages: list[dict[str, Any]] = []
    if body.get("system"):
        messages.append({"role": "system", "content": _system(body["system"])})
    for i, message in enumerate(raw):
        messages += _turn(message, i)
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _bad("metadata", "expected an object")
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise _bad("stream", "expected true or false")
    return GatewayCall(task, messages, params, stream, metadata=merge_metadata(metadata))


def _usage(u: Usage) -> dict[str, int]:
    return {
        "input_tokens": u.uncached_input_tokens,
        "output_tokens": u.output_tokens,
        "cache_read_input_tokens": u.cached_input_tokens,
        "cache_creation_input_tokens": u.cache_write_tokens,
    }


def _tool_use(call: ToolCall) -> dict[str, Any]:
    try:
        arguments: dict[str, Any] = call.parsed_arguments()
    except ValueError:  # the model wrote bad JSON: kept, so nothing is lost
        arguments = {"_unparsed_arguments": call.arguments}
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": arguments}


def message_body(r: Response, message_id: str) -> bytes:
    content: list[dict[str, Any]] = []
    if r.content or not r.tool_calls:
        content.append({"type": "text", "text": r.content})
    content += [_tool_use(c) for c in r.tool_calls]
    return json.dumps(
        {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": r.model,
            "content": content,
            "stop_reason": STOP_REASONS.get(r.finish_reason, "end_turn"),
            "stop_sequence": None,
            "usage": _usage(r.usage),
        },
        separators=(",", ":"),
    ).encode()


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class StreamWriter:
    """Chunks as Anthropic's stream events: one text block (opened at the first text), then
    one tool_use block per tool call, then message_delta and message_stop."""

    __slots__ = ("_blocks", "_finish", "_id", "_model", "_text_open")

    def __init__(self, message_id: str, model: str) -> None:
        self._id = message_id
        self._model = model
        self._blocks = 0
        self._text_open = False
        self._finish = "end_turn"

    def start(self) -> bytes:
        message: dict[str, Any] = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return _event("message_start", {"type": "message_start", "message": message})

    def _close_text(self) -> bytes:
        if not self._text_open:
            return b""
        self._text_open = False
        self._blocks += 1
        return _event(
            "content_block_stop", {"type": "content_block_stop", "index": self._blocks - 1}
        )

    def chunk(self, chunk: Chunk) -> bytes:
        out = b""
        if chunk.delta:
            if not self._text_open:
                self._text_open = True
                block = {"type": "text", "text": ""}
                out += _event(
                    "content_block_start",
                    {"type": "content_block_start", "index": self._blocks, "content_block": block},
                )
            delta = {"type": "text_delta", "text": chunk.delta}
            out += _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": self._blocks, "delta": delta},
            )
        if chunk.tool_calls or chunk.finish_reason is not None:
            out += self._close_text()
        for call in chunk.tool_calls:
            i = self._blocks
            self._blocks += 1
            tool: dict[str, Any] = {"type": "tool_use", "id": call.id, "name": call.name}
            tool["input"] = {}
            partial = {"type": "input_json_delta", "partial_json": call.arguments}
            out += _event(
                "content_block_start",
                {"type": "content_block_start", "index": i, "content_block": tool},
            )
            out += _event(
                "content_block_delta", {"type": "content_block_delta", "index": i, "delta": partial}
            )
            out += _event("content_block_stop", {"type": "content_block_stop", "index": i})
        if chunk.finish_reason is not None:
            self._finish = STOP_REASONS.get(chunk.finish_reason, "end_turn")
        return out

    def end(self, usage: Usage | None) -> bytes:
        delta = {"stop_reason": self._finish, "stop_sequence": None}
        out = self._close_text()
        out += _event(
            "message_delta",
            {"type": "message_delta", "delta": delta, "usage": _usage(usage or Usage())},
        )
        return out + _event("message_stop", {"type": "message_stop"})

    @staticmethod
    def error(error_body: bytes) -> bytes:
        return b"event: error\ndata: " + error_body + b"\n\n"
