"""The OpenAI Chat Completions wire format: request bodies out, responses and stream events in.

Plain functions over dicts, shared by the ``openai`` and ``openai_compatible`` adapters (and
reusable by any future adapter for a server that speaks the same wire).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from router.errors import ProviderUnavailable
from router.providers import _errors
from router.types import Chunk, ImagePart, Message, Request, Response, TextPart, ToolCall, Usage

__all__ = ["OpenAIStream", "build_body", "jsonable", "parse_response", "tool_choice_mode"]

FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}
_NO_USAGE = Usage()


def jsonable(value: Any) -> Any:
    """Read-only mappings (``MappingProxyType``...) and tuples as plain JSON containers; the
    SDKs' encoders only know dict and list."""
    if type(value) is dict:
        return {k: jsonable(v) for k, v in value.items()} if value else value
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def tool_choice_mode(choice: Any) -> tuple[str, str | None]:
    """Any accepted ``tool_choice`` as (mode, tool name): mode is auto, none, required or tool.
    Takes the OpenAI and Anthropic shapes and ``{"name": ...}``."""
    if choice in ("auto", "none", "required"):
        return str(choice), None
    if choice == "any":
        return "required", None
    if isinstance(choice, Mapping):
        kind = choice.get("type")
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, Mapping) else choice.get("name")
        if isinstance(name, str) and name:
            return "tool", name
        if kind in ("auto", "none", "any", "required"):
            return tool_choice_mode(kind)
    raise ValueError(f"tool_choice {choice!r} is not auto, none, required or a named tool")


def message_dict(m: Message) -> dict[str, Any]:
    content = m.content
    if isinstance(content, str):
        out: dict[str, Any] = {"role": m.role, "content": content}
    else:
        out = {"role": m.role, "content": [_part(p) for p in content]}
    if m.tool_calls:
        out["tool_calls"] = [c.to_dict() for c in m.tool_calls]
        if not content:  # the API wants null, not "", next to tool calls
            out["content"] = None
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    if m.name is not None:
        out["name"] = m.name
    return out


def _part(p: TextPart | ImagePart) -> dict[str, Any]:
    if isinstance(p, TextPart):
        return {"type": "text", "text": p.text}
    image: dict[str, Any] = {"url": p.as_url()}
    if p.detail:
        image["detail"] = p.detail
    return {"type": "image_url", "image_url": image}


def build_body(request: Request, *, stream: bool, max_tokens_field: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model_id,
        "messages": [message_dict(m) for m in request.messages],
    }
    if request.max_tokens is not None:
        body[max_tokens_field] = request.max_tokens
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop"] = list(request.stop)
    if request.seed is not None:
        body["seed"] = request.seed
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": jsonable(t.parameters),
                },
            }
            for t in request.tools
        ]
    if request.tool_choice is not None:
        mode, name = tool_choice_mode(request.tool_choice)
        body["tool_choice"] = {"type": "function", "function": {"name": name}} if name else mode
    if request.response_format is not None:
        body["response_format"] = jsonable(request.response_format)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    if request.extra:
        body.update(jsonable(request.extra))
    return body


def parse_usage(u: Any) -> Usage:
    if not isinstance(u, Mapping):
        return _NO_USAGE
    # Both details are parts of their totals: cached_tokens of prompt_tokens, reasoning_tokens
    # of completion_tokens (never added on top).
    details = u.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else None
    out_details = u.get("completion_tokens_details")
    reasoning = out_details.get("reasoning_tokens") if isinstance(out_details, Mapping) else None
    total = u.get("total_tokens")
    return Usage(
        int(u.get("prompt_tokens") or 0),
        int(u.get("completion_tokens") or 0),
        int(cached or 0),
        int(total) if total is not None else -1,
        reasoning_tokens=int(reasoning or 0),
    )


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # some compatible servers answer with a list of parts
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    return ""


def _tool_calls(raw: Any) -> tuple[ToolCall, ...]:
    if not raw:
        return ()
    return tuple(
        ToolCall(
            str(c.get("id") or ""), c["function"]["name"], c["function"].get("arguments") or "{}"
        )
        for c in raw
    )


def parse_response(data: Mapping[str, Any], request: Request, latency_s: float) -> Response:
    choice = data["choices"][0]
    msg = choice.get("message") or {}
    calls = _tool_calls(msg.get("tool_calls"))
    reason = choice.get("finish_reason")
    # OpenAI itself never returns its reasoning in Chat Completions; compatible servers
    # (DeepSeek, vLLM, Ollama...) put it in reasoning_content (or reasoning).
    thought = msg.get("reasoning_content") or msg.get("reasoning")
    return Response(
        reasoning=thought if isinstance(thought, str) and thought else None,
        content=_text(msg.get("content")) or _text(msg.get("refusal")),
        finish_reason=FINISH_REASONS.get(reason, reason) if reason else _default_finish(calls),
        usage=parse_usage(data.get("usage")),
        model=request.model,
        model_id=str(data.get("model") or request.model_id),
        provider=request.provider,
        cost=None,
        latency_s=latency_s,
        tool_calls=calls,
        raw_id=data.get("id"),
    )


def _default_finish(calls: tuple[ToolCall, ...]) -> str:
    return "tool_calls" if calls else "stop"


class OpenAIStream:
    """State of one Chat Completions stream. The terminal event is ``[DONE]``; a stream that
    closes cleanly after a chunk with a ``finish_reason`` is accepted too, as some compatible
    servers never send ``[DONE]``."""

    __slots__ = ("_calls", "_finish", "_request", "_secret", "_usage", "done")

    def __init__(self, request: Request, secret: str | None) -> None:
        self._request = request
        self._secret = secret
        self._finish: str | None = None
        self._usage: Usage | None = None
        self._calls: dict[int, list[str]] = {}  # index -> [id, name, arguments so far]
        self.done = False

    def feed(self, event: str | None, data: str) -> Chunk | None:
        if data[:6] == "[DONE]":
            self.done = True
            return None
        try:
            return self._feed(json.loads(data))
        except _errors.MALFORMED as exc:
            req = self._request
            raise _errors.bad_event(data, exc, provider=req.provider, model=req.model) from exc

    def _feed(self, obj: Any) -> Chunk | None:
        req = self._request
        if obj.get("error") is not None:
            raise _errors.status_error(
                None, None, obj, provider=req.provider, model=req.model, secret=self._secret
            )
        usage = obj.get("usage")
        if usage:
            self._usage = parse_usage(usage)
        choices = obj.get("choices")
        if not choices:
            return None
        choice = choices[0]
        if choice.get("index", 0) != 0:  # n > 1: only the first choice is followed
            return None
        reason = choice.get("finish_reason")
        if reason:
            self._finish = FINISH_REASONS.get(reason, reason)
        delta = choice.get("delta")
        if not delta:
            return None
        for tc in delta.get("tool_calls") or ():
            slot = self._calls.setdefault(int(tc.get("index", len(self._calls))), ["", "", ""])
            fn = tc.get("function") or {}
            slot[0] = tc.get("id") or slot[0]
            slot[1] = slot[1] or fn.get("name") or ""
            slot[2] += fn.get("arguments") or ""
        text = delta.get("content") or delta.get("refusal")
        thought = delta.get("reasoning_content") or delta.get("reasoning")
        if not isinstance(thought, str):
            thought = ""
        if not (text or thought):
            return None
        return Chunk(text or "", req.model, req.provider, reasoning=thought)

    def final(self) -> Chunk:
        req = self._request
        if self._finish is None:
            raise ProviderUnavailable(
                "stream ended before its terminal event (no finish_reason, no [DONE])",
                provider=req.provider,
                model=req.model,
            )
        calls = tuple(
            ToolCall(i, n, a or "{}") for i, n, a in (self._calls[k] for k in sorted(self._calls))
        )
        # No usage event (a server ignoring stream_options): usage None, so the call is
        # reported as unpriced rather than as free.
        return Chunk("", req.model, req.provider, self._finish, self._usage, calls)
