"""OpenAI Chat Completions, as api.openai.com sends it (JSON and SSE)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .answer import (
    Api,
    Completion,
    Finish,
    Prompt,
    context_overflow,
    pieces,
)
from .http11 import Headers
from .openai_request import bad, error_body, mask_key, parse_request
from .wire import StreamPlan, WireError, bearer_token, sse_data

_FINISH: dict[Finish, str] = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "tool_use": "tool_calls",
    "filter": "content_filter",
}
FINGERPRINT = "fp_sandbox01"


class OpenAIWire:
    api: Api = "openai"

    def check_auth(self, headers: Mapping[str, str], api_key: str | None) -> None:
        token = bearer_token(headers)
        if not token:
            raise WireError(
                401,
                error_body(
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    code="invalid_api_key",
                ),
            )
        if api_key is not None and token != api_key:
            raise WireError(
                401,
                error_body(
                    f"Incorrect API key provided: {mask_key(token)}. You can find your API key at "
                    "https://platform.openai.com/account/api-keys.",
                    code="invalid_api_key",
                ),
            )

    def parse(self, body: Any) -> Prompt:
        return parse_request(body)

    def _usage(self, c: Completion, n: int) -> dict[str, Any]:
        completion_tokens = c.completion_tokens * n
        return {
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": c.prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": c.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": c.reasoning_tokens * n,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def render(self, completion: Completion, prompt: Prompt) -> dict[str, Any]:
        call = completion.tool_call
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if call else completion.text,
            "refusal": None,
            "annotations": [],
        }
        if call is not None:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_json},
                }
            ]
        choices = [
            {
                "index": i,
                "message": message,
                "logprobs": None,
                "finish_reason": _FINISH[completion.finish],
            }
            for i in range(prompt.n)
        ]
        return {
            "id": completion.id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": prompt.model,
            "choices": choices,
            "usage": self._usage(completion, prompt.n),
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
        }

    def stream(self, completion: Completion, prompt: Prompt) -> StreamPlan:
        base: dict[str, Any] = {
            "id": completion.id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": prompt.model,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
        }
        if prompt.include_usage:
            # The real API puts "usage": null on every chunk once usage was asked for.
            base["usage"] = None

        def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
            return sse_data({**base, "choices": [choice]})

        plan = StreamPlan()
        call = completion.tool_call
        for i in range(prompt.n):
            role: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
            if call is not None:
                role["content"] = None
                role["tool_calls"] = [
                    {
                        "index": 0,
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            plan.preamble.append(chunk(i, role))
        for i in range(prompt.n):
            if call is not None:
                plan.content += [
                    chunk(i, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
                    for piece in pieces(call.arguments_json)
                ]
            else:
                plan.content += [chunk(i, {"content": p}) for p in completion.text_pieces]
        finish = _FINISH[completion.finish]
        plan.terminal += [chunk(i, {}, finish) for i in range(prompt.n)]
        if prompt.include_usage:
            plan.terminal.append(
                sse_data({**base, "choices": [], "usage": self._usage(completion, prompt.n)})
            )
        plan.terminal.append(b"data: [DONE]\n\n")
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
        if status == 429 and quota:
            body = error_body(
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                code="insufficient_quota",
            )
        elif status == 429:
            body = error_body(
                f"Rate limit reached for {model} in organization org-sandbox on "
                "requests per min (RPM): Limit 3, Used 3, Requested 1.",
                "requests",
                code="rate_limit_exceeded",
            )
        elif status == 401 and credential:
            shown = credential if echo else mask_key(credential)
            body = error_body(
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        elif status == 401:
            body = error_body("Incorrect API key provided.", code="invalid_api_key")
        elif status == 403:
            body = error_body(
                "Country, region, or territory not supported.",
                "request_forbidden",
                code="unsupported_country_region_territory",
            )
        elif status == 404:
            body = error_body(
                f"The model `{model}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        elif status == 503:
            body = error_body(
                "The engine is currently overloaded, please try again later.", "server_error"
            )
        elif status >= 500:
            body = error_body(
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
            )
        else:
            body = error_body(f"Sandbox injected a {status} error.")
        if echo and credential and status == 403:
            body["error"]["message"] += f" (API key: {credential})"
        return WireError(status, body)

    def context_error(self, prompt: Prompt) -> WireError:
        window, used = context_overflow(prompt)
        return bad(
            f"This model's maximum context length is {window} tokens. However, your "
            f"messages resulted in {used} tokens. Please reduce the length of the "
            "messages.",
            param="messages",
            code="context_length_exceeded",
        )

    def filter_error(self) -> WireError:
        return bad(
            "Your request was rejected as a result of our safety system. Your prompt "
            "may contain text that is not allowed by our safety system.",
            code="content_policy_violation",
        )

    def invalid(self, message: str) -> WireError:
        return bad(message)

    def stream_error_event(self, status: int) -> bytes:
        return sse_data(self.status_error(status, "").body)

    def id_headers(self, request_id: str) -> Headers:
        return [("x-request-id", request_id), ("openai-version", "2020-10-01")]

    def models_body(self, ids: list[str], created: int) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": created, "owned_by": "router-sandbox"}
                for m in ids
            ],
        }
