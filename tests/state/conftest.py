"""Fixtures: one real Redis for the session (flushed before each test that uses it), a fake
clock, and ``backend``, which runs a test once on memory and once on Redis."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from router.state import MemoryBackend, StateBackend
from router.state.redis import RedisBackend

from .helpers import FakeClock, RedisServer

PREFIX = "test:"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A plain client on the session server, emptied first."""
    client = redis_server.client()
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_redis(
    redis_server: RedisServer, redis_client: redis.Redis
) -> Iterator[Callable[..., RedisBackend]]:
    """``make_redis(**kwargs)``: RedisBackends on the (flushed) session server, closed after."""
    made: list[RedisBackend] = []

    def make(**kwargs: Any) -> RedisBackend:
        options: dict[str, Any] = {"key_prefix": PREFIX, "connect_timeout": 10.0, **kwargs}
        backend = RedisBackend(redis_server.url, **options)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[StateBackend]:
    """The same test on both backends, on the fake clock (rate-limit tests pass ``now``
    explicitly: Redis would otherwise use its own TIME)."""
    made: StateBackend
    if request.param == "memory":
        made = MemoryBackend(clock=clock, cache_max_entries=64)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        request.getfixturevalue("redis_client")  # flushes
        made = RedisBackend(server.url, key_prefix=PREFIX, connect_timeout=10.0, clock=clock)
    yield made
    made.close()
