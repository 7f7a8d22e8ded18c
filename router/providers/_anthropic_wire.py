"""The Anthropic Messages wire format: request bodies out, responses and stream events in.

Differences from Chat Completions that this module absorbs: system prompts travel in a
top-level ``system`` field; ``max_tokens`` is mandatory; tool calls are ``tool_use`` content
blocks whose input is a JSON object (not text); tool results are ``tool_result`` blocks inside a
*user* turn; and ``input_tokens`` excludes prompt-cache reads and writes, which we add back so
that :class:`~router.types.Usage` means the same for every provider.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from router.errors import ProviderUnavailable
from router.providers import _errors
from router.providers._openai_wire import jsonable, tool_choice_mode
from router.types import (
    Chunk,
    ImagePart,
    Message,
    Part,
    Request,
    Response,
    TextPart,
    ToolCall,
    ToolDefinition,
    Usage,
)

__all__ = ["AnthropicStream", "build_body", "parse_response"]

STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
_TOOL_CHOICE = {"auto": {"type": "auto"}, "none": {"type": "none"}, "required": {"type": "any"}}


def _blocks(content: str | tuple[Part, ...]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return [_block(p) for p in content]


def _block(p: Part) -> dict[str, Any]:
    if isinstance(p, TextPart):
        block: dict[str, Any] = {"type": "text", "text": p.text}
    else:
        assert isinstance(p, ImagePart)
        if p.data is not None:
            source = {"type": "base64", "media_type": p.media_type, "data": p.data}
        else:
            source = {"type": "url", "url": p.url}
        block = {"type": "image", "source": source}
    if p.cache_control is not None:  # passed through untouched
        block["cache_control"] = dict(p.cache_control)
    return block


def _turn(m: Message) -> dict[str, Any]:
    if m.role == "tool":
        content: Any = m.content if isinstance(m.content, str) else _blocks(m.content)
        result = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": content}
        return {"role": "user", "content": [result]}
    if m.role == "assistant" and (m.tool_calls or m.thinking_blocks):
        # Thinking first, as it came (signatures intact), then the text and the tool calls.
        thinking = [jsonable(b) for b in m.thinking_blocks]
        uses = [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": c.parsed_arguments()}
            for c in m.tool_calls
        ]
        return {"role": "assistant", "content": thinking + _blocks(m.content) + uses}
    if isinstance(m.content, str):
        return {"role": m.role, "content": m.content}
    return {"role": m.role, "content": _blocks(m.content)}


def _marked(m: Message) -> bool:
    return not isinstance(m.content, str) and any(p.cache_control for p in m.content)


def _system(system: list[Message]) -> str | list[dict[str, Any]]:
    """The system messages as one text, or as text blocks when one of them carries a cache
    marker (which only a block can hold)."""
    if not any(_marked(m) for m in system):
        return "\n\n".join(s for s in (m.text for m in system) if s)
    blocks: list[dict[str, Any]] = []
    for m in system:
        if isinstance(m.content, str):
            blocks.extend(_blocks(m.content))
        else:
            blocks.extend(_block(p) for p in m.content if isinstance(p, TextPart) and p.text)
    return blocks


def messages_and_system(
    messages: tuple[Message, ...],
) -> tuple[list[dict[str, Any]], str | list[dict[str, Any]]]:
    system: list[Message] = []
    turns: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            system.append(m)
            continue
        turn = _turn(m)
        prev = turns[-1] if turns else None
        # Tool results must share one user turn (and may be followed by the user's text):
        # the API wants strictly alternating roles, so same-role neighbours are merged.
        if prev is not None and prev["role"] == turn["role"]:
            for t in (prev, turn):
                if isinstance(t["content"], str):
                    t["content"] = _blocks(t["content"])
            prev["content"].extend(turn["content"])
        else:
            turns.append(turn)
    return turns, _system(system)


def build_body(request: Request, *, stream: bool, default_max_tokens: int) -> dict[str, Any]:
    turns, system = messages_and_system(request.messages)
    body: dict[str, Any] = {
        "model": request.model_id,
        "max_tokens": request.max_tokens or default_max_tokens,
        "messages": turns,
    }
    if system:
        body["system"] = system
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    # ``seed`` has no Anthropic equivalent and is dropped.
    if request.tools:
        body["tools"] = [_tool(t) for t in request.tools]
    if request.tool_choice is not None:
        mode, name = tool_choice_mode(request.tool_choice)
        body["tool_choice"] = {"type": "tool", "name": name} if name else _TOOL_CHOICE[mode]
    if request.response_format is not None:
        fmt = _output_format(request.response_format)
        if fmt is not None:
            body["output_config"] = {"format": fmt}
    if stream:
        body["stream"] = True
    if request.extra:
        body.update(jsonable(request.extra))
    return body


def _tool(t: ToolDefinition) -> dict[str, Any]:
    out = {"name": t.name, "description": t.description, "input_schema": jsonable(t.parameters)}
    if t.cache_control is not None:
        out["cache_control"] = dict(t.cache_control)
    return out


def _output_format(rf: Mapping[str, Any]) -> dict[str, Any] | None:
    """OpenAI's ``response_format`` as Anthropic structured output."""
    kind = rf.get("type")
    if kind == "json_schema":
        spec = rf.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        return {"type": "json_schema", "schema": jsonable(schema or {"type": "object"})}
    if kind == "json_object":
        return {"type": "json_schema", "schema": {"type": "object"}}
    if kind in (None, "text"):
        return None
    raise ValueError(f"response_format type {kind!r} is not supported by Anthropic")


def parse_usage(u: Any, output_tokens: int | None = None) -> Usage:
    """Anthropic's usage as :class:`Usage`: its ``input_tokens`` leaves out the tokens read
    from the prompt cache (``cache_read_input_tokens``) and written to it
    (``cache_creation_input_tokens``), which are added back, and kept apart."""
    if not isinstance(u, Mapping):
        return Usage()
    cached = int(u.get("cache_read_input_tokens") or 0)
    written = int(u.get("cache_creation_input_tokens") or 0)
    out = output_tokens if output_tokens is not None else int(u.get("output_tokens") or 0)
    return Usage(
        int(u.get("input_tokens") or 0) + cached + written,
        out,
        cached,
        cache_write_tokens=written,
    )


def parse_response(data: Mapping[str, Any], request: Request, latency_s: float) -> Response:
    texts: list[str] = []
    calls: list[ToolCall] = []
    thoughts: list[str] = []
    thinking: list[Mapping[str, Any]] = []
    for block in data["content"]:
        kind = block.get("type")
        if kind == "text":
            texts.append(block["text"])
        elif kind == "tool_use":
            args = json.dumps(block.get("input") or {}, ensure_ascii=False)
            calls.append(ToolCall(block["id"], block["name"], args))
        elif kind in ("thinking", "redacted_thinking"):
            thinking.append(MappingProxyType(dict(block)))
            if kind == "thinking":
                thoughts.append(str(block.get("thinking") or ""))
    reason = data.get("stop_reason") or ("tool_use" if calls else "end_turn")
    return Response(
        content="".join(texts),
        finish_reason=STOP_REASONS.get(reason, reason),
        usage=parse_usage(data.get("usage")),
        model=request.model,
        model_id=str(data.get("model") or request.model_id),
        provider=request.provider,
        cost=None,
        latency_s=latency_s,
        tool_calls=tuple(calls),
        raw_id=data.get("id"),
        reasoning="".join(thoughts) if thinking else None,
        thinking_blocks=tuple(thinking),
    )


class AnthropicStream:
    """State of one Messages stream; ``message_stop`` is its terminal event."""

    __slots__ = ("_finish", "_request", "_secret", "_thinking", "_tools", "_usage", "done")

    def __init__(self, request: Request, secret: str | None) -> None:
        self._request = request
        self._secret = secret
        self._finish = "stop"
        self._usage: dict[str, Any] = {}
        self._tools: dict[int, list[str]] = {}  # block index -> [id, name, start, streamed]
        self._thinking: dict[int, dict[str, Any]] = {}  # block index -> the block so far
        self.done = False

    def feed(self, event: str | None, data: str) -> Chunk | None:
        try:
            return self._feed(event, json.loads(data))
        except _errors.MALFORMED as exc:
            req = self._request
            raise _errors.bad_event(data, exc, provider=req.provider, model=req.model) from exc

    def _feed(self, event: str | None, obj: Any) -> Chunk | None:
        req = self._request
        kind = obj.get("type") or event
        if kind == "content_block_delta":
            delta = obj["delta"]
            if delta.get("type") == "text_delta":
                text = delta.get("text")
                return Chunk(text, req.model, req.provider) if text else None
            if delta.get("type") == "input_json_delta" and obj.get("index") in self._tools:
                self._tools[obj["index"]][3] += delta.get("partial_json") or ""
            block = self._thinking.get(obj.get("index"))
            if block is not None:
                return self._think(block, delta)
        elif kind == "content_block_start":
            block = obj["content_block"]
            if block.get("type") in ("thinking", "redacted_thinking"):
                self._thinking[obj["index"]] = dict(block)
                text = block.get("thinking")
                return Chunk("", req.model, req.provider, reasoning=text) if text else None
            if block.get("type") == "tool_use":
                start = json.dumps(block["input"]) if block.get("input") else ""
                self._tools[obj["index"]] = [block["id"], block["name"], start, ""]
            elif block.get("type") == "text" and block.get("text"):
                return Chunk(block["text"], req.model, req.provider)
        elif kind == "message_start":
            self._take_usage(obj.get("message", {}).get("usage"))
        elif kind == "message_delta":
            reason = (obj.get("delta") or {}).get("stop_reason")
            if reason:
                self._finish = STOP_REASONS.get(reason, reason)
            self._take_usage(obj.get("usage"))
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            raise _errors.status_error(
                None, None, obj, provider=req.provider, model=req.model, secret=self._secret
            )
        return None

    def _think(self, block: dict[str, Any], delta: Mapping[str, Any]) -> Chunk | None:
        """A thinking delta: kept in its block, streamed as reasoning (never as text)."""
        if delta.get("type") == "signature_delta":
            block["signature"] = str(block.get("signature") or "") + str(delta["signature"])
        elif delta.get("type") == "thinking_delta":
            text = str(delta.get("thinking") or "")
            block["thinking"] = str(block.get("thinking") or "") + text
            if text:
                return Chunk("", self._request.model, self._request.provider, reasoning=text)
        return None

    def _take_usage(self, usage: Any) -> None:
        """Usage comes in ``message_start`` (input, cache reads and writes) and is completed by
        ``message_delta`` (output; newer servers repeat the rest, or send null for it)."""
        if isinstance(usage, Mapping):
            self._usage.update((k, v) for k, v in usage.items() if v is not None)

    def final(self) -> Chunk:
        req = self._request
        if not self.done:
            raise ProviderUnavailable(
                "stream ended before its terminal event (no message_stop)",
                provider=req.provider,
                model=req.model,
            )
        # The input arrives as JSON fragments; a block that got none keeps its opening input.
        calls = tuple(
            ToolCall(i, n, streamed or start or "{}")
            for i, n, start, streamed in (self._tools[k] for k in sorted(self._tools))
        )
        thinking = tuple(MappingProxyType(self._thinking[k]) for k in sorted(self._thinking))
        return Chunk(
            "",
            req.model,
            req.provider,
            self._finish,
            parse_usage(self._usage),
            calls,
            thinking_blocks=thinking,
        )
