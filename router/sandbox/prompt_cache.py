"""The providers' prompt caches, as the sandbox keeps them, so that usage reports cache reads
and writes the way the real services do.

- Anthropic caches the prompt prefix that ends at a ``cache_control`` marker (tools, then
  system, then messages), when it is at least :data:`MIN_CACHEABLE` tokens long. A request
  reads the longest marked prefix seen before (``cache_read_input_tokens``) and writes the rest
  up to its last marker (``cache_creation_input_tokens``); ``input_tokens`` is what is left.
- OpenAI caches by itself: a prompt of at least :data:`MIN_CACHEABLE` tokens whose leading
  messages were seen before reads them (``prompt_tokens_details.cached_tokens``, counted in
  ``prompt_tokens``), in steps of :data:`OPENAI_STEP` tokens. Writes are free and not reported.

A prefix is known by the SHA-256 of its canonical JSON (markers left out) and the model.
Nothing expires: the sandbox's life is a test's.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

from .answer import MESSAGE_OVERHEAD, Prompt, count_tokens

__all__ = ["MIN_CACHEABLE", "OPENAI_STEP", "PromptCache", "anthropic_points"]

MIN_CACHEABLE = 1024
OPENAI_STEP = 128

#: (tokens up to here, digest of the prefix up to here)
Point = tuple[int, str]


def _unmarked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unmarked(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_unmarked(v) for v in value]
    return value


def _digest(model: str, items: list[Any]) -> str:
    text = json.dumps([model, items], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _tokens(item: Any) -> int:
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        return count_tokens(item["text"])
    if isinstance(item, str):
        return count_tokens(item)
    return count_tokens(json.dumps(_unmarked(item), default=str))


def anthropic_points(body: dict[str, Any]) -> tuple[Point, ...]:
    """The prefixes a Messages body marks for caching, in prompt order."""
    model = str(body.get("model"))
    items: list[Any] = []
    points: list[Point] = []
    tokens = 0

    def visit(item: Any, marked: bool) -> None:
        nonlocal tokens
        items.append(_unmarked(item))
        tokens += _tokens(item)
        if marked:
            points.append((tokens, _digest(model, items)))

    for tool in body.get("tools") or ():
        visit(tool, isinstance(tool, dict) and "cache_control" in tool)
    system = body.get("system")
    for block in [system] if isinstance(system, str) else system or ():
        visit(block, isinstance(block, dict) and "cache_control" in block)
    for msg in body.get("messages") or ():
        if not isinstance(msg, dict):
            continue
        tokens += MESSAGE_OVERHEAD
        content = msg.get("content")
        items.append(msg.get("role"))
        for block in [content] if isinstance(content, str) else content or ():
            visit(block, isinstance(block, dict) and "cache_control" in block)
    return tuple(points)


class PromptCache:
    """The prefixes seen, per model. Thread-safe."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def anthropic(self, points: tuple[Point, ...], prompt_tokens: int) -> tuple[int, int]:
        """(tokens read, tokens written) for a request with these marked prefixes."""
        usable = [(min(t, prompt_tokens), d) for t, d in points if t >= MIN_CACHEABLE]
        if not usable:
            return 0, 0
        with self._lock:
            read = max((t for t, d in usable if d in self._seen), default=0)
            self._seen.update(d for _, d in usable)
        last = usable[-1][0]
        return read, max(last - read, 0)

    def settle(self, prompt: Prompt) -> None:
        """What the cache does for ``prompt`` (about to be answered): its reads and writes."""
        if prompt.api == "anthropic":
            prompt.cache_read, prompt.cache_write = self.anthropic(
                prompt.cache_points, prompt.prompt_tokens
            )
        else:
            prompt.cache_read = self.openai(prompt.cache_points, prompt.prompt_tokens)

    def openai(self, points: tuple[Point, ...], prompt_tokens: int) -> int:
        """Tokens read for a prompt with these message-boundary prefixes."""
        if prompt_tokens < MIN_CACHEABLE:
            return 0
        usable = [(min(t, prompt_tokens), d) for t, d in points if t >= MIN_CACHEABLE]
        with self._lock:
            hit = max((t for t, d in usable if d in self._seen), default=0)
            self._seen.update(d for _, d in usable)
        return hit // OPENAI_STEP * OPENAI_STEP
