"""Messages as a caller gives them (``Message`` objects or OpenAI-shaped dicts), coerced into
:class:`~router.types.Message` and checked field by field, and the value checks every argument
check shares (:func:`check_text`, :func:`json_text`, :func:`shown`, :func:`tool_name`). Each
problem is one :class:`~router.errors.RequestError` naming where it is."""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from router.errors import RequestError
from router.types import ROLES, ImagePart, Message, Part, TextPart, ToolCall

__all__ = [
    "cache_marker",
    "check_image",
    "check_text",
    "coerce_messages",
    "json_text",
    "message_from_dict",
    "shown",
    "tool_name",
]


def coerce_messages(items: Iterable[Message | Mapping[str, Any]]) -> tuple[Message, ...]:
    """Messages as given by a caller (``Message`` objects or OpenAI-shaped dicts) as a tuple of
    ``Message``, every field checked (see :func:`check_text`, :func:`check_image`). Raises
    :class:`~router.errors.RequestError` (a ``ValueError``) naming the offending message and
    field, e.g. ``messages[2].role: 'robot' is not one of system, user, ...``, and
    ``TypeError`` when ``items`` is not a list of dicts or Messages."""
    if isinstance(items, str | bytes | Mapping):
        raise TypeError("messages must be a list of messages, not a single string or dict")
    if not isinstance(items, Iterable):
        raise TypeError(f"messages must be a list of messages, not {type(items).__name__}")
    out: list[Message] = []
    for i, item in enumerate(items):
        if isinstance(item, Message):
            out.append(_checked_message(item, f"messages[{i}]"))
        elif isinstance(item, Mapping):
            out.append(message_from_dict(item, f"messages[{i}]"))
        else:
            raise TypeError(f"messages[{i}]: expected a dict or Message, got {type(item).__name__}")
    if not out:
        raise _bad("messages", "at least one message is required")
    return tuple(out)


# --- the checks behind coerce_messages ---------------------------------------------------------

#: Tool and function names as OpenAI and Anthropic accept them.
TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
#: Participant names as OpenAI accepts them (no whitespace, <, |, \, /, >).
_PARTICIPANT = re.compile(r"[^\s<|\\/>]{1,256}")
#: What both providers take inline (and by URL).
IMAGE_MEDIA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
IMAGE_DETAILS = ("auto", "low", "high")
_ROLES = frozenset(ROLES)
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


def _bad(where: str, problem: str) -> RequestError:
    return RequestError(f"{where}: {problem}", argument=where)


def check_text(value: object, where: str) -> str:
    """``value`` if it is a string that can be sent (valid UTF-8: no lone surrogates)."""
    if not isinstance(value, str):
        raise _bad(where, f"expected a string, got {type(value).__name__}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _bad(
                where,
                f"contains a lone surrogate (U+{ord(value[exc.start]):04X}) at index "
                f"{exc.start}, which cannot be encoded; pass valid Unicode text (decode bytes "
                "with errors='replace')",
            ) from None
    return value


def json_text(value: object, where: str) -> str:
    """``value`` as compact JSON text, when it is JSON (finite numbers, string keys, not nested
    past the interpreter's limit) that can be encoded."""
    try:
        text = json.dumps(
            value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_plain
        )
    except RecursionError:
        raise _bad(where, "is nested too deeply to be sent as JSON") from None
    except (TypeError, ValueError) as exc:
        raise _bad(where, f"is not JSON: {exc}") from None
    return check_text(text, where)


def _plain(value: object) -> object:
    """What ``json.dumps`` makes of read-only mappings (``MappingProxyType``); nothing else."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"a {type(value).__name__} is not JSON")


def shown(value: object) -> str:
    """A short description of a refused value for an error message (never long user text)."""
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "...'"
    return f"a {type(value).__name__}"


def _name(value: object, where: str, pattern: re.Pattern[str], rule: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise _bad(where, f"{shown(value)} is not a valid name; {rule}")
    return check_text(value, where)


def tool_name(value: object, where: str) -> str:
    return _name(value, where, TOOL_NAME, "use 1 to 64 of a-z, A-Z, 0-9, _ and -")


def check_image(part: ImagePart, where: str, detail_at: str | None = None) -> ImagePart:
    """``part`` if the providers can take it: an ``https:`` URL, or inline base64 data of one
    of :data:`IMAGE_MEDIA_TYPES` (a ``data:image/...;base64,`` URL). Never ``file:``, plain
    ``http:`` or any other scheme. Problems are reported at ``where`` (the detail's at
    ``detail_at``, by default ``where.detail``)."""
    if part.detail is not None and part.detail not in IMAGE_DETAILS:
        raise _bad(
            detail_at or f"{where}.detail",
            f"{shown(part.detail)} is not one of {', '.join(IMAGE_DETAILS)}",
        )
    if part.url is not None:
        url = part.url
        if not isinstance(url, str):
            raise _bad(where, f"expected a URL string, got {type(url).__name__}")
        if url[:5].lower() == "data:":
            try:
                inline = ImagePart.from_url(url, detail=part.detail)
            except ValueError as exc:
                raise _bad(where, str(exc)) from None
            return check_image(inline, where, detail_at)
        scheme = url.partition(":")[0].lower() if ":" in url else ""
        if scheme != "https":
            why = (
                "plain http: is refused (the provider would fetch it unencrypted)"
                if scheme == "http"
                else f"the {scheme}: scheme is refused"
                if scheme.isalnum()
                else "it is not an absolute URL"
            )
            raise _bad(
                where,
                f"{why}; use an https: URL or inline the image as a data:image/(png|jpeg|gif|"
                "webp);base64,... URL (ImagePart.from_path, ImagePart.from_bytes)",
            )
        check_text(url, where)
        netloc = urlsplit(url).netloc
        if not netloc or netloc.startswith(":") or _URL_UNSAFE.search(url):
            raise _bad(where, "not a valid https: URL (no host, or spaces or control characters)")
        if "@" in netloc:
            raise _bad(where, "https: URLs must not carry credentials (user:password@)")
        return part
    if part.media_type not in IMAGE_MEDIA_TYPES:
        raise _bad(
            where,
            f"media type {str(part.media_type)[:40]!r} is not an image type the providers take; "
            f"use one of {', '.join(IMAGE_MEDIA_TYPES)}",
        )
    data = part.data
    if not isinstance(data, str) or not data:
        raise _bad(where, "inline image data is empty")
    try:
        binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError):
        raise _bad(
            where, "inline image data is not valid base64 (no line breaks, padded with '=')"
        ) from None
    return part


#: The ``cache_control`` values Anthropic takes (``ttl`` optional: 5 minutes by default).
CACHE_TTLS = ("5m", "1h")


def cache_marker(value: object, where: str) -> Mapping[str, Any] | None:
    """A ``cache_control`` marker, checked (None when absent): ``{"type": "ephemeral"}``,
    optionally with ``"ttl": "5m"`` or ``"1h"``; a read-only copy of it."""
    if value is None:
        return None
    ok = (
        isinstance(value, Mapping)
        and value.get("type") == "ephemeral"
        and set(value) <= {"type", "ttl"}
        and value.get("ttl", "5m") in CACHE_TTLS
    )
    if not ok:
        raise _bad(
            where,
            f"{shown(value) if not isinstance(value, Mapping) else repr(dict(value))[:60]} is "
            "not a cache marker; use {'type': 'ephemeral'} (optionally with 'ttl': '5m' or '1h')",
        )
    assert isinstance(value, Mapping)
    return MappingProxyType(dict(value))


def _checked_part(p: Part, at: str, role: str) -> Part:
    if isinstance(p, TextPart):
        check_text(p.text, f"{at}.text")
    else:
        p = check_image(p, at) if role == "user" else _no_image(at, role)
    if p.cache_control is None:
        return p
    return replace(p, cache_control=cache_marker(p.cache_control, f"{at}.cache_control"))


def _checked_message(m: Message, where: str) -> Message:
    """A Message built by the caller, checked as thoroughly as a dict would be."""
    role = m.role
    if not isinstance(role, str) or role not in _ROLES:
        raise _bad(f"{where}.role", f"{role!r} is not one of {', '.join(ROLES)}")
    content = m.content
    if isinstance(content, str):
        check_text(content, f"{where}.content")
    else:
        content = _content(content, f"{where}.content", allow_none=False, role=role)
    if m.name is not None:
        _name(m.name, f"{where}.name", _PARTICIPANT, "no spaces or any of < | \\ / >")
    calls = m.tool_calls
    if calls:
        if role != "assistant":
            raise _bad(f"{where}.tool_calls", "only assistant messages carry tool calls")
        calls = _tool_calls(calls, where)
    if role == "tool":
        if not m.tool_call_id:
            raise _bad(f"{where}.tool_call_id", "a tool message needs the id of its call")
        check_text(m.tool_call_id, f"{where}.tool_call_id")
    elif m.tool_call_id is not None:
        raise _bad(f"{where}.tool_call_id", "only tool messages carry a tool_call_id")
    thinking = m.thinking_blocks
    if thinking:
        thinking = _thinking_blocks(list(thinking), role, where)
    if content is m.content and calls is m.tool_calls and not thinking:
        return m
    return replace(m, content=content, tool_calls=calls, thinking_blocks=thinking)


def message_from_dict(d: Mapping[str, Any], where: str) -> Message:
    """One OpenAI-shaped message dict as a checked Message (``where`` names it in errors)."""
    role = d.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        raise _bad(f"{where}.role", f"{role!r} is not one of {', '.join(ROLES)}")
    name = d.get("name")
    if name is not None:
        _name(name, f"{where}.name", _PARTICIPANT, "no spaces or any of < | \\ / >")
    raw_calls = d.get("tool_calls")
    if raw_calls and role != "assistant":
        raise _bad(f"{where}.tool_calls", "only assistant messages carry tool calls")
    calls = _tool_calls(raw_calls, where) if raw_calls else ()
    call_id = d.get("tool_call_id")
    if role == "tool":
        if not isinstance(call_id, str) or not call_id:
            raise _bad(f"{where}.tool_call_id", "a tool message needs the id of its call")
        check_text(call_id, f"{where}.tool_call_id")
    elif call_id is not None:
        raise _bad(f"{where}.tool_call_id", "only tool messages carry a tool_call_id")
    raw = d.get("content")
    if isinstance(raw, str):
        content: str | tuple[Part, ...] = check_text(raw, f"{where}.content")
    else:
        content = _content(raw, f"{where}.content", allow_none=bool(calls), role=role)
    marker = cache_marker(d.get("cache_control"), f"{where}.cache_control")
    if marker is not None:
        content = _mark_last(content, marker, where)
    thinking = _thinking_blocks(d.get("thinking_blocks"), role, where)
    return Message(role, content, name, calls, call_id, thinking)  # type: ignore[arg-type]


def _thinking_blocks(raw: Any, role: str, where: str) -> tuple[Mapping[str, Any], ...]:
    """An assistant turn's thinking blocks, as Anthropic sent them (checked, kept as-is)."""
    if not raw:
        return ()
    at = f"{where}.thinking_blocks"
    if role != "assistant":
        raise _bad(at, "only assistant messages carry thinking blocks")
    if not isinstance(raw, list | tuple):
        raise _bad(at, "expected a list of thinking blocks (Response.thinking_blocks)")
    out: list[Mapping[str, Any]] = []
    for j, b in enumerate(raw):
        kind = b.get("type") if isinstance(b, Mapping) else None
        field = {"thinking": "signature", "redacted_thinking": "data"}.get(str(kind))
        if field is None or not isinstance(b.get(field), str):
            raise _bad(
                f"{at}[{j}]",
                "expected {'type': 'thinking', 'thinking': ..., 'signature': ...} or "
                "{'type': 'redacted_thinking', 'data': ...}, as the response gave it",
            )
        assert isinstance(b, Mapping)
        if kind == "thinking":
            check_text(b.get("thinking"), f"{at}[{j}].thinking")
        out.append(MappingProxyType(dict(b)))
    return tuple(out)


def _mark_last(
    content: str | tuple[Part, ...], marker: Mapping[str, Any], where: str
) -> tuple[Part, ...]:
    """A message-level ``cache_control``: the marker on the message's last part (its text
    becomes one text part)."""
    parts = (TextPart(content),) if isinstance(content, str) else content
    if not parts or (isinstance(content, str) and not content):
        raise _bad(f"{where}.cache_control", "a message without content cannot be cached")
    return (*parts[:-1], replace(parts[-1], cache_control=marker))


def _content(raw: Any, where: str, *, allow_none: bool, role: str) -> str | tuple[Part, ...]:
    if isinstance(raw, str):
        return check_text(raw, where)
    if raw is None:
        if allow_none:
            return ""
        raise _bad(where, "missing (expected a string or a list of parts)")
    if not isinstance(raw, list | tuple):
        raise _bad(where, f"expected a string or a list of parts, got {type(raw).__name__}")
    parts: list[Part] = []
    for j, p in enumerate(raw):
        at = f"{where}[{j}]"
        if isinstance(p, TextPart | ImagePart):
            parts.append(_checked_part(p, at, role))
            continue
        kind = p.get("type") if isinstance(p, Mapping) else None
        marker = cache_marker(p.get("cache_control"), f"{at}.cache_control") if kind else None
        if kind == "text":
            parts.append(TextPart(check_text(p.get("text"), f"{at}.text"), marker))
        elif kind == "image_url":
            if role != "user":
                _no_image(at, role)
            img = p.get("image_url")
            img = {"url": img} if isinstance(img, str) else img
            if not isinstance(img, Mapping) or not isinstance(img.get("url"), str):
                raise _bad(f"{at}.image_url", "expected {'url': 'https://...'}")
            image = ImagePart(url=img["url"], detail=img.get("detail"))
            image = check_image(image, f"{at}.image_url.url", f"{at}.image_url.detail")
            parts.append(replace(image, cache_control=marker) if marker else image)
        else:
            raise _bad(
                at,
                "expected {'type': 'text', 'text': ...} or "
                "{'type': 'image_url', 'image_url': {'url': ...}}",
            )
    return tuple(parts)


def _no_image(where: str, role: str) -> ImagePart:
    raise _bad(where, f"images are only allowed in user messages, not in {role} messages")


def _tool_calls(raw: Any, where: str) -> tuple[ToolCall, ...]:
    if not isinstance(raw, list | tuple):
        raise _bad(f"{where}.tool_calls", "expected a list")
    calls: list[ToolCall] = []
    for j, c in enumerate(raw):
        at = f"{where}.tool_calls[{j}]"
        call_id: object
        name: object
        args: object
        if isinstance(c, ToolCall):
            call_id, name, args = c.id, c.name, c.arguments
        else:
            fn = c.get("function") if isinstance(c, Mapping) else None
            if not isinstance(fn, Mapping):
                raise _bad(at, "expected {'id': ..., 'function': {'name': ..., 'arguments': ...}}")
            call_id, name, args = c.get("id"), fn.get("name"), fn.get("arguments", "{}")
            if not isinstance(args, str):  # some callers pass the parsed dict
                args = json_text(args, f"{at}.function.arguments")
            at = f"{at}.function"
        if not isinstance(call_id, str) or not call_id:
            raise _bad(f"{where}.tool_calls[{j}].id", "a tool call needs a non-empty string id")
        check_text(call_id, f"{where}.tool_calls[{j}].id")
        name = tool_name(name, f"{at}.name")
        args = check_text(args, f"{at}.arguments")
        try:
            ok = not args.strip() or isinstance(json.loads(args), dict)
        except ValueError:
            ok = False
        if not ok:
            raise _bad(f"{at}.arguments", "must be the JSON text of an object, e.g. '{\"q\": 1}'")
        calls.append(c if isinstance(c, ToolCall) else ToolCall(call_id, name, args))
    return tuple(calls)
