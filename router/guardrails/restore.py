"""Putting masked values back: the placeholders of one request (``<EMAIL_1>``) and what they
stand for, restored in a whole answer or in a stream whose chunks may split a placeholder.

A :class:`RestoreMap` holds personal data, so it never shows it: its ``repr`` counts the
values, it has no ``__dict__``, and it refuses to be pickled (a cache or a queue that
serialised it would store the values).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import NoReturn

from router.types import Chunk, Response, ToolCall

__all__ = ["PLACEHOLDER", "RestoreMap", "StreamRestorer", "placeholder"]

#: A placeholder's shape: ``<`` LABEL ``_`` number ``>``, the label in capitals (``EMAIL``,
#: ``US_SSN``). Flat: one bounded class then a bounded number, so a text of many ``<`` is
#: scanned in linear time.
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]{0,40}_[0-9]{1,7}>")


def placeholder(label: str, number: int) -> str:
    return f"<{label}_{number}>"


class RestoreMap:
    """Placeholder → original value, for one request. Empty when nothing restorable was
    masked; ``restore_*`` then return their argument unchanged."""

    __slots__ = ("_sorted", "_values")

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values: dict[str, str] = dict(values or {})
        self._sorted: list[str] | None = None

    def __repr__(self) -> str:
        n = len(self._values)
        return f"RestoreMap(<{n} value{'s' if n != 1 else ''} hidden>)"

    def __len__(self) -> int:
        return len(self._values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a RestoreMap holds masked values and is not pickled")

    def placeholders(self) -> tuple[str, ...]:
        """The placeholders it restores (never the values)."""
        return tuple(self._values)

    def _sub(self, match: re.Match[str]) -> str:
        return self._values.get(match.group(0), match.group(0))

    def text(self, text: str) -> str:
        """``text`` with every placeholder of this request replaced by its value (others, and
        anything shaped like one that this request did not make, are left as they are)."""
        if not self._values or "<" not in text:
            return text
        return PLACEHOLDER.sub(self._sub, text)

    def _json_sub(self, match: re.Match[str]) -> str:
        value = self._values.get(match.group(0))
        return match.group(0) if value is None else json.dumps(value, ensure_ascii=False)[1:-1]

    def arguments(self, text: str) -> str:
        """JSON text (a tool call's arguments) with its placeholders restored, each value
        escaped as the inside of a JSON string, so the arguments stay valid JSON."""
        if not self._values or "<" not in text:
            return text
        return PLACEHOLDER.sub(self._json_sub, text)

    def tool_calls(self, calls: tuple[ToolCall, ...]) -> tuple[ToolCall, ...]:
        if not self._values or not calls:
            return calls
        out = tuple(replace(c, arguments=self.arguments(c.arguments)) for c in calls)
        return calls if all(a is b for a, b in zip(out, calls, strict=True)) else out

    def response(self, response: Response) -> Response:
        """``response`` with its text, reasoning and tool call arguments restored."""
        if not self._values:
            return response
        content = self.text(response.content)
        reasoning = None if response.reasoning is None else self.text(response.reasoning)
        calls = self.tool_calls(response.tool_calls)
        if (
            content is response.content
            and reasoning is response.reasoning
            and calls is response.tool_calls
        ):
            return response
        return replace(response, content=content, reasoning=reasoning, tool_calls=calls)

    def conceal(self, text: str) -> str:
        """``text`` with each value of this request put back behind its placeholder (the
        longest values first): an answer as the model gave it, for a log that must not hold
        the values."""
        if not self._values or not text:
            return text
        for placeholder_, value in sorted(self._values.items(), key=lambda kv: -len(kv[1])):
            if value in text:
                text = text.replace(value, placeholder_)
        return text

    def stream(self) -> StreamRestorer:
        """A restorer for one streamed answer (text and reasoning, chunk by chunk)."""
        return StreamRestorer(self)

    def starts_one(self, text: str) -> bool:
        """Whether ``text`` is the start of one of the placeholders, not all of it (what a
        stream must hold back)."""
        if self._sorted is None:
            self._sorted = sorted(self._values)
        i = bisect.bisect_left(self._sorted, text)
        return (
            i < len(self._sorted) and self._sorted[i] != text and self._sorted[i].startswith(text)
        )


class _Held:
    """One text stream's held-back tail: at most a proper prefix of a placeholder."""

    __slots__ = ("_map", "_tail")

    def __init__(self, restore: RestoreMap) -> None:
        self._map = restore
        self._tail = ""

    def feed(self, text: str) -> str:
        if not self._map:
            return text
        text = self._tail + text if self._tail else text
        cut = text.rfind("<")
        # Only the part from the last "<" can be the start of a placeholder still arriving:
        # a placeholder holds no other "<", so an earlier one is complete or is not one.
        if cut >= 0 and len(text) - cut < 64 and self._map.starts_one(text[cut:]):
            self._tail = text[cut:]
            text = text[:cut]
        else:
            self._tail = ""
        return self._map.text(text)

    def flush(self) -> str:
        tail, self._tail = self._tail, ""
        return tail  # an incomplete placeholder: it restores to nothing, so it goes as it is


class StreamRestorer:
    """Restores placeholders in a streamed answer. :meth:`feed` takes each piece of text and
    returns what can be shown now: everything but a tail that may be the start of a
    placeholder (only that tail is held, and only while it is a proper prefix of one of this
    request's placeholders); :meth:`flush` returns what is held at the end. :meth:`chunk` does
    both for :class:`~router.types.Chunk` objects: ``delta`` and ``reasoning`` are restored
    separately, and the last chunk (with ``finish_reason``) carries what was held and its
    tool calls restored. A chunk's ``delta`` may be ``""`` while a placeholder is arriving."""

    __slots__ = ("_map", "_reasoning", "_text")

    def __init__(self, restore: RestoreMap) -> None:
        self._map = restore
        self._text = _Held(restore)
        self._reasoning = _Held(restore)

    def __repr__(self) -> str:
        return f"StreamRestorer({self._map!r})"

    def feed(self, text: str) -> str:
        return self._text.feed(text)

    def flush(self) -> str:
        return self._text.flush()

    def chunk(self, chunk: Chunk) -> Chunk:
        if not self._map:
            return chunk
        delta = self._text.feed(chunk.delta)
        reasoning = self._reasoning.feed(chunk.reasoning)
        calls = chunk.tool_calls
        if chunk.finish_reason is not None:
            delta += self._text.flush()
            reasoning += self._reasoning.flush()
            calls = self._map.tool_calls(calls)
        if delta == chunk.delta and reasoning == chunk.reasoning and calls is chunk.tool_calls:
            return chunk
        return replace(chunk, delta=delta, reasoning=reasoning, tool_calls=calls)
