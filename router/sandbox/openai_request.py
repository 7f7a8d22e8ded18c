"""OpenAI Chat Completions requests: validation and conversion to a neutral Prompt."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Any

from .answer import IMAGE_TOKENS, MESSAGE_OVERHEAD, REASONING_TOKENS, Prompt, ToolDef, count_tokens
from .wire import WireError

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_DATA_URL_RE = re.compile(r"data:image/[\w.+-]+;base64,(.*)", re.DOTALL)


def error_body(
    message: str,
    etype: str = "invalid_request_error",
    *,
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {"error": {"message": message, "type": etype, "param": param, "code": code}}


def bad(message: str, *, param: str | None = None, code: str | None = None) -> WireError:
    return WireError(400, error_body(message, param=param, code=code))


def mask_key(key: str) -> str:
    """A key as api.openai.com quotes it in a 401: its first 8 and last 4 characters."""
    return f"{key[:8]}{'*' * (len(key) - 12)}{key[-4:]}" if len(key) > 16 else "*" * len(key)


def _text_of(content: Any, where: str) -> tuple[str, int]:
    """(text, image count) of a message's content, validating parts as the API does."""
    if content is None or isinstance(content, str):
        return content or "", 0
    if not isinstance(content, list):
        raise bad(
            f"Invalid type for '{where}': expected one of a string or array of objects.",
            param=where,
            code="invalid_type",
        )
    texts: list[str] = []
    images = 0
    for i, part in enumerate(content):
        at = f"{where}[{i}]"
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise bad(
                f"Missing required parameter: '{at}.type'.",
                param=f"{at}.type",
                code="missing_required_parameter",
            )
        kind = part["type"]
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "refusal":
            texts.append(str(part.get("refusal", "")))
        elif kind == "image_url":
            _check_image(part.get("image_url"), f"{at}.image_url")
            images += 1
    return " ".join(texts), images


def _check_image(image: Any, at: str) -> None:
    url = image.get("url") if isinstance(image, dict) else None
    if not isinstance(url, str):
        raise bad(
            f"Missing required parameter: '{at}.url'.",
            param=f"{at}.url",
            code="missing_required_parameter",
        )
    if url.startswith(("https://", "http://")):
        return
    match = _DATA_URL_RE.fullmatch(url)
    try:
        if match is None:
            raise ValueError(url[:30])
        base64.b64decode(match.group(1), validate=True)
    except (ValueError, binascii.Error):
        raise bad(
            f"Invalid '{at}.url'. Expected a base64-encoded data URL with an image MIME type "
            "(e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got an invalid value.",
            param=f"{at}.url",
            code="invalid_value",
        ) from None


def _positive_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad(
            f"Invalid type for '{name}': expected an integer, but got "
            f"{type(value).__name__} instead.",
            param=name,
            code="invalid_type",
        )
    if value < 1:
        raise bad(
            f"Invalid '{name}': integer below minimum value. Expected a value >= 1, "
            f"but got {value} instead.",
            param=name,
            code="integer_below_min_value",
        )
    return value


def _tools(body: dict[str, Any]) -> tuple[ToolDef, ...]:
    raw = body.get("tools")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise bad(
            "Invalid type for 'tools': expected an array.", param="tools", code="invalid_type"
        )
    tools: list[ToolDef] = []
    for i, tool in enumerate(raw):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            at = f"tools[{i}].function.name"
            raise bad(
                f"Missing required parameter: '{at}'.", param=at, code="missing_required_parameter"
            )
        params = fn.get("parameters")
        tools.append(ToolDef(fn["name"], params if isinstance(params, dict) else {}))
    return tuple(tools)


def _tool_choice(body: dict[str, Any], tools: tuple[ToolDef, ...]) -> tuple[Any, str | None]:
    choice = body.get("tool_choice")
    if choice is None:
        return "auto", None
    if not tools:
        raise bad(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' "
            "are specified.",
            param="tool_choice",
        )
    if choice in ("none", "auto", "required"):
        return choice, None
    fn = choice.get("function") if isinstance(choice, dict) else None
    name = fn.get("name") if isinstance(fn, dict) else None
    if not isinstance(name, str):
        raise bad("Invalid value for 'tool_choice'.", param="tool_choice", code="invalid_value")
    if name not in {t.name for t in tools}:
        raise bad(
            f"Invalid value for 'tool_choice': function '{name}' is not in 'tools'.",
            param="tool_choice",
            code="invalid_value",
        )
    return "required", name


def parse_request(body: Any) -> Prompt:
    """Validate a Chat Completions body like the real API; raise WireError if it would."""
    if not isinstance(body, dict):
        raise bad("Invalid type for request body: expected an object.", code="invalid_type")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad("you must provide a model parameter")
    messages = body.get("messages")
    if messages is None:
        raise bad(
            "Missing required parameter: 'messages'.",
            param="messages",
            code="missing_required_parameter",
        )
    if not isinstance(messages, list):
        raise bad(
            "Invalid type for 'messages': expected an array of objects.",
            param="messages",
            code="invalid_type",
        )
    if not messages:
        raise bad(
            "Invalid 'messages': empty array. Expected an array with minimum length "
            "1, but got an empty array instead.",
            param="messages",
            code="empty_array",
        )
    prompt = Prompt(api="openai", model=model, prompt_tokens=MESSAGE_OVERHEAD)
    # The prefixes OpenAI's prompt cache may hold: one per message boundary.
    prefix = hashlib.sha256(json.dumps([model, body.get("tools")], default=str).encode())
    points: list[tuple[int, str]] = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") is None:
            raise bad(
                f"Missing required parameter: 'messages[{i}].role'.",
                param=f"messages[{i}].role",
                code="missing_required_parameter",
            )
        role = msg["role"]
        if role not in _ROLES:
            raise bad(
                f"Invalid value: '{role}'. Supported values are: 'system', "
                "'assistant', 'user', 'function', 'tool', and 'developer'.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        if role == "tool" and not isinstance(msg.get("tool_call_id"), str):
            raise bad(
                f"Missing required parameter: 'messages[{i}].tool_call_id'.",
                param=f"messages[{i}].tool_call_id",
                code="missing_required_parameter",
            )
        text, images = _text_of(msg.get("content"), f"messages[{i}].content")
        calls = json.dumps(msg.get("tool_calls")) if msg.get("tool_calls") else ""
        prompt.prompt_tokens += (
            MESSAGE_OVERHEAD + count_tokens(text) + count_tokens(calls) + IMAGE_TOKENS * images
        )
        prefix.update(json.dumps(msg, sort_keys=True, default=str).encode())
        points.append((prompt.prompt_tokens, prefix.copy().hexdigest()))
        if role == "user":
            prompt.user_text, prompt.tool_result = text, None
            prompt.images += images
        elif role in ("system", "developer"):
            prompt.system_text = f"{prompt.system_text} {text}".strip()
        elif role in ("tool", "function"):
            prompt.tool_result = text
    prompt.tools = _tools(body)
    tool_tokens = count_tokens(json.dumps(body.get("tools") or ""))
    prompt.prompt_tokens += tool_tokens
    prompt.cache_points = tuple((t + tool_tokens, d) for t, d in points)
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in REASONING_TOKENS:
        raise bad(
            f"Invalid value: '{effort}'. Supported values are: "
            + ", ".join(f"'{e}'" for e in REASONING_TOKENS)
            + ".",
            param="reasoning_effort",
            code="invalid_value",
        )
    prompt.reasoning_effort = effort
    prompt.tool_choice, prompt.forced_tool = _tool_choice(body, prompt.tools)
    if body.get("stream") not in (None, True, False):
        raise bad(
            "Invalid type for 'stream': expected a boolean.", param="stream", code="invalid_type"
        )
    prompt.stream = body.get("stream") is True
    options = body.get("stream_options")
    if options is not None and not prompt.stream:
        raise bad(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    prompt.include_usage = isinstance(options, dict) and options.get("include_usage") is True
    prompt.max_tokens = _positive_int(body, "max_completion_tokens") or _positive_int(
        body, "max_tokens"
    )
    prompt.n = _positive_int(body, "n") or 1
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    if len(stops) > 4:
        raise bad(
            f"Invalid 'stop': array too long. Expected an array with maximum length "
            f"4, but got an array with length {len(stops)} instead.",
            param="stop",
            code="array_above_max_length",
        )
    prompt.stop = tuple(s for s in stops if isinstance(s, str))
    return prompt
