"""The Redis backend's clients: one server (``redis://``), or a Redis Cluster
(``redis+cluster://host:port``, any one node: the client discovers the others and follows
MOVED/ASK redirects).

Every script of :mod:`router.state.redis` runs on one node, so the keys of one call must sit
in one hash slot. Single-key calls always do. The calls that take several keys:

- ``acquire_all``/``acquire_booked``: when every key hashes to one slot (the keys share a
  ``{hash tag}``, as the gateway's per-key limits ``gwkey:{id}:rpm``/``:tpm`` do), one script
  admits them all atomically, as on one server. When they span slots (a deployment's own
  limit beside its provider's), each is admitted by its own script, in order, and those
  already charged are refunded when a later one refuses: never more admitted than any limit
  allows, though a caller may meanwhile be refused by a charge about to be refunded.
- ``held_until_many``: one GET per slot (``MGET`` split by slot), not atomic, as it need not be.

A ``key_prefix`` holding a ``{tag}`` pins every key to that one slot (one node serves all the
router's state; correct, not spread).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.asyncio.retry
import redis.cluster
import redis.exceptions
import redis.retry
from redis.backoff import NoBackoff
from redis.crc import key_slot

__all__ = [
    "CLUSTER_SCHEMES",
    "CLUSTER_UNAVAILABLE",
    "cluster_factories",
    "one_slot",
    "redis_location",
    "server_factories",
]

#: URL schemes that mean "a Redis Cluster; this is one of its nodes" (the rest it discovers).
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def redis_location(url: str) -> str:
    """``host:port`` (or the socket path) of a Redis URL, without user or password; raises
    ValueError, without echoing the URL, when it is not a Redis URL."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    if parts.scheme not in ("redis", "rediss", *CLUSTER_SCHEMES):
        raise ValueError(
            "a Redis URL starts with redis://, rediss://, unix:// (one server) or "
            "redis+cluster://, rediss+cluster:// (a Redis Cluster, any one node) "
            f"(this one's scheme is {parts.scheme!r})"
        )
    host = parts.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # its message quotes the text after the colon: maybe a password
        port = -1
    if port == -1:
        raise ValueError("the Redis URL's port is not a number from 0 to 65535")
    return f"{host}:{port or 6379}"


def server_factories(
    url: str, max_connections: int, connect_timeout: float
) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """Makers of the sync and async clients of one server (the URL lives only in them)."""
    options: dict[str, Any] = {
        "max_connections": max_connections,
        "timeout": connect_timeout,  # the wait for a free pooled connection
        "socket_connect_timeout": connect_timeout,
        "socket_timeout": connect_timeout,
    }

    def sync() -> redis.Redis:
        retry = redis.retry.Retry(
            NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)
        )
        return redis.Redis.from_pool(
            redis.BlockingConnectionPool.from_url(url, retry=retry, **options)
        )

    def asynchronous() -> redis.asyncio.Redis:
        retry = redis.asyncio.retry.Retry(
            NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)
        )
        return redis.asyncio.Redis.from_pool(
            redis.asyncio.BlockingConnectionPool.from_url(url, retry=retry, **options)
        )

    return sync, asynchronous


#: What a cluster client raises when no node answers or the cluster is down.
CLUSTER_UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis.exceptions.RedisClusterException,
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,
)


def one_slot(keys: Sequence[str]) -> bool:
    """Whether every key hashes to the same slot (so one script may take them all)."""
    return len({key_slot(k.encode("utf-8", "surrogateescape")) for k in keys}) <= 1


def cluster_factories(
    url: str, connect_timeout: float
) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """Makers of the sync and async cluster clients (the URL lives only in them). A
    connection error is retried once, without backoff, as on one server: an unreachable
    cluster costs about ``connect_timeout``, so ``on_unavailable`` applies promptly."""
    options: dict[str, Any] = {
        "socket_connect_timeout": connect_timeout,
        "socket_timeout": connect_timeout,
    }

    def sync() -> redis.cluster.RedisCluster:
        retry = redis.retry.Retry(
            NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)
        )
        return redis.cluster.RedisCluster.from_url(url, retry=retry, **options)

    def asynchronous() -> redis.asyncio.cluster.RedisCluster:
        retry = redis.asyncio.retry.Retry(
            NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)
        )
        return redis.asyncio.cluster.RedisCluster.from_url(url, retry=retry, **options)

    return sync, asynchronous
