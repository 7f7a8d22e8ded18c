"""What only the Redis backend does: its key layout, server time, script reloading, and
keeping the URL's password to itself."""

from __future__ import annotations

import asyncio
import gc
import struct
import warnings
from collections.abc import Callable

import pytest
import redis

from router.state.redis import RedisBackend, redis_location

from .helpers import PASSWORD, FakeClock, RedisServer, free_port

MakeRedis = Callable[..., RedisBackend]


def test_every_key_is_prefixed_and_laid_out_by_kind(
    make_redis: MakeRedis, redis_client: redis.Redis, clock: FakeClock
) -> None:
    backend = make_redis(key_prefix="app1:", clock=clock)
    backend.acquire("openai/gpt", cost=1, interval=2.0, burst=1, now=clock.now)
    backend.hold("openai/gpt", clock.now + 30)
    backend.cache_set("abc123", b"payload", ttl=60)
    backend.incr("budget:day", 0.5, ttl=86400)
    assert sorted(redis_client.keys("*")) == [
        b"app1:cache:abc123",
        b"app1:ctr:budget:day",
        b"app1:hold:openai/gpt",
        b"app1:rl:openai/gpt",
    ]
    assert float(redis_client.get("app1:rl:openai/gpt") or 0) == clock.now + 2.0
    assert float(redis_client.get("app1:hold:openai/gpt") or 0) == clock.now + 30
    cached = redis_client.get("app1:cache:abc123")
    assert isinstance(cached, bytes)
    assert struct.unpack(">d", cached[:8]) == (clock.now + 60,)
    assert cached[8:] == b"payload"
    counter = redis_client.hgetall("app1:ctr:budget:day")
    assert (float(counter[b"v"]), float(counter[b"exp"])) == (0.5, clock.now + 86400)
    # Every key expires on its own (Redis expiry is the garbage collector; slack of ~1 s).
    ttls = {key: redis_client.pttl(key) for key in redis_client.keys("*")}
    assert 2000 < ttls[b"app1:rl:openai/gpt"] <= 3000
    assert 30000 < ttls[b"app1:hold:openai/gpt"] <= 31000
    assert 59000 < ttls[b"app1:cache:abc123"] <= 60000
    assert 86_400_000 < ttls[b"app1:ctr:budget:day"] <= 86_401_000


def test_two_prefixes_do_not_share_state(make_redis: MakeRedis, clock: FakeClock) -> None:
    a, b = make_redis(key_prefix="a:"), make_redis(key_prefix="b:")
    limit = {"cost": 1, "interval": 60.0, "burst": 1, "now": clock.now}
    assert a.acquire("k", **limit) == 0.0
    assert b.acquire("k", **limit) == 0.0
    assert a.acquire("k", **limit) == 60.0


def test_an_emptied_limit_key_is_deleted(
    make_redis: MakeRedis, redis_client: redis.Redis, clock: FakeClock
) -> None:
    backend = make_redis()
    backend.acquire("k", cost=1, interval=1.0, burst=1, now=clock.now)
    backend.adjust("k", delta=-1, interval=1.0, now=clock.now)
    assert redis_client.keys("*") == []


def test_without_now_limits_use_the_server_clock(make_redis: MakeRedis) -> None:
    # The injected clock is far in the past: only Redis TIME can make these waits right.
    backend = make_redis(clock=FakeClock(start=1000.0))
    assert backend.acquire("k", cost=1, interval=30.0, burst=1) == 0.0
    wait = backend.acquire("k", cost=1, interval=30.0, burst=1)
    assert 29.0 < wait <= 30.0


def test_scripts_are_reloaded_after_the_server_forgets_them(
    make_redis: MakeRedis, redis_client: redis.Redis, clock: FakeClock
) -> None:
    backend = make_redis()
    assert backend.acquire("k", cost=1, interval=1.0, burst=1, now=clock.now) == 0.0
    redis_client.script_flush()  # what a restart does
    assert backend.acquire("k", cost=1, interval=1.0, burst=1, now=clock.now) == 1.0
    assert backend.incr("n", 2, ttl=10) == 2.0


def test_each_event_loop_gets_its_own_client_closed_before_the_loop_ends(
    make_redis: MakeRedis, clock: FakeClock, redis_client: redis.Redis
) -> None:
    backend = make_redis()

    async def once() -> tuple[float, int]:
        wait = await backend.aacquire("k", cost=1, interval=1.0, burst=3, now=clock.now)
        return wait, len(redis_client.client_list())

    # Without awaiting aclose: the client of a finished loop must not break the next loop,
    # and is closed when its loop ends (asyncio.run), not left open for the collector.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = [asyncio.run(once()) for _ in range(4)]
        gc.collect()
        connected_after = len(redis_client.client_list())
        backend.close()
    assert [wait for wait, _ in runs] == [0.0, 0.0, 0.0, 1.0]
    # The test's own client, and the running loop's: never one per finished loop.
    assert {clients for _, clients in runs} == {2}
    assert connected_after == 1


def test_more_concurrent_tasks_than_connections_queue_instead_of_failing(
    make_redis: MakeRedis, clock: FakeClock
) -> None:
    backend = make_redis(max_connections=4)

    async def main() -> list[float]:
        calls = [backend.aincr("n", 1, ttl=10) for _ in range(200)]
        try:
            return list(await asyncio.gather(*calls))
        finally:
            await backend.aclose()

    assert max(asyncio.run(main())) == 200.0


def test_health_reports_the_server_and_a_latency(make_redis: MakeRedis) -> None:
    health = make_redis().health()
    assert health["ok"] is True
    assert health["backend"] == "redis"
    assert health["latency_ms"] >= 0


def test_health_of_an_unreachable_server_does_not_raise() -> None:
    port = free_port()
    backend = RedisBackend(f"redis://:{PASSWORD}@127.0.0.1:{port}/0", connect_timeout=0.2)
    health = backend.health()
    assert health["ok"] is False
    assert f"127.0.0.1:{port}" in health["detail"]
    assert PASSWORD not in str(health)


def test_a_wrong_password_is_reported_without_the_password(redis_server: RedisServer) -> None:
    url = f"redis://:wrong-{PASSWORD}@127.0.0.1:{redis_server.port}/0"
    backend = RedisBackend(url, connect_timeout=1.0)
    with pytest.raises(redis.exceptions.AuthenticationError) as failed:
        backend.held_until("h")
    assert PASSWORD not in str(failed.value)
    assert PASSWORD not in str(backend.health())
    backend.close()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"redis://:{PASSWORD}@cache.internal:6380/2", "cache.internal:6380"),
        (f"rediss://user:{PASSWORD}@10.0.0.5/0", "10.0.0.5:6379"),
        (f"redis://:{PASSWORD}@[::1]:7000", "[::1]:7000"),
        ("unix:///run/redis.sock?db=1", "unix:/run/redis.sock"),
    ],
)
def test_only_host_and_port_are_shown(url: str, shown: str) -> None:
    backend = RedisBackend(url)
    assert redis_location(url) == shown
    assert repr(backend) == f"RedisBackend({shown}, key_prefix='router:')"
    assert backend.location == f"redis at {shown}"
    assert PASSWORD not in repr(vars(backend))


def test_a_url_that_is_not_redis_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="redis://") as refused:
        RedisBackend(f"http://user:{PASSWORD}@example.com/")
    assert PASSWORD not in str(refused.value)
