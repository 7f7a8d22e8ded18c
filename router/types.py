"""Provider-neutral values that flow between the caller, the engine and the adapters.

Everything here is a frozen, slotted dataclass: cheap to build on the hot path, safe to share
between threads and tasks, and hashable where its fields are. Callers may pass messages in the
OpenAI dict shape; :func:`router.messages.coerce_messages` turns them into :class:`Message`
objects once, at the edge, so the adapters only ever see one shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args

if TYPE_CHECKING:
    from router.errors import ProviderError

__all__ = [
    "Attempt",
    "Chunk",
    "Embeddings",
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
]

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]
FinishReason: TypeAlias = Literal["stop", "length", "tool_calls", "content_filter"]
ToolChoice: TypeAlias = Literal["auto", "none", "required"] | Mapping[str, Any]
ROLES: tuple[str, ...] = get_args(Role)
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TextPart:
    """Text. ``cache_control`` (e.g. ``{"type": "ephemeral"}``) marks the end of a prompt
    prefix for Anthropic's prompt cache; it is sent as-is to Anthropic-wire providers and left
    out for OpenAI-wire ones (which cache long prefixes by themselves)."""

    text: str
    cache_control: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image given by URL, or inline as base64 ``data`` with its ``media_type``."""

    url: str | None = None
    data: str | None = field(default=None, repr=False)  # can be megabytes: keep reprs readable
    media_type: str | None = None
    detail: str | None = None
    #: As :attr:`TextPart.cache_control`.
    cache_control: Mapping[str, Any] | None = None

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
        marker = f", cache_control={dict(self.cache_control)!r}" if self.cache_control else ""
        return f"ImagePart({src}, media_type={self.media_type!r}, detail={self.detail!r}{marker})"

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
    """A tool the model may call. ``cache_control`` marks the end of a cached prefix (the
    tools come first in Anthropic's prompt), as :attr:`TextPart.cache_control`."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({"type": "object", "properties": {}})
    )
    cache_control: Mapping[str, Any] | None = None

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
    #: An assistant turn's thinking blocks, as Anthropic sent them (``{"type": "thinking",
    #: "thinking": ..., "signature": ...}`` or ``{"type": "redacted_thinking", "data": ...}``):
    #: sent back to Anthropic-wire providers, left out for the others.
    thinking_blocks: tuple[Mapping[str, Any], ...] = ()

    @property
    def text(self) -> str:
        """The text of the message, with image parts left out."""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Message:
        from router.messages import message_from_dict

        return message_from_dict(d, "message")

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI Chat Completions shape (also a stable form for cache keys and logs)."""
        out: dict[str, Any] = {"role": self.role}
        if isinstance(self.content, str):
            out["content"] = self.content
        else:
            out["content"] = [_part_dict(p) for p in self.content]
        if self.name is not None:
            out["name"] = self.name
        if self.tool_calls:
            out["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.thinking_blocks:
            out["thinking_blocks"] = [dict(b) for b in self.thinking_blocks]
        return out


def _image_url_dict(p: ImagePart) -> dict[str, str]:
    return {"url": p.as_url(), **({"detail": p.detail} if p.detail else {})}


def _part_dict(p: Part) -> dict[str, Any]:
    if isinstance(p, TextPart):
        out: dict[str, Any] = {"type": "text", "text": p.text}
    else:
        out = {"type": "image_url", "image_url": _image_url_dict(p)}
    if p.cache_control is not None:
        out["cache_control"] = dict(p.cache_control)
    return out


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts, the same for every provider.

    ``input_tokens`` counts every prompt token: the uncached ones, those read from the
    provider's prompt cache (``cached_input_tokens``, also :attr:`cache_read_tokens`) and those
    written to it (``cache_write_tokens``; Anthropic only). ``output_tokens`` counts every
    generated token, reasoning included: ``reasoning_tokens`` is the part the model spent
    thinking (as reported by OpenAI-wire providers; Anthropic counts thinking in
    ``output_tokens`` without reporting the split). An omitted (negative) ``total_tokens`` is
    ``input_tokens + output_tokens``."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    total_tokens: int = -1
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    def __post_init__(self) -> None:
        if self.total_tokens < 0:
            object.__setattr__(self, "total_tokens", self.input_tokens + self.output_tokens)

    @property
    def cache_read_tokens(self) -> int:
        """Prompt tokens read from the provider's prompt cache (``cached_input_tokens``)."""
        return self.cached_input_tokens

    @property
    def uncached_input_tokens(self) -> int:
        """Prompt tokens neither read from nor written to the provider's prompt cache."""
        return max(self.input_tokens - self.cached_input_tokens - self.cache_write_tokens, 0)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cached_input_tokens + other.cached_input_tokens,
            self.total_tokens + other.total_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
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
    #: The model's deployment tried (its name in the spec; never a key).
    deployment: str | None = None


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
    #: The model's deployment that answered (its name in the spec; never a key).
    deployment: str | None = None
    #: USD the provider's prompt cache saved on this answer (filled by the engine with
    #: ``cost``): its cache reads at the input price minus what they cost, less the premium
    #: paid for cache writes. None when unpriced.
    cache_savings: float | None = None
    #: The model's reasoning as text (Anthropic's thinking, or ``reasoning_content`` from an
    #: OpenAI-compatible server), never part of ``content``; None when there was none.
    reasoning: str | None = None
    #: Anthropic's thinking blocks as it sent them (signatures included), to be passed back
    #: with the assistant turn (see :meth:`to_message`).
    thinking_blocks: tuple[Mapping[str, Any], ...] = ()
    #: An embedding call's vectors, one per input, in input order (empty for a chat answer).
    vectors: tuple[tuple[float, ...], ...] = field(default=(), repr=False)

    def to_message(self) -> Message:
        """The answer as the assistant message of a conversation's next turn: its text, tool
        calls and thinking blocks (which Anthropic wants back, unchanged, with tool results)."""
        return Message(
            "assistant",
            self.content,
            tool_calls=self.tool_calls,
            thinking_blocks=self.thinking_blocks,
        )


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
    #: Reasoning text streamed by the model (thinking deltas), never in ``delta``.
    reasoning: str = ""
    #: On the last chunk: the complete thinking blocks (signatures included).
    thinking_blocks: tuple[Mapping[str, Any], ...] = ()


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
    #: An embedding call: the texts to embed (None: a chat completion), and the vector
    #: length asked for (sent only when given).
    embed: tuple[str, ...] | None = None
    dimensions: int | None = None


@dataclass(frozen=True, slots=True)
class Embeddings:
    """The answer of :meth:`Router.embed`: one vector per input, in input order, and the
    same accounting as a :class:`Response` (spec names, usage, cost, every attempt)."""

    vectors: tuple[tuple[float, ...], ...] = field(repr=False)
    model: str
    model_id: str
    provider: str
    usage: Usage
    cost: float | None
    latency_s: float
    cached: bool = False
    attempts: tuple[Attempt, ...] = ()
    deployment: str | None = None

    @property
    def dimensions(self) -> int:
        return len(self.vectors[0]) if self.vectors else 0

    def __len__(self) -> int:
        return len(self.vectors)
