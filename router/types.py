"""Provider-neutral values that flow between the caller, the engine and the adapters.

Everything here is a frozen, slotted dataclass: cheap to build on the hot path, safe to share
between threads and tasks, and hashable where its fields are. Callers may pass messages in the
OpenAI dict shape; :func:`coerce_messages` turns them into :class:`Message` objects once, at the
edge, so the adapters only ever see one shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args
from urllib.parse import urlsplit

from router.errors import RequestError

if TYPE_CHECKING:
    from router.errors import ProviderError

__all__ = [
    "Attempt",
    "Chunk",
    "FinishReason",
    "ImagePart",
    "Message",
    "Part",
    "Request",
    "Response",
    "Role",
    "TextPart",
    "ToolCall",
    "ToolChoice",
    "ToolDefinition",
    "Usage",
    "check_image",
    "check_text",
    "coerce_messages",
]

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]
FinishReason: TypeAlias = Literal["stop", "length", "tool_calls", "content_filter"]
ToolChoice: TypeAlias = Literal["auto", "none", "required"] | Mapping[str, Any]
ROLES: tuple[str, ...] = get_args(Role)
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image given by URL, or inline as base64 ``data`` with its ``media_type``."""

    url: str | None = None
    data: str | None = field(default=None, repr=False)  # can be megabytes: keep reprs readable
    media_type: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if (self.url is None) == (self.data is None):
            raise ValueError("ImagePart needs exactly one of url= or data=")
        if self.data is not None and not self.media_type:
            raise ValueError("ImagePart(data=...) needs media_type= (e.g. 'image/png')")

    @classmethod
    def from_bytes(cls, raw: bytes, media_type: str, *, detail: str | None = None) -> ImagePart:
        return cls(data=base64.b64encode(raw).decode("ascii"), media_type=media_type, detail=detail)

    @classmethod
    def from_path(cls, path: str | Path, *, detail: str | None = None) -> ImagePart:
        media_type = mimetypes.guess_type(str(path))[0]
        if not media_type or not media_type.startswith("image/"):
            raise ValueError(f"cannot tell the image type of {str(path)!r} from its name")
        return cls.from_bytes(Path(path).read_bytes(), media_type, detail=detail)

    @classmethod
    def from_url(cls, url: str, *, detail: str | None = None) -> ImagePart:
        """A plain URL, or a ``data:`` URL, which becomes an inline base64 image."""
        if not url.startswith("data:"):
            return cls(url=url, detail=detail)
        head, sep, payload = url[5:].partition(",")
        media_type, _, encoding = head.partition(";")
        if not sep or encoding != "base64" or not media_type:
            raise ValueError("data: URLs must look like data:<media type>;base64,<data>")
        try:
            base64.b64decode(payload[:64] + "=" * (-len(payload[:64]) % 4), validate=True)
        except binascii.Error as exc:
            raise ValueError("data: URL payload is not base64") from exc
        return cls(data=payload, media_type=media_type, detail=detail)

    def __repr__(self) -> str:
        src = f"url={self.url!r}" if self.url is not None else f"data=<{len(self.data or '')} b64>"
        return f"ImagePart({src}, media_type={self.media_type!r}, detail={self.detail!r})"

    def as_url(self) -> str:
        """The URL, or a ``data:`` URL for inline images (what OpenAI-style APIs take)."""
        return self.url if self.url is not None else f"data:{self.media_type};base64,{self.data}"


Part: TypeAlias = TextPart | ImagePart


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model asked for; ``arguments`` is the JSON text as the model produced it."""

    id: str
    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises ``ValueError`` when the model produced bad JSON."""
        value = json.loads(self.arguments) if self.arguments.strip() else {}
        if not isinstance(value, dict):
            raise ValueError(f"tool call {self.name!r}: arguments are not a JSON object")
        return value

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI ``tool_calls[]`` item shape."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({"type": "object", "properties": {}})
    )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ToolDefinition:
        """Accepts OpenAI's ``{"type": "function", "function": {...}}``, its flat inner form,
        and Anthropic's ``{"name", "description", "input_schema"}``; checked as a call's
        ``tools`` are (a ``ValueError`` says what is wrong)."""
        from router.tools import tool_definition

        return tool_definition(d, "tool")


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str | tuple[Part, ...] = ""
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    @property
    def text(self) -> str:
        """The text of the message, with image parts left out."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Message:
        return _message_from_dict(d, "message")

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI Chat Completions shape (also a stable form for cache keys and logs)."""
        out: dict[str, Any] = {"role": self.role}
        if isinstance(self.content, str):
            out["content"] = self.content
        else:
            out["content"] = [
                {"type": "text", "text": p.text}
                if isinstance(p, TextPart)
                else {"type": "image_url", "image_url": _image_url_dict(p)}
                for p in self.content
            ]
        if self.name is not None:
            out["name"] = self.name
        if self.tool_calls:
            out["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        return out


def _image_url_dict(p: ImagePart) -> dict[str, str]:
    return {"url": p.as_url(), **({"detail": p.detail} if p.detail else {})}


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
            out.append(_message_from_dict(item, f"messages[{i}]"))
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
    if content is m.content and calls is m.tool_calls:
        return m
    return Message(role, content, m.name, calls, m.tool_call_id)


def _message_from_dict(d: Mapping[str, Any], where: str) -> Message:
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
    return Message(role, content, name, calls, call_id)  # type: ignore[arg-type]


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
        if isinstance(p, TextPart):
            check_text(p.text, f"{at}.text")
            parts.append(p)
            continue
        if isinstance(p, ImagePart):
            parts.append(check_image(p, at) if role == "user" else _no_image(at, role))
            continue
        kind = p.get("type") if isinstance(p, Mapping) else None
        if kind == "text":
            parts.append(TextPart(check_text(p.get("text"), f"{at}.text")))
        elif kind == "image_url":
            if role != "user":
                _no_image(at, role)
            img = p.get("image_url")
            img = {"url": img} if isinstance(img, str) else img
            if not isinstance(img, Mapping) or not isinstance(img.get("url"), str):
                raise _bad(f"{at}.image_url", "expected {'url': 'https://...'}")
            image = ImagePart(url=img["url"], detail=img.get("detail"))
            parts.append(check_image(image, f"{at}.image_url.url", f"{at}.image_url.detail"))
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


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts. ``input_tokens`` counts every prompt token, cached ones included;
    ``cached_input_tokens`` is the part served from the provider's prompt cache. An omitted
    (negative) ``total_tokens`` is ``input_tokens + output_tokens``."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    total_tokens: int = -1

    def __post_init__(self) -> None:
        if self.total_tokens < 0:
            object.__setattr__(self, "total_tokens", self.input_tokens + self.output_tokens)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.total_tokens + other.total_tokens,
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at one target, as recorded by the engine."""

    model: str
    provider: str
    # skipped: refused locally, nothing was sent; cancelled: a hedge that lost the race
    outcome: Literal["ok", "error", "skipped", "cancelled"]
    error: ProviderError | None
    latency_s: float
    cached: bool = False


@dataclass(frozen=True, slots=True)
class Response:
    """A completed answer. ``model``/``provider`` are the spec's names, ``model_id`` what the
    provider reported; ``cost`` and ``attempts`` are filled by the engine, not the adapter."""

    content: str
    finish_reason: str
    usage: Usage
    model: str
    model_id: str
    provider: str
    cost: float | None
    latency_s: float
    cached: bool = False
    attempts: tuple[Attempt, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    raw_id: str | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a streamed answer. The last chunk of a stream carries ``finish_reason``,
    ``usage`` and the complete ``tool_calls``; the ones before it only text."""

    delta: str
    model: str
    provider: str
    finish_reason: str | None = None
    usage: Usage | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    cached: bool = False  # replayed from the router's cache (set on every replayed chunk)


@dataclass(frozen=True, slots=True)
class Request:
    """What the engine hands an adapter for one attempt. ``model`` and ``provider`` are the
    spec's names (used to tag errors), ``model_id`` is what is sent on the wire. ``timeout`` is
    per attempt, in seconds; ``extra`` is merged into the provider's request body as-is."""

    model: str
    model_id: str
    provider: str
    messages: tuple[Message, ...]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    tools: tuple[ToolDefinition, ...] = ()
    tool_choice: ToolChoice | None = None
    response_format: Mapping[str, Any] | None = None
    timeout: float | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False)  # may hold secrets
    #: Read by the router's cache node, never sent: how long to cache this call's answer
    #: (None: not cached), and the namespace its entry lives in (task, and tenant if given).
    cache_ttl: float | None = None
    cache_namespace: str = ""
