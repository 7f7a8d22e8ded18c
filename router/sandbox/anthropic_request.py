"""Anthropic Messages requests: validation and conversion to a neutral Prompt."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Literal

from .answer import IMAGE_TOKENS, MESSAGE_OVERHEAD, Prompt, ToolDef, count_tokens, signature
from .prompt_cache import anthropic_points
from .wire import WireError

_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_CHOICES: dict[str, Literal["auto", "none", "required"]] = {
    "auto": "auto",
    "any": "required",
    "none": "none",
}


def error_body(message: str, etype: str = "invalid_request_error") -> dict[str, Any]:
    return {"type": "error", "error": {"type": etype, "message": message}}


def bad(message: str) -> WireError:
    return WireError(400, error_body(message))


def _system_text(system: Any) -> str:
    if system is None or isinstance(system, str):
        return system or ""
    if not isinstance(system, list):
        raise bad("system: Input should be a valid string")
    texts = []
    for i, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text":
            raise bad(f"system.{i}.type: Input should be 'text'")
        texts.append(str(block.get("text", "")))
    return " ".join(texts)


def _check_image(source: Any, at: str) -> None:
    kind = source.get("type") if isinstance(source, dict) else None
    if kind == "url" and isinstance(source, dict) and isinstance(source.get("url"), str):
        return
    if kind != "base64" or not isinstance(source, dict):
        raise bad(
            f"{at}.source: Input tag '{kind}' found using 'type' does not match any of "
            "the expected tags: 'base64', 'url'"
        )
    if source.get("media_type") not in _MEDIA_TYPES:
        raise bad(
            f"{at}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', "
            "'image/gif' or 'image/webp'"
        )
    try:
        if not base64.b64decode(str(source.get("data", "")), validate=True):
            raise ValueError("empty")
    except (ValueError, binascii.Error):
        raise bad(f"{at}.source.base64.data: invalid base64 data") from None


def _block_texts(blocks: list[Any], at: str) -> tuple[str, str | None, int, int]:
    """(text, tool-result text or None, image count, extra tokens) of a content list."""
    texts: list[str] = []
    results: list[str] = []
    images = extra = 0
    for j, block in enumerate(blocks):
        where = f"{at}.content.{j}"
        kind = block.get("type") if isinstance(block, dict) else None
        if not isinstance(block, dict) or not isinstance(kind, str):
            raise bad(f"{where}.type: Field required")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "image":
            _check_image(block.get("source"), f"{where}.image")
            images += 1
        elif kind == "tool_use":
            extra += count_tokens(json.dumps(block.get("input", {})))
        elif kind == "thinking":
            thought = block.get("thinking")
            if not isinstance(thought, str) or block.get("signature") != signature(thought):
                raise bad(f"{where}: Invalid `signature` in `thinking` block")
        elif kind == "redacted_thinking" and not isinstance(block.get("data"), str):
            raise bad(f"{where}.redacted_thinking.data: Field required")
        elif kind == "tool_result":
            inner = block.get("content")
            if isinstance(inner, list):
                text, _, inner_images, _ = _block_texts(inner, where)
                results.append(text)
                images += inner_images
            else:
                results.append(str(inner or ""))
    return " ".join(texts), (" ".join(results) if results else None), images, extra


def _tools(body: dict[str, Any]) -> tuple[ToolDef, ...]:
    raw = body.get("tools")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise bad("tools: Input should be a valid list")
    tools = []
    for i, tool in enumerate(raw):
        if not isinstance(tool, dict):
            raise bad(f"tools.{i}: Input should be a valid dictionary")
        if tool.get("type") not in (None, "custom"):
            continue  # server tools (web search, ...) run on Anthropic's side
        if not isinstance(tool.get("name"), str):
            raise bad(f"tools.{i}.custom.name: Field required")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise bad(f"tools.{i}.custom.input_schema: Field required")
        tools.append(ToolDef(tool["name"], schema))
    return tuple(tools)


def _tool_choice(body: dict[str, Any], prompt: Prompt) -> None:
    choice = body.get("tool_choice")
    if choice is None:
        return
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        raise bad(
            "tool_choice: Input tag does not match any of the expected tags: 'auto', "
            "'any', 'tool', 'none'"
        )
    if not prompt.tools and choice["type"] != "none":
        raise bad("tool_choice may only be specified while providing tools.")
    kind = choice["type"]
    if kind == "tool":
        name = choice.get("name")
        if name not in {t.name for t in prompt.tools}:
            raise bad(f"Tool '{name}' not found in provided tools")
        prompt.tool_choice, prompt.forced_tool = "required", str(name)
    else:
        prompt.tool_choice = _CHOICES[kind]


def parse_request(body: Any) -> Prompt:
    """Validate a Messages body like the real API; raise WireError if it would."""
    if not isinstance(body, dict):
        raise bad("Input should be a valid dictionary")
    for name in ("model", "messages", "max_tokens"):
        if name not in body:
            raise bad(f"{name}: Field required")
    model, messages, max_tokens = body["model"], body["messages"], body["max_tokens"]
    if not isinstance(model, str) or not model:
        raise bad("model: Input should be a valid string")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise bad("max_tokens: Input should be a valid integer")
    if max_tokens < 1:
        raise bad("max_tokens: Input should be greater than or equal to 1")
    if not isinstance(messages, list):
        raise bad("messages: Input should be a valid list")
    if not messages:
        raise bad("messages: at least one message is required")
    system = _system_text(body.get("system"))
    prompt = Prompt(
        api="anthropic",
        model=model,
        max_tokens=max_tokens,
        prompt_tokens=count_tokens(system) + MESSAGE_OVERHEAD,
        system_text=system,
    )
    for i, msg in enumerate(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role == "system":
            raise bad(
                'messages: Unexpected role "system". The Messages API accepts a '
                'top-level `system` parameter, not "system" as an input message '
                "role."
            )
        if role not in ("user", "assistant") or not isinstance(msg, dict):
            raise bad(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = msg.get("content")
        if isinstance(content, str):
            text, result, images, extra = content, None, 0, 0
        elif isinstance(content, list):
            text, result, images, extra = _block_texts(content, f"messages.{i}")
        else:
            raise bad(f"messages.{i}.content: Input should be a valid list")
        if not content and not (role == "assistant" and i == len(messages) - 1):
            raise bad(
                f"messages.{i}: all messages must have non-empty content except "
                "for the optional final assistant message"
            )
        prompt.prompt_tokens += (
            MESSAGE_OVERHEAD
            + count_tokens(text)
            + count_tokens(result or "")
            + extra
            + IMAGE_TOKENS * images
        )
        if role == "user":
            prompt.images += images
            prompt.tool_result = result
            if result is None or text:
                prompt.user_text = text
    prompt.tools = _tools(body)
    prompt.prompt_tokens += count_tokens(json.dumps(body.get("tools") or ""))
    _tool_choice(body, prompt)
    stops = body.get("stop_sequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise bad("stop_sequences: Input should be a valid list of strings")
    prompt.stop = tuple(stops)
    if body.get("stream") not in (None, True, False):
        raise bad("stream: Input should be a valid boolean")
    prompt.stream = body.get("stream") is True
    prompt.thinking = _thinking(body.get("thinking"), max_tokens)
    prompt.cache_points = anthropic_points(body)
    return prompt


def _thinking(value: Any, max_tokens: int) -> bool:
    """Whether extended thinking is on; checked as the real API checks it."""
    if value is None:
        return False
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "disabled":
        return False
    if kind == "adaptive":
        return True
    if kind != "enabled":
        raise bad(
            "thinking: Input tag does not match any of the expected tags: 'enabled', "
            "'disabled', 'adaptive'"
        )
    budget = value.get("budget_tokens")
    if not isinstance(budget, int) or isinstance(budget, bool):
        raise bad("thinking.enabled.budget_tokens: Field required")
    if budget < 1024:
        raise bad("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024")
    if budget >= max_tokens:
        raise bad("`max_tokens` must be greater than `thinking.budget_tokens`")
    return True
