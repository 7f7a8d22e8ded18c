"""ResilientBackend: what happens when the primary goes away and comes back. First the
decision logic over an in-process primary that can be switched off (deterministic, fake
clock), then a real redis-server killed, stalled and restarted under it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from structlog.testing import capture_logs

from router.errors import RouterError
from router.state import MemoryBackend, ResilientBackend, StateUnavailable
from router.state.redis import RedisBackend
from router.state.resilient import DOWN_REFUSING, DOWN_SERVING, RECOVERED

from .helpers import PASSWORD, FakeClock, RedisServer, fire

LIMIT: dict[str, Any] = {"cost": 1, "interval": 60.0, "burst": 1}


class Switchable(MemoryBackend):
    """A primary that refuses connections while ``down``, and counts the calls it gets."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.down = False
        self.calls = 0

    def _gate(self) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionRefusedError(111, "Connection refused")

    # The async methods of MemoryBackend call these, so both paths pass the gate once.
    def acquire(self, key: str, **kw: Any) -> float:
        self._gate()
        return super().acquire(key, **kw)

    def held_until(self, key: str, now: float | None = None) -> float | None:
        self._gate()
        return super().held_until(key, now)

    def hold(self, key: str, until: float) -> None:
        self._gate()
        super().hold(key, until)


@pytest.fixture
def mono() -> FakeClock:
    """The wrapper's own (monotonic) clock, which schedules probes."""
    return FakeClock(start=50.0)


@pytest.fixture
def primary(clock: FakeClock) -> Switchable:
    return Switchable(clock)


def events(logs: Sequence[MutableMapping[str, Any]], name: str) -> list[MutableMapping[str, Any]]:
    return [e for e in logs if e["event"] == name]


# -- the decision, over an in-process primary -------------------------------------------------
def test_fail_open_serves_from_the_fallback_and_logs_once(
    primary: Switchable, clock: FakeClock, mono: FakeClock
) -> None:
    fallback = MemoryBackend(clock=clock)
    backend = ResilientBackend(
        primary, mode="fail_open", fallback=fallback, retry_every=5.0, clock=mono
    )
    with capture_logs() as logs:
        assert backend.acquire("k", **LIMIT, now=clock.now) == 0.0
        primary.down = True
        # The primary's limit is not visible any more: the fallback starts empty.
        assert backend.acquire("k", **LIMIT, now=clock.now) == 0.0
        assert [backend.acquire("k", **LIMIT, now=clock.now) for _ in range(5)] == [60.0] * 5
    assert primary.calls == 2  # the call that failed, then none while down
    assert backend.degraded
    [down] = events(logs, DOWN_SERVING)
    assert down["log_level"] == "warning"
    assert down["mode"] == "fail_open"
    assert "ConnectionRefusedError" in down["error"]
    assert events(logs, RECOVERED) == []


def test_the_primary_is_probed_at_most_every_retry_every(
    primary: Switchable, clock: FakeClock, mono: FakeClock
) -> None:
    backend = ResilientBackend(primary, mode="fail_open", retry_every=5.0, clock=mono)
    primary.down = True
    with capture_logs() as logs:
        backend.held_until("h")
        mono.advance(4.9)
        backend.held_until("h")
        assert primary.calls == 1
        mono.advance(0.1)
        backend.held_until("h")  # the probe: still down
        backend.held_until("h")
        assert primary.calls == 2
        mono.advance(5.0)
        primary.down = False
        backend.hold("h", clock.now + 10)  # the probe: up again, and served by the primary
        assert backend.held_until("h") == clock.now + 10
    assert primary.calls == 4
    assert not backend.degraded
    assert len(events(logs, DOWN_SERVING)) == 1
    [up] = events(logs, RECOVERED)
    assert up["down_for"] == pytest.approx(10.0)


def test_concurrent_callers_send_one_probe_per_period(
    primary: Switchable, clock: FakeClock, mono: FakeClock
) -> None:
    backend = ResilientBackend(primary, mode="fail_open", retry_every=5.0, clock=mono)
    primary.down = True
    backend.held_until("h")
    mono.advance(5.0)
    with ThreadPoolExecutor(16) as pool:
        fire(pool, 200, lambda: backend.held_until("h"))
    assert primary.calls == 2


def test_fail_closed_refuses_promptly_without_touching_the_primary(
    primary: Switchable, clock: FakeClock, mono: FakeClock
) -> None:
    backend = ResilientBackend(primary, mode="fail_closed", retry_every=5.0, clock=mono)
    primary.down = True
    with capture_logs() as logs:
        with pytest.raises(StateUnavailable) as first:
            backend.acquire("k", **LIMIT)
        for _ in range(3):
            with pytest.raises(StateUnavailable):
                backend.acquire("k", **LIMIT)
        mono.advance(5.0)
        primary.down = False
        assert backend.acquire("k", **LIMIT, now=clock.now) == 0.0
    assert primary.calls == 2
    assert isinstance(first.value, RouterError)
    # The client's exception stays behind (it can hold the connection, URL included); the
    # message names it instead.
    assert first.value.__cause__ is None and first.value.__context__ is None
    assert "ConnectionRefusedError" in str(first.value)
    message = str(first.value)
    assert "unreachable" in message
    assert "state.on_unavailable is fail_closed" in message
    assert len(events(logs, DOWN_REFUSING)) == 1
    assert len(events(logs, RECOVERED)) == 1


def test_async_calls_fail_over_and_recover_the_same_way(
    primary: Switchable, clock: FakeClock, mono: FakeClock
) -> None:
    backend = ResilientBackend(primary, mode="fail_open", retry_every=5.0, clock=mono)

    async def main() -> list[float | None]:
        await backend.ahold("h", clock.now + 30)
        primary.down = True
        seen = [await backend.aheld_until("h"), await backend.aheld_until("h")]
        mono.advance(5.0)
        primary.down = False
        seen.append(await backend.aheld_until("h"))
        return seen

    with capture_logs() as logs:
        seen = asyncio.run(main())
    assert seen == [None, None, clock.now + 30]
    assert primary.calls == 3
    assert len(events(logs, DOWN_SERVING)) == len(events(logs, RECOVERED)) == 1


def test_errors_other_than_unavailability_propagate(primary: Switchable, mono: FakeClock) -> None:
    backend = ResilientBackend(primary, mode="fail_open", clock=mono)
    with pytest.raises(ValueError, match="burst"):
        backend.acquire("k", cost=1, interval=1.0, burst=0)
    assert not backend.degraded


def test_health_says_which_backend_serves(
    primary: Switchable, clock: FakeClock, mono: FakeClock
) -> None:
    backend = ResilientBackend(primary, mode="fail_open", retry_every=5.0, clock=mono)
    assert backend.health()["ok"] is True
    assert backend.health()["in_use"] == "memory"
    primary.down = True
    with capture_logs():
        backend.held_until("h")
    mono.advance(1.0)
    health = backend.health()
    assert health["ok"] is False
    assert health["in_use"] == "memory"
    assert health["next_probe_in"] == pytest.approx(4.0)
    assert "serving with per-process memory" in health["detail"]
    closed = ResilientBackend(Switchable(clock), mode="fail_closed", clock=mono)
    closed.primary.down = True  # type: ignore[attr-defined]
    with capture_logs(), pytest.raises(StateUnavailable):
        closed.held_until("h")
    assert closed.health()["in_use"] is None
    assert "refusing calls" in closed.health()["detail"]


def test_a_fallback_with_fail_closed_is_a_mistake(primary: Switchable) -> None:
    with pytest.raises(ValueError, match="fail_open"):
        ResilientBackend(primary, mode="fail_closed", fallback=MemoryBackend())


# -- a real Redis that dies, stalls and comes back ------------------------------------------
CONNECT_TIMEOUT = 0.25
MARGIN = 0.25


@pytest.fixture
def own_redis(redis_server: RedisServer) -> Iterator[RedisServer]:
    """A second redis-server, just for one test (which may kill it)."""
    server = RedisServer().start()
    yield server
    if server.proc is not None and sys.platform != "win32":
        os.kill(server.proc.pid, signal.SIGCONT)
    server.stop()


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_redis_dying_mid_run_fails_open_then_recovers(
    own_redis: RedisServer, clock: FakeClock, mono: FakeClock
) -> None:
    primary = RedisBackend(own_redis.url, key_prefix="rz:", connect_timeout=CONNECT_TIMEOUT)
    backend = ResilientBackend(primary, mode="fail_open", retry_every=5.0, clock=mono)
    with capture_logs() as logs:
        assert backend.acquire("k", **LIMIT, now=clock.now) == 0.0
        assert backend.acquire("k", **LIMIT, now=clock.now) == 60.0  # shared state: Redis
        own_redis.stop()
        durations = []
        for _ in range(20):
            _, took = timed(lambda: backend.acquire("k", **LIMIT, now=clock.now))
            durations.append(took)
        assert max(durations) < CONNECT_TIMEOUT + MARGIN
        assert backend.degraded
        assert len(events(logs, DOWN_SERVING)) == 1

        own_redis.start()
        # Before retry_every has passed nothing tries Redis, so nothing notices it is back.
        backend.acquire("k", **LIMIT, now=clock.now)
        assert backend.degraded
        mono.advance(5.0)
        # The probe reaches Redis again, whose state was lost with the process: admitted.
        assert backend.acquire("k", **LIMIT, now=clock.now) == 0.0
        assert not backend.degraded
        assert own_redis.client().exists("rz:rl:k") == 1
        assert backend.acquire("k", **LIMIT, now=clock.now) == 60.0
    assert len(events(logs, DOWN_SERVING)) == 1
    assert len(events(logs, RECOVERED)) == 1
    backend.close()


def test_redis_dying_mid_run_fails_closed_promptly(
    own_redis: RedisServer, clock: FakeClock, mono: FakeClock
) -> None:
    primary = RedisBackend(own_redis.url, key_prefix="rz:", connect_timeout=CONNECT_TIMEOUT)
    backend = ResilientBackend(primary, mode="fail_closed", retry_every=5.0, clock=mono)
    with capture_logs() as logs:
        backend.cache_set("c", b"v", ttl=60)
        own_redis.stop()
        for _ in range(10):
            started = time.monotonic()
            with pytest.raises(StateUnavailable):
                backend.cache_get("c")
            assert time.monotonic() - started < CONNECT_TIMEOUT + MARGIN
        own_redis.start()
        mono.advance(5.0)
        assert backend.cache_get("c") is None  # a fresh server: the entry died with the old one
        backend.cache_set("c", b"v", ttl=60)
        assert backend.cache_get("c") == b"v"
    assert len(events(logs, DOWN_REFUSING)) == 1
    assert len(events(logs, RECOVERED)) == 1
    backend.close()


def test_async_redis_dying_mid_run_fails_open_then_recovers(
    own_redis: RedisServer, clock: FakeClock, mono: FakeClock
) -> None:
    primary = RedisBackend(own_redis.url, key_prefix="rz:", connect_timeout=CONNECT_TIMEOUT)
    backend = ResilientBackend(primary, mode="fail_open", retry_every=5.0, clock=mono)

    async def main() -> None:
        assert await backend.aincr("n", 1, ttl=60) == 1.0
        own_redis.stop()
        started = time.monotonic()
        results = await asyncio.gather(*(backend.aincr("n", 1, ttl=60) for _ in range(50)))
        assert time.monotonic() - started < CONNECT_TIMEOUT + MARGIN
        assert sorted(results) == [float(i) for i in range(1, 51)]  # the fallback counts
        own_redis.start()
        mono.advance(5.0)
        assert await backend.aincr("n", 1, ttl=60) == 1.0  # Redis again (a fresh one)
        assert await backend.aincr("n", 1, ttl=60) == 2.0
        await backend.aclose()

    with capture_logs() as logs:
        asyncio.run(main())
    assert len(events(logs, DOWN_SERVING)) == 1
    assert len(events(logs, RECOVERED)) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP")
def test_a_stalled_redis_costs_one_timeout_then_nothing(
    own_redis: RedisServer, clock: FakeClock, mono: FakeClock
) -> None:
    primary = RedisBackend(own_redis.url, key_prefix="rz:", connect_timeout=CONNECT_TIMEOUT)
    backend = ResilientBackend(primary, mode="fail_open", retry_every=5.0, clock=mono)
    assert backend.held_until("h") is None
    assert own_redis.proc is not None
    os.kill(own_redis.proc.pid, signal.SIGSTOP)  # accepts connections, never answers
    with capture_logs() as logs:
        _, first = timed(lambda: backend.held_until("h"))
        _, rest = timed(lambda: [backend.held_until("h") for _ in range(100)])
    assert CONNECT_TIMEOUT * 0.9 < first < CONNECT_TIMEOUT + MARGIN
    assert rest < MARGIN
    [down] = events(logs, DOWN_SERVING)
    assert "Timeout" in down["error"]
    backend.close()


def test_many_threads_hitting_a_dead_redis_log_once(
    own_redis: RedisServer, clock: FakeClock, mono: FakeClock
) -> None:
    primary = RedisBackend(own_redis.url, key_prefix="rz:", connect_timeout=CONNECT_TIMEOUT)
    backend = ResilientBackend(primary, mode="fail_open", retry_every=5.0, clock=mono)
    start = threading.Barrier(16)
    backend.held_until("h")
    own_redis.stop()

    def call() -> float | None:
        start.wait()
        return backend.held_until("h")

    with capture_logs() as logs, ThreadPoolExecutor(16) as pool:
        assert fire(pool, 16, call) == [None] * 16
    assert len(events(logs, DOWN_SERVING)) == 1
    backend.close()


def test_the_password_never_shows(own_redis: RedisServer, mono: FakeClock) -> None:
    primary = RedisBackend(own_redis.url, connect_timeout=CONNECT_TIMEOUT)
    closed = ResilientBackend(primary, mode="fail_closed", clock=mono)
    texts = [repr(primary), str(primary), repr(closed), str(primary.health())]
    texts += [str(vars(primary)), primary.location]
    own_redis.stop()
    with capture_logs() as logs, pytest.raises(StateUnavailable) as refused:
        closed.acquire("k", **LIMIT)
    texts += [str(refused.value), repr(refused.value), str(refused.value.__cause__)]
    texts += [str(logs), str(primary.health()), str(closed.health())]
    assert f"127.0.0.1:{own_redis.port}" in texts[0]
    assert all(PASSWORD not in text for text in texts)
