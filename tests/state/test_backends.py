"""The behaviour every backend shares, each test run on memory and on a real Redis, with the
fake clock (rate-limit calls pass ``now``; everything else reads the injected clock)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from router.state import MemoryBackend, StateBackend

from .helpers import FakeClock, fire

T = TypeVar("T")


def run(backend: StateBackend, main: Callable[[], Awaitable[T]]) -> T:
    """``asyncio.run(main())``, closing the backend's clients for that loop afterwards."""

    async def wrapped() -> T:
        try:
            return await main()
        finally:
            await backend.aclose()

    return asyncio.run(wrapped())


# -- rate limits ----------------------------------------------------------------------------
def test_burst_is_admitted_at_once_then_paced_by_interval(
    backend: StateBackend, clock: FakeClock
) -> None:
    t = clock.now
    limit = {"cost": 1, "interval": 2.0, "burst": 3}
    assert [backend.acquire("k", **limit, now=t) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert backend.acquire("k", **limit, now=t) == pytest.approx(2.0)
    assert backend.acquire("k", **limit, now=t + 1.5) == pytest.approx(0.5)
    assert backend.acquire("k", **limit, now=t + 2.0) == 0.0
    assert backend.acquire("k", **limit, now=t + 2.0) == pytest.approx(2.0)
    assert backend.acquire("k", **limit, now=t + 4.0) == 0.0


def test_an_idle_limit_refills_to_the_burst_and_no_further(
    backend: StateBackend, clock: FakeClock
) -> None:
    t = clock.now
    limit = {"cost": 1, "interval": 1.0, "burst": 2}
    assert backend.acquire("k", **limit, now=t) == 0.0
    later = t + 100.0
    assert [backend.acquire("k", **limit, now=later) for _ in range(3)][1:] == [
        0.0,
        pytest.approx(1.0),
    ]


def test_burst_one_paces_calls_exactly_interval_apart(
    backend: StateBackend, clock: FakeClock
) -> None:
    t = clock.now
    limit = {"cost": 1, "interval": 1.0, "burst": 1}
    assert backend.acquire("k", **limit, now=t) == 0.0
    assert backend.acquire("k", **limit, now=t + 0.25) == pytest.approx(0.75)
    assert backend.acquire("k", **limit, now=t + 0.999) == pytest.approx(0.001)
    assert backend.acquire("k", **limit, now=t + 1.0) == 0.0


def test_small_interval_sums_do_not_refuse_a_call_on_time(
    backend: StateBackend, clock: FakeClock
) -> None:
    # 0.1 is not exact in binary: ten charges of 0.1 s must still be due at t + 1.0.
    t = clock.now
    limit = {"cost": 1, "interval": 0.1, "burst": 1}
    waits = [backend.acquire("k", **limit, now=t + i * 0.1) for i in range(50)]
    assert waits == [0.0] * 50


def test_refused_call_charges_nothing(backend: StateBackend, clock: FakeClock) -> None:
    t = clock.now
    limit = {"interval": 1.0, "burst": 10}
    assert backend.acquire("k", cost=8, **limit, now=t) == 0.0
    assert backend.acquire("k", cost=5, **limit, now=t) == pytest.approx(3.0)
    assert backend.acquire("k", cost=2, **limit, now=t) == 0.0
    assert backend.acquire("k", cost=1, **limit, now=t) == pytest.approx(1.0)


def test_weighted_costs_wait_for_their_own_size(backend: StateBackend, clock: FakeClock) -> None:
    # 6,000 tokens per minute with the whole minute as burst: interval = 0.01 s per token.
    t = clock.now
    limit = {"interval": 0.01, "burst": 6000}
    assert backend.acquire("tpm", cost=4000, **limit, now=t) == 0.0
    assert backend.acquire("tpm", cost=3000, **limit, now=t) == pytest.approx(10.0)
    assert backend.acquire("tpm", cost=2000, **limit, now=t) == 0.0
    assert backend.acquire("tpm", cost=500, **limit, now=t + 4.0) == pytest.approx(1.0)
    assert backend.acquire("tpm", cost=500, **limit, now=t + 5.0) == 0.0


def test_cost_above_burst_is_admitted_when_the_limit_is_empty(
    backend: StateBackend, clock: FakeClock
) -> None:
    t = clock.now
    limit = {"interval": 1.0, "burst": 2}
    assert backend.acquire("k", cost=5, **limit, now=t) == 0.0
    # The debt is paid by later callers: one unit fits once tat - burst + 1 is reached.
    assert backend.acquire("k", cost=1, **limit, now=t) == pytest.approx(4.0)
    # A big one waits for the limit to be completely empty, not forever.
    assert backend.acquire("k", cost=5, **limit, now=t + 1) == pytest.approx(4.0)
    assert backend.acquire("k", cost=5, **limit, now=t + 5) == 0.0


def test_adjust_up_charges_after_the_fact(backend: StateBackend, clock: FakeClock) -> None:
    t = clock.now
    limit = {"interval": 0.01, "burst": 100}
    assert backend.acquire("k", cost=50, **limit, now=t) == 0.0
    backend.adjust("k", delta=40, interval=0.01, now=t)  # the answer was longer than estimated
    assert backend.acquire("k", cost=20, **limit, now=t) == pytest.approx(0.1)


def test_adjust_down_refunds(backend: StateBackend, clock: FakeClock) -> None:
    t = clock.now
    limit = {"interval": 0.01, "burst": 100}
    assert backend.acquire("k", cost=100, **limit, now=t) == 0.0
    backend.adjust("k", delta=-60, interval=0.01, now=t)
    assert backend.acquire("k", cost=60, **limit, now=t) == 0.0
    assert backend.acquire("k", cost=1, **limit, now=t) == pytest.approx(0.01)


def test_adjust_never_moves_the_limit_before_now(backend: StateBackend, clock: FakeClock) -> None:
    t = clock.now
    limit = {"cost": 1, "interval": 1.0, "burst": 2}
    assert backend.acquire("k", **limit, now=t) == 0.0
    backend.adjust("k", delta=-1000, interval=1.0, now=t)
    # Refunded to empty, not to 1,000 units in the bank: still only the burst passes.
    waits = [backend.acquire("k", **limit, now=t) for _ in range(3)]
    assert waits == [0.0, 0.0, pytest.approx(1.0)]


def test_adjust_on_an_idle_key_charges_from_now(backend: StateBackend, clock: FakeClock) -> None:
    t = clock.now
    backend.adjust("k", delta=3, interval=1.0, now=t)
    assert backend.acquire("k", cost=1, interval=1.0, burst=1, now=t) == pytest.approx(3.0)


def test_limit_keys_are_independent(backend: StateBackend, clock: FakeClock) -> None:
    t = clock.now
    limit = {"cost": 1, "interval": 10.0, "burst": 1}
    assert backend.acquire("a", **limit, now=t) == 0.0
    assert backend.acquire("b", **limit, now=t) == 0.0
    assert backend.acquire("a", **limit, now=t) == pytest.approx(10.0)


def test_limit_of_one_admits_one_of_five_threads(backend: StateBackend, clock: FakeClock) -> None:
    barrier = threading.Barrier(5)

    def call() -> float:
        barrier.wait()
        return backend.acquire("k", cost=1, interval=60.0, burst=1, now=clock.now)

    with ThreadPoolExecutor(5) as pool:
        waits = fire(pool, 5, call)
    assert sorted(waits) == [0.0] + [pytest.approx(60.0)] * 4


def test_limit_of_one_admits_one_of_five_tasks(backend: StateBackend, clock: FakeClock) -> None:
    async def main() -> list[float]:
        calls = (
            backend.aacquire("k", cost=1, interval=60.0, burst=1, now=clock.now) for _ in range(5)
        )
        return list(await asyncio.gather(*calls))

    assert sorted(run(backend, main)) == [0.0] + [pytest.approx(60.0)] * 4


def test_async_limits_match_sync(backend: StateBackend, clock: FakeClock) -> None:
    t = clock.now

    async def main() -> list[float]:
        limit = {"interval": 1.0, "burst": 2}
        waits = [await backend.aacquire("k", cost=1, **limit, now=t) for _ in range(3)]
        await backend.aadjust("k", delta=-1, interval=1.0, now=t)
        waits.append(await backend.aacquire("k", cost=1, **limit, now=t))
        return waits

    assert run(backend, main) == [0.0, 0.0, pytest.approx(1.0), 0.0]


@pytest.mark.parametrize(
    ("cost", "interval", "burst"),
    [(-1, 1.0, 1), (1, 0.0, 1), (1, -1.0, 1), (1, 1.0, 0), (float("nan"), 1.0, 1)],
)
def test_nonsense_limits_are_refused(
    backend: StateBackend, cost: float, interval: float, burst: float
) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        backend.acquire("k", cost=cost, interval=interval, burst=burst, now=0.0)


# -- holds ----------------------------------------------------------------------------------
def test_hold_keeps_the_later_time(backend: StateBackend, clock: FakeClock) -> None:
    t = clock.now
    backend.hold("h", t + 30)
    backend.hold("h", t + 10)
    assert backend.held_until("h") == t + 30
    backend.hold("h", t + 45.5)
    assert backend.held_until("h") == t + 45.5


def test_hold_expires(backend: StateBackend, clock: FakeClock) -> None:
    backend.hold("h", clock.now + 30)
    clock.advance(29.9)
    assert backend.held_until("h") == pytest.approx(clock.now + 0.1)
    clock.advance(0.1)
    assert backend.held_until("h") is None
    assert backend.held_until("never-set") is None


def test_held_until_honours_an_explicit_now(backend: StateBackend, clock: FakeClock) -> None:
    backend.hold("h", clock.now + 30)
    assert backend.held_until("h", now=clock.now + 31) is None
    assert backend.held_until("h") == clock.now + 30


def test_a_hold_in_the_past_changes_nothing(backend: StateBackend, clock: FakeClock) -> None:
    backend.hold("h", clock.now - 1)
    assert backend.held_until("h") is None


def test_async_holds(backend: StateBackend, clock: FakeClock) -> None:
    async def main() -> tuple[float | None, float | None]:
        await backend.ahold("h", clock.now + 5)
        await backend.ahold("h", clock.now + 2)
        first = await backend.aheld_until("h")
        return first, await backend.aheld_until("h", now=clock.now + 5)

    assert run(backend, main) == (clock.now + 5, None)


# -- cache ----------------------------------------------------------------------------------
def test_cache_round_trips_bytes(backend: StateBackend) -> None:
    payload = bytes(range(256)) * 4
    assert backend.cache_get("c") is None
    backend.cache_set("c", payload, ttl=60)
    assert backend.cache_get("c") == payload
    backend.cache_set("c", b"", ttl=60)
    assert backend.cache_get("c") == b""


def test_cache_entry_expires_after_its_ttl(backend: StateBackend, clock: FakeClock) -> None:
    backend.cache_set("short", b"a", ttl=10)
    backend.cache_set("long", b"b", ttl=100)
    clock.advance(9.9)
    assert backend.cache_get("short") == b"a"
    clock.advance(0.1)
    assert backend.cache_get("short") is None
    assert backend.cache_get("long") == b"b"


def test_cache_ttl_of_zero_stores_nothing(backend: StateBackend) -> None:
    backend.cache_set("c", b"a", ttl=0)
    assert backend.cache_get("c") is None


def test_async_cache(backend: StateBackend, clock: FakeClock) -> None:
    async def main() -> tuple[bytes | None, bytes | None]:
        await backend.acache_set("c", b"value", ttl=5)
        first = await backend.acache_get("c")
        clock.advance(5)
        return first, await backend.acache_get("c")

    assert run(backend, main) == (b"value", None)


def test_memory_cache_evicts_the_least_recently_used(clock: FakeClock) -> None:
    backend = MemoryBackend(clock=clock, cache_max_entries=2)
    backend.cache_set("a", b"1", ttl=60)
    backend.cache_set("b", b"2", ttl=60)
    assert backend.cache_get("a") == b"1"  # now b is the least recently used
    backend.cache_set("c", b"3", ttl=60)
    assert (backend.cache_get("a"), backend.cache_get("b"), backend.cache_get("c")) == (
        b"1",
        None,
        b"3",
    )


# -- counters -------------------------------------------------------------------------------
def test_counter_accumulates(backend: StateBackend) -> None:
    assert backend.incr("spend", 0.25, ttl=60) == pytest.approx(0.25)
    assert backend.incr("spend", 1.5, ttl=60) == pytest.approx(1.75)
    assert backend.incr("spend", -0.75, ttl=60) == pytest.approx(1.0)
    assert backend.incr("spend", 0, ttl=60) == pytest.approx(1.0)
    assert backend.incr("other", 2, ttl=60) == pytest.approx(2.0)


def test_counter_expires_a_fixed_window_after_it_started(
    backend: StateBackend, clock: FakeClock
) -> None:
    backend.incr("spend", 1, ttl=60)
    clock.advance(59)
    assert backend.incr("spend", 1, ttl=60) == pytest.approx(2.0)  # does not extend the window
    clock.advance(1)
    assert backend.incr("spend", 1, ttl=60) == pytest.approx(1.0)


def test_async_counter(backend: StateBackend) -> None:
    async def main() -> list[float]:
        return [await backend.aincr("n", 1.5, ttl=10) for _ in range(3)]

    assert run(backend, main) == pytest.approx([1.5, 3.0, 4.5])


def test_counter_ttl_must_be_positive(backend: StateBackend) -> None:
    with pytest.raises(ValueError, match="ttl"):
        backend.incr("n", 1, ttl=0)


# -- namespaces and health ------------------------------------------------------------------
def test_one_key_names_different_things_in_each_namespace(
    backend: StateBackend, clock: FakeClock
) -> None:
    backend.hold("same", clock.now + 10)
    backend.cache_set("same", b"x", ttl=10)
    backend.incr("same", 3, ttl=10)
    assert backend.acquire("same", cost=1, interval=1, burst=1, now=clock.now) == 0.0
    assert backend.held_until("same") == clock.now + 10
    assert backend.cache_get("same") == b"x"


def test_health_reports_ok(backend: StateBackend) -> None:
    health = backend.health()
    assert health["ok"] is True
    assert health["backend"] == backend.name
    assert isinstance(health["detail"], str)


def test_memory_sweeps_expired_entries(clock: FakeClock) -> None:
    backend = MemoryBackend(clock=clock)
    for i in range(1000):
        backend.acquire(f"k{i}", cost=1, interval=1.0, burst=1, now=clock.now)
        backend.hold(f"h{i}", clock.now + 1)
        backend.incr(f"n{i}", 1, ttl=1)
    clock.advance(2)
    for i in range(100):
        backend.acquire(f"new{i}", cost=1, interval=1.0, burst=1, now=clock.now)
        backend.hold(f"new{i}", clock.now + 1)
        backend.incr(f"new{i}", 1, ttl=1)
    health = backend.health()
    # The 1,024th entry triggered a sweep of the 1,000 expired ones: only the new are left.
    assert (health["limits"], health["holds"], health["counters"]) == (100, 100, 100)


def test_held_until_many_reads_several_holds_at_once(
    backend: StateBackend, clock: FakeClock
) -> None:
    backend.hold("a", clock() + 10)
    backend.hold("c", clock() + 5)
    assert backend.held_until_many(["a", "b", "c"]) == [
        pytest.approx(clock() + 10),
        None,
        pytest.approx(clock() + 5),
    ]
    clock.advance(6)
    assert backend.held_until_many(["a", "c"]) == [pytest.approx(clock() + 4), None]


def test_acquire_all_admits_every_limit_or_none(backend: StateBackend, clock: FakeClock) -> None:
    now = clock()
    cells = [("rpm", 1.0, 1.0, 1.0), ("tpm", 100.0, 0.01, 150.0)]
    assert backend.acquire_all(cells, now=now) == 0.0
    # The request limit refuses now: the token limit must not be charged either.
    wait = backend.acquire_all(cells, now=now)
    assert wait == pytest.approx(1.0)
    # Had the refused call charged its 100 tokens, 200 of 150 would be used and this refused.
    assert backend.acquire("tpm", cost=50.0, interval=0.01, burst=150.0, now=now) == 0.0
    # Both limits full now: one second later the request slot frees, the tokens too.
    assert backend.acquire_all(cells, now=now + 1.0) == 0.0


def test_aacquire_all_matches_the_sync_answer(backend: StateBackend, clock: FakeClock) -> None:
    now = clock()
    cells = [("a", 1.0, 2.0, 1.0), ("b", 1.0, 1.0, 1.0)]

    async def twice() -> tuple[float, float]:
        return await backend.aacquire_all(cells, now=now), await backend.aacquire_all(
            cells, now=now
        )

    first, second = asyncio.run(twice())
    assert first == 0.0
    assert second == pytest.approx(2.0)
