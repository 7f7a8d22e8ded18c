"""What routing knows about a request before choosing a model: its features (task, size in
tokens, output budget, capabilities it needs, tags, metadata, its text for content rules), from
the call's messages and arguments, with a tokenizer-free estimate of its size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from router.routing.classify import Classification
from router.routing.content import RequestText
from router.types import ImagePart, Message

__all__ = [
    "DEFAULT_EXPECTED_OUTPUT",
    "Features",
    "estimate_tokens",
    "request_features",
]

# A rough, tokenizer-free estimate: ~4 characters per token for English text and code, plus a
# fixed cost per message and per image (OpenAI bills a high-detail 512px tile at 765 tokens).
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4
TOKENS_PER_IMAGE = 765
# When a call sets no max_tokens, cost estimates assume this many output tokens.
DEFAULT_EXPECTED_OUTPUT = 1024


def estimate_tokens(messages: Sequence[Message]) -> int:
    total = 0
    for message in messages:
        total += TOKENS_PER_MESSAGE
        if isinstance(message.content, str):
            total += len(message.content) // CHARS_PER_TOKEN + 1
        else:
            for part in message.content:
                if isinstance(part, ImagePart):
                    total += TOKENS_PER_IMAGE
                else:
                    total += len(part.text) // CHARS_PER_TOKEN + 1
    return total


@dataclass(frozen=True, slots=True)
class Features:
    """What rules and constraints look at in a request."""

    task: str
    input_tokens: int
    output_tokens: int | None = None
    capabilities: frozenset[str] = frozenset()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    #: What the classifier decided, for a call that asked to be classified (else None).
    classification: Classification | None = None
    #: The messages' text, for content rules (read within their bound, when a rule asks).
    text: RequestText | None = field(default=None, repr=False, compare=False)


def request_features(
    task: str,
    messages: Sequence[Message],
    *,
    stream: bool = False,
    tools: bool = False,
    json_output: bool = False,
    max_tokens: int | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
    classification: Classification | None = None,
) -> Features:
    needs = set()
    if stream:
        needs.add("streaming")
    if tools:
        needs.add("tools")
    if json_output:
        needs.add("json")
    if any(
        not isinstance(m.content, str) and any(isinstance(p, ImagePart) for p in m.content)
        for m in messages
    ):
        needs.add("vision")
    return Features(
        task=task,
        input_tokens=estimate_tokens(messages),
        output_tokens=max_tokens,
        capabilities=frozenset(needs),
        metadata=dict(metadata or {}),
        tags=frozenset(tags),
        classification=classification,
        text=RequestText(messages),
    )
