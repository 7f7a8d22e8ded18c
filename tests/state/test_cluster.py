"""The Redis backend on a real Redis Cluster of three masters (started by the module): every
kind of state, calls over keys in one slot (one script) and across slots (key by key, all
or none), and the same answers as on one server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from router.state.redis import RedisBackend
from router.state.redis_clients import one_slot

from .helpers import RedisClusterServers

NOW = 1_000_000.0
_T = TypeVar("_T")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterServers]:
    servers = RedisClusterServers(Path(tmp_path_factory.mktemp("cluster"))).start()
    yield servers
    servers.stop()


@pytest.fixture
def backend(cluster: RedisClusterServers, request: pytest.FixtureRequest) -> Iterator[RedisBackend]:
    made = RedisBackend(cluster.url, key_prefix=f"t{abs(hash(request.node.name))}:")
    yield made
    made.close()


def test_the_url_names_a_cluster_and_keeps_its_password(backend: RedisBackend) -> None:
    assert backend.cluster
    assert "s3cret" not in repr(backend) and backend.health()["ok"] is True


def test_limits_in_one_slot_are_one_atomic_step(backend: RedisBackend) -> None:
    cells = [("gw:{k1}:rpm", 1.0, 15.0, 4.0), ("gw:{k1}:tpm", 50.0, 0.6, 100.0)]
    assert one_slot([backend.key("rl", c[0]) for c in cells])
    assert [backend.acquire_all(cells, now=NOW) for _ in range(2)] == [0.0, 0.0]
    # The third would take the tokens past 100: refused, and nothing charged to the rpm key.
    assert backend.acquire_all(cells, now=NOW) > 0
    assert backend.acquire("gw:{k1}:rpm", cost=1, interval=15.0, burst=4.0, now=NOW) == 0.0


def run(backend: RedisBackend, main: Callable[[], Awaitable[_T]]) -> _T:
    """``asyncio.run(main())``, closing the backend's clients for that loop afterwards."""

    async def wrapped() -> _T:
        try:
            return await main()
        finally:
            await backend.aclose()

    return asyncio.run(wrapped())


def test_limits_across_slots_are_all_or_none(backend: RedisBackend) -> None:
    run(backend, lambda: _across_slots(backend))


async def _across_slots(backend: RedisBackend) -> None:
    cells = [("rpm:provider:openai", 1.0, 30.0, 2.0), ("rpm:deployment:gpt", 1.0, 60.0, 1.0)]
    assert not one_slot([backend.key("rl", c[0]) for c in cells])
    assert await backend.aacquire_all(cells, now=NOW) == 0.0
    wait, booked = await backend.aacquire_booked(cells, now=NOW)
    assert wait == pytest.approx(60.0) and booked is None
    # The refused call's provider charge was refunded: one more provider-only call fits.
    assert (
        await backend.aacquire("rpm:provider:openai", cost=1, interval=30.0, burst=2.0, now=NOW)
        == 0.0
    )


def test_holds_counters_and_cache_span_the_nodes(backend: RedisBackend) -> None:
    run(backend, lambda: _spanning(backend))


async def _spanning(backend: RedisBackend) -> None:
    later = time.time() + 60
    await backend.ahold("after:a", later)
    await backend.ahold("open:b", later)
    assert await backend.aheld_until_many(["after:a", "open:b", "open:c"]) == [later, later, None]
    assert backend.held_until_many(["after:a", "open:c"]) == [later, None]
    assert await backend.aincr("spend:x", 1.5, 60) == 1.5
    assert backend.incr("spend:x", 1.0, 60) == 2.5
    await backend.acache_set("k", b"v", 60)
    assert backend.cache_get("k") == b"v"
