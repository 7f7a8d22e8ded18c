"""Where the router keeps state shared by its nodes: rate limits, holds, cached responses and
counters, in this process's memory or in Redis (shared by every process using it).

    from router.state import make_backend
    backend = make_backend("redis", url="redis://localhost:6379/0", on_unavailable="fail_open")
    wait = backend.acquire("openai/gpt-4o:rpm", cost=1, interval=60 / 500, burst=1)

The contract is :class:`StateBackend` (:mod:`router.state.base`), the limit arithmetic
:mod:`router.state.gcra`, the Redis key layout :mod:`router.state.redis`, and what happens when
Redis is down :mod:`router.state.resilient`. Redis support needs the ``redis`` extra
(``pip install 'declarative-llm-router[redis]'``); it is imported only when a Redis backend is
made.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from router.errors import ConfigError
from router.redaction import redact
from router.state.base import StateBackend, StateUnavailable
from router.state.memory import MemoryBackend
from router.state.resilient import ResilientBackend

if TYPE_CHECKING:
    from router.state.redis import RedisBackend

__all__ = [
    "MemoryBackend",
    "RedisBackend",
    "ResilientBackend",
    "StateBackend",
    "StateUnavailable",
    "make_backend",
]


def __getattr__(name: str) -> Any:
    # RedisBackend imports redis-py, an optional dependency: only on first use.
    if name == "RedisBackend":
        from router.state.redis import RedisBackend

        return RedisBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_backend(
    kind: str,
    *,
    url: str | None = None,
    key_prefix: str = "router:",
    on_unavailable: str = "fail_open",
    connect_timeout: float = 0.5,
    retry_every: float = 5.0,
    clock: Callable[[], float] = time.time,
    cache_max_entries: int = 1024,
) -> StateBackend:
    """The backend the spec's ``state`` section asks for: ``"memory"``, or ``"redis"``
    wrapped in a :class:`ResilientBackend` that applies ``on_unavailable`` when it is down.
    Nothing connects until the first call. ``clock`` is the wall clock holds, cache entries
    and counters are read against (injected in tests)."""
    if kind == "memory":
        return MemoryBackend(clock=clock, cache_max_entries=cache_max_entries)
    if kind != "redis":
        raise ConfigError(f"state.backend must be 'memory' or 'redis', not {kind!r}")
    if not url:
        raise ConfigError("state.url is required when state.backend is 'redis'")
    if on_unavailable not in ("fail_open", "fail_closed"):
        raise ConfigError(
            f"state.on_unavailable must be 'fail_open' or 'fail_closed', not {on_unavailable!r}"
        )
    mode: Literal["fail_open", "fail_closed"] = (
        "fail_open" if on_unavailable == "fail_open" else "fail_closed"
    )
    try:
        from router.state.redis import RedisBackend
    except ImportError as exc:
        raise ConfigError(
            "state.backend 'redis' needs the redis package: "
            "pip install 'declarative-llm-router[redis]'"
        ) from exc
    problem: str | None = None
    try:
        primary = RedisBackend(
            url, key_prefix=key_prefix, connect_timeout=connect_timeout, clock=clock
        )
    except ValueError as exc:
        problem = redact(str(exc), url)
    if problem is not None:
        # Raised outside the except block, so the ValueError is not its __context__. The
        # message names the scheme only, never the URL (it may carry a password).
        raise ConfigError(f"state: {problem}")
    fallback = (
        MemoryBackend(clock=clock, cache_max_entries=cache_max_entries)
        if mode == "fail_open"
        else None
    )
    return ResilientBackend(primary, mode=mode, fallback=fallback, retry_every=retry_every)
