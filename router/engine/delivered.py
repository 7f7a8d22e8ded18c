"""What one streamed attempt has delivered so far: the text, usage, finish and tool calls its
chunks carried, whether any reached the caller, and the answer they make (pure bookkeeping,
shared by the stream drivers and the hooks that read a stream)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router.errors import ProviderUnavailable, StreamInterrupted
from router.routing.attempt import Try
from router.routing.call import Target, cost_of
from router.types import Chunk, Response, ToolCall, Usage

__all__ = ["UNTERMINATED", "Delivered"]


@dataclass(slots=True)
class Delivered:
    """What one streamed attempt has delivered so far (pure bookkeeping)."""

    parts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    delivered: bool = False
    cached: bool = False
    reasoning: list[str] = field(default_factory=list)
    thinking_blocks: tuple[Mapping[str, Any], ...] = ()

    def admit(self, chunk: Chunk) -> bool:
        """Record ``chunk``; True when it should be passed to the caller. Empty chunks before
        the first content (reasoning counts as content) are held back, so failover stays
        possible until real output."""
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
            self.tool_calls = chunk.tool_calls or self.tool_calls
            self.thinking_blocks = chunk.thinking_blocks or self.thinking_blocks
            self.cached = chunk.cached
        if not (
            chunk.delta
            or chunk.reasoning
            or chunk.finish_reason
            or chunk.tool_calls
            or self.delivered
        ):
            return False
        if chunk.reasoning:
            self.reasoning.append(chunk.reasoning)
        self.parts.append(chunk.delta)
        self.delivered = True
        return True

    def accept(self, t: Try, chunk: Chunk) -> bool:
        """:meth:`admit`, after turning a refusal that arrives before any output into a
        failure the chain can move on from."""
        if not self.delivered:
            t.refusal(chunk.finish_reason)
        return self.admit(chunk)

    def check_terminated(self, target: Target) -> None:
        """A stream that ended without its terminal event is a failure, never a clean stop."""
        if self.finish_reason is None:
            raise ProviderUnavailable(
                UNTERMINATED, provider=target.provider, model=target.model.name
            )

    def cut(self, t: Try) -> StreamInterrupted | None:
        """After output reached the caller a failure cannot be failed over: the attempt is
        recorded and the StreamInterrupted to raise returned. None before any output."""
        if not self.delivered or t.failure is None:
            return None
        t.settle()
        target = t.target
        return StreamInterrupted(
            f"the stream from {target.model.name} was cut after it had started: {t.failure}",
            partial_text="".join(self.parts),
            usage=self.usage,
            model=target.model.name,
            provider=target.provider,
            attempts=tuple(t.run.attempts),
        )

    def assembled(self, target: Target, latency: float) -> Response:
        return Response(
            content="".join(self.parts),
            finish_reason=self.finish_reason or "stop",
            usage=self.usage or Usage(),
            model=target.model.name,
            model_id=target.model.id,
            provider=target.provider,
            cost=cost_of(target.model, self.usage),
            latency_s=latency,
            tool_calls=self.tool_calls,
            cached=self.cached,
            reasoning="".join(self.reasoning) or None,
            thinking_blocks=self.thinking_blocks,
        )


UNTERMINATED = "the stream ended before its terminal event"
