"""Anthropic Messages, as api.anthropic.com sends it (JSON and named SSE events)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .answer import (
    Api,
    Completion,
    Finish,
    Prompt,
    context_overflow,
    pieces,
    signature,
)
from .anthropic_request import bad, error_body, parse_request
from .http11 import Headers
from .wire import StreamPlan, WireError, bearer_token, sse_event

_STOP: dict[Finish, str] = {
    "stop": "end_turn",
    "stop_sequence": "stop_sequence",
    "length": "max_tokens",
    "tool_use": "tool_use",
    "filter": "refusal",
}
_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Sandbox injected an invalid request error."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    404: ("not_found_error", "model: {model}"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: (
        "rate_limit_error",
        "This request would exceed the rate limit for your organization "
        "of 50 requests per minute. Please try again later.",
    ),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timeout"),
    529: ("overloaded_error", "Overloaded"),
}
MODEL_CREATED_AT = "2025-01-01T00:00:00Z"


class AnthropicWire:
    api: Api = "anthropic"

    def check_auth(self, headers: Mapping[str, str], api_key: str | None) -> None:
        # The 2.x SDK sends api_key as "Authorization: Bearer"; older clients use x-api-key.
        key = headers.get("x-api-key") or bearer_token(headers)
        if not key:
            raise WireError(401, error_body("x-api-key header is required", "authentication_error"))
        if api_key is not None and key != api_key:
            raise WireError(401, error_body("invalid x-api-key", "authentication_error"))
        if not headers.get("anthropic-version"):
            raise bad("anthropic-version: header is required")

    def parse(self, body: Any) -> Prompt:
        return parse_request(body)

    def _usage(self, c: Completion) -> dict[str, Any]:
        written = c.cache_write_tokens
        return {
            "input_tokens": c.prompt_tokens - c.cached_tokens - written,
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": c.cached_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": written,
                "ephemeral_1h_input_tokens": 0,
            },
            "output_tokens": c.completion_tokens,
            "service_tier": "standard",
        }

    def _blocks(self, c: Completion) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if c.thinking:
            blocks.append(
                {"type": "thinking", "thinking": c.thinking, "signature": signature(c.thinking)}
            )
        if c.text:
            blocks.append({"type": "text", "text": c.text})
        if c.tool_call is not None:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": c.tool_call.id,
                    "name": c.tool_call.name,
                    "input": c.tool_call.arguments,
                }
            )
        return blocks

    def _message(self, c: Completion, p: Prompt, content: list[Any]) -> dict[str, Any]:
        refusal = {"type": "refusal", "category": None, "explanation": None}
        return {
            "id": c.id,
            "type": "message",
            "role": "assistant",
            "model": p.model,
            "content": content,
            "stop_reason": _STOP[c.finish],
            "stop_sequence": c.stop_sequence,
            "stop_details": refusal if c.finish == "filter" else None,
            "usage": self._usage(c),
        }

    def render(self, completion: Completion, prompt: Prompt) -> dict[str, Any]:
        return self._message(completion, prompt, self._blocks(completion))

    def stream(self, completion: Completion, prompt: Prompt) -> StreamPlan:
        start = self._message(completion, prompt, [])
        start.update(stop_reason=None, stop_sequence=None, stop_details=None)
        start["usage"] = {**start["usage"], "output_tokens": 1}
        plan = StreamPlan(
            preamble=[sse_event("message_start", {"type": "message_start", "message": start})]
        )
        events: list[bytes] = []
        blocks = self._blocks(completion)
        for index, block in enumerate(blocks):
            if index:
                events.append(
                    sse_event(
                        "content_block_stop", {"type": "content_block_stop", "index": index - 1}
                    )
                )
            if block["type"] == "text":
                opening: dict[str, Any] = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"])]
            elif block["type"] == "thinking":
                opening = {"type": "thinking", "thinking": "", "signature": ""}
                deltas = [
                    *({"type": "thinking_delta", "thinking": p} for p in pieces(block["thinking"])),
                    {"type": "signature_delta", "signature": block["signature"]},
                ]
            else:
                opening = {**block, "input": {}}
                deltas = [
                    {"type": "input_json_delta", "partial_json": p}
                    for p in pieces(json.dumps(block["input"], ensure_ascii=False))
                ]
            events.append(
                sse_event(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": opening},
                )
            )
            if not index:
                # The real API pings right after the first block opens.
                plan.preamble += [*events, sse_event("ping", {"type": "ping"})]
                events = []
            events += [
                sse_event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": d},
                )
                for d in deltas
            ]
        if blocks:
            plan.terminal.append(
                sse_event(
                    "content_block_stop", {"type": "content_block_stop", "index": len(blocks) - 1}
                )
            )
        else:
            plan.preamble.append(sse_event("ping", {"type": "ping"}))
        plan.content = events
        usage = self._usage(completion)
        del usage["cache_creation"], usage["service_tier"]
        plan.terminal += [
            sse_event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {
                        "stop_reason": _STOP[completion.finish],
                        "stop_sequence": completion.stop_sequence,
                    },
                    "usage": usage,
                },
            ),
            sse_event("message_stop", {"type": "message_stop"}),
        ]
        return plan

    def status_error(
        self,
        status: int,
        model: str,
        *,
        quota: bool = False,
        credential: str | None = None,
        echo: bool = False,
    ) -> WireError:
        etype, message = _ERRORS.get(status) or (
            ("api_error", "Internal server error")
            if status >= 500
            else ("invalid_request_error", f"Sandbox injected a {status} error.")
        )
        message = message.format(model=model)
        if echo and credential and status in (401, 403):
            message = f"{message}: {credential}"
        return WireError(status, error_body(message, etype))

    def context_error(self, prompt: Prompt) -> WireError:
        window, used = context_overflow(prompt)
        return bad(f"prompt is too long: {used} tokens > {window} maximum")

    def filter_error(self) -> WireError:
        return bad("Output blocked by content filtering policy")

    def invalid(self, message: str) -> WireError:
        return bad(message)

    def stream_error_event(self, status: int) -> bytes:
        return sse_event("error", self.status_error(status, "").body)

    def id_headers(self, request_id: str) -> Headers:
        return [("request-id", request_id)]

    def models_body(self, ids: list[str], created: int) -> dict[str, Any]:
        data = [
            {
                "type": "model",
                "id": m,
                "display_name": m.replace("-", " ").title(),
                "created_at": MODEL_CREATED_AT,
                "lifecycle": "active",
            }
            for m in ids
        ]
        return {
            "data": data,
            "has_more": False,
            "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None,
        }
