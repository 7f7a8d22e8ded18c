"""Client-side rate limits: requests and tokens per minute, per provider and per model.

Each configured limit is a GCRA key in the state backend (:mod:`router.state.gcra`), so the
limit is exact under concurrency, in threads and in asyncio, and shared by every process when
the state is on Redis. A call is admitted only when *every* limit that applies admits it; when
one refuses, the units already charged to the others are refunded, and the node raises a local
:class:`~router.errors.RateLimitError` carrying the wait. The chain decides what to do with it
(the task's ``on_limit``: move on, or wait within the deadline).

Requests: ``interval = 60 / requests_per_minute`` and a burst of one second's worth (at least
1), so any 60-second window admits at most the limit plus that burst minus one; with 60 per
minute or less, at most the limit. Tokens: charged before the call from the estimate (prompt
plus expected output), reconciled with the real usage after it; the burst is a whole
minute's worth, since one request may carry thousands of tokens.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from dataclasses import dataclass

from router.errors import RateLimitError
from router.nodes.base import Node, NodeHealth, Wrapper
from router.nodes.load import Live
from router.specmodel import Limits
from router.state.base import StateBackend
from router.types import Chunk, Request, Response, Usage


@dataclass(frozen=True, slots=True)
class Limit:
    key: str
    interval: float
    burst: float
    tokens: bool  # charged in tokens (else one unit per request)
    label: str  # for messages: "provider 'openai': 500 requests/min"


def limits_for(scope: str, name: str, limits: Limits) -> list[Limit]:
    out = []
    if limits.requests_per_minute:
        rpm = limits.requests_per_minute
        out.append(
            Limit(
                f"rpm:{scope}:{name}",
                60.0 / rpm,
                max(1.0, rpm // 60),
                False,
                f"{scope} '{name}': {rpm} requests/min",
            )
        )
    if limits.tokens_per_minute:
        tpm = limits.tokens_per_minute
        out.append(
            Limit(
                f"tpm:{scope}:{name}",
                60.0 / tpm,
                float(tpm),
                True,
                f"{scope} '{name}': {tpm} tokens/min",
            )
        )
    return out


class LimiterNode(Wrapper):
    __slots__ = ("backend", "clock", "estimate", "limits", "live", "model", "provider")

    # Tokens are estimated before the call (prompt plus expected output) and reconciled
    # with the usage the provider reports on the final response or chunk.

    def __init__(
        self,
        wrapped: Node,
        backend: StateBackend,
        limits: list[Limit],
        *,
        model: str,
        provider: str,
        estimate: Callable[[Request], int],
        live: Live | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``live`` (with ``clock``, monotonic) learns each admission's booking and each
        refusal's wait, for the balancing strategies (headroom; a full deployment is not
        chosen until its next slot)."""
        self.wrapped = wrapped
        self.live = live
        self.clock = clock
        self.backend = backend
        self.limits = limits
        self.model = model
        self.provider = provider
        self.estimate = estimate

    def describe(self) -> str:
        return "limiter(" + ", ".join(lim.label for lim in self.limits) + ")"

    def health(self) -> NodeHealth:
        return {"limits": [limit.label for limit in self.limits]}

    def _learn(self, tokens: int, wait: float, booked: Sequence[float] | None) -> None:
        """Tell the deployment's live figures: a refusal holds it until the next slot; an
        admission books each limit (the backend's figures when it gives them, shared by every
        process on Redis; else this process's own arithmetic)."""
        live = self.live
        assert live is not None
        now = self.clock()
        if wait > 0:
            live.hold(now + wait)
            return
        for i, lim in enumerate(self.limits):
            if booked is not None and i < len(booked):
                live.booked(lim.key, now + booked[i], lim.burst * lim.interval)
            else:
                cost = float(tokens) if lim.tokens else 1.0
                live.charge(lim.key, cost, lim.interval, lim.burst, now)

    def _refused(self, wait: float) -> RateLimitError:
        labels = "; ".join(limit.label for limit in self.limits)
        return RateLimitError(
            f"client-side limit reached ({labels}); next slot in {wait:.2f}s",
            provider=self.provider,
            model=self.model,
            retry_after=wait,
            local=True,
        )

    # -- admission: every limit or none, in one atomic step (one Lua script on Redis) ---------

    def _cells(self, tokens: int) -> list[tuple[str, float, float, float]]:
        return [
            (lim.key, float(tokens) if lim.tokens else 1.0, lim.interval, lim.burst)
            for lim in self.limits
        ]

    def _acquire(self, request: Request) -> int:
        tokens = self.estimate(request)
        if self.live is None:
            wait = self.backend.acquire_all(self._cells(tokens))
        else:
            wait, booked = self.backend.acquire_booked(self._cells(tokens))
            self._learn(tokens, wait, booked)
        if wait > 0:
            raise self._refused(wait)
        return tokens

    async def _aacquire(self, request: Request) -> int:
        tokens = self.estimate(request)
        if self.live is None:
            wait = await self.backend.aacquire_all(self._cells(tokens))
        else:
            wait, booked = await self.backend.aacquire_booked(self._cells(tokens))
            self._learn(tokens, wait, booked)
        if wait > 0:
            raise self._refused(wait)
        return tokens

    def _deltas(self, estimated: int, usage: Usage | None) -> list[tuple[Limit, float]]:
        if usage is None:
            return []
        delta = float(usage.total_tokens - estimated)
        return [(lim, delta) for lim in self.limits if lim.tokens and delta]

    def _reconcile(self, estimated: int, usage: Usage | None) -> None:
        for limit, delta in self._deltas(estimated, usage):
            self.backend.adjust(limit.key, delta=delta, interval=limit.interval)

    async def _areconcile(self, estimated: int, usage: Usage | None) -> None:
        for limit, delta in self._deltas(estimated, usage):
            await self.backend.aadjust(limit.key, delta=delta, interval=limit.interval)

    # -- calls ------------------------------------------------------------------------------

    def complete(self, request: Request) -> Response:
        estimated = self._acquire(request)
        response = self.wrapped.complete(request)
        self._reconcile(estimated, response.usage)
        return response

    async def acomplete(self, request: Request) -> Response:
        estimated = await self._aacquire(request)
        response: Response = await self.wrapped.acomplete(request)
        await self._areconcile(estimated, response.usage)
        return response

    def stream(self, request: Request) -> Iterator[Chunk]:
        estimated = self._acquire(request)
        for chunk in self.wrapped.stream(request):
            if chunk.finish_reason is not None:
                self._reconcile(estimated, chunk.usage)
            yield chunk

    async def astream(self, request: Request) -> AsyncGenerator[Chunk, None]:
        estimated = await self._aacquire(request)
        async with contextlib.aclosing(self.wrapped.astream(request)) as chunks:
            async for chunk in chunks:
                if chunk.finish_reason is not None:
                    await self._areconcile(estimated, chunk.usage)
                yield chunk
