"""Where team keys live, and what each has spent.

Two stores, one interface (:class:`KeyStore`; sync for the CLI, async for the gateway):

- :class:`SQLiteKeyStore`, the embedded default (``router serve`` starts on a fresh machine):
  one file, WAL mode, so every worker on the host and ``router keys`` share it. Spend per key
  and period is a table of the same file, so it survives restarts.
- :class:`RedisKeyStore`, when the spec's ``state`` is Redis (one server or a Cluster): every
  replica shares the records; spend is the state backend's counters (``on_unavailable``
  applies to them as to every shared limit).

Redis layout (``P`` is the spec's ``state.key_prefix``; ``{id}`` a hash tag, so a key's
record, limits and spend sit in one Cluster slot)::

    P gwkey:{id}                       string  the KeyRecord as JSON (digest, never the key)
    P gwkeys                           set     every id (for lists)
    P ctr:gwspend:{id}:d:2026-11-30    hash    USD spent that UTC day (a state counter)
    P ctr:gwspend:{id}:m:2026-11       hash    ... that month
    P rl:gwkey:{id}:rpm, :tpm          string  GCRA limits (the state backend's)
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from router.errors import ConfigError
from router.gateway.keys import KeyRecord
from router.redaction import describe
from router.state.base import StateBackend

__all__ = [
    "KeyStore",
    "RedisKeyStore",
    "SQLiteKeyStore",
    "StoreDown",
    "period_ends",
    "periods",
]


class StoreDown(Exception):
    """The store cannot be reached now (Redis down); ``detail`` says why, without secrets."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def periods(now: float) -> dict[str, str]:
    """The budget periods ``now`` falls in: ``{"daily": "d:2026-11-30", "monthly": ...}``."""
    day = datetime.fromtimestamp(now, UTC)
    return {"daily": f"d:{day:%Y-%m-%d}", "monthly": f"m:{day:%Y-%m}"}


def period_ends(now: float) -> dict[str, float]:
    day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    return {
        "daily": (day + timedelta(days=1)).timestamp(),
        "monthly": (month + timedelta(days=32)).replace(day=1).timestamp(),
    }


class KeyStore(Protocol):
    #: Where the records are, safe to show (a path, or "redis at host:port").
    where: str

    def create(self, record: KeyRecord) -> None: ...
    def get(self, ident: str) -> KeyRecord | None: ...
    def put(self, record: KeyRecord) -> None: ...
    def all(self) -> list[KeyRecord]: ...
    def spent(self, ident: str, now: float) -> dict[str, float]: ...
    async def aget(self, ident: str) -> KeyRecord | None: ...
    async def acreate(self, record: KeyRecord) -> None: ...
    async def aput(self, record: KeyRecord) -> None: ...
    async def aall(self) -> list[KeyRecord]: ...
    async def aspent(self, ident: str, now: float) -> dict[str, float]: ...
    async def aspend(self, ident: str, amount: float, now: float) -> None: ...
    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spend (
  id TEXT NOT NULL, period TEXT NOT NULL, usd REAL NOT NULL, PRIMARY KEY (id, period)
);
"""


class SQLiteKeyStore:
    """Records and spend in one SQLite file (made, with its folder, on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable but for power loss
                conn.executescript(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                problem = describe(exc)
                raise ConfigError(
                    f"the team key store {self.path} cannot be opened: {problem} "
                    "(router serve --keys-db PATH, or ROUTER_KEYS_DB, chooses another file)"
                ) from None
            self._conn = conn
        return self._conn

    def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            conn = self._db()
            try:
                with conn:
                    return work(conn)
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:  # locked past its timeout, disk full, ...
                problem = describe(exc)
            raise StoreDown(f"{self.where}: {problem}")

    def create(self, record: KeyRecord) -> None:
        try:
            self._run(
                lambda c: c.execute(
                    "INSERT INTO keys (id, record) VALUES (?, ?)", (record.id, record.to_json())
                )
            )
        except sqlite3.IntegrityError:
            raise ConfigError(f"a key with id {record.id} exists already") from None

    def put(self, record: KeyRecord) -> None:
        self._run(
            lambda c: c.execute(
                "UPDATE keys SET record = ? WHERE id = ?", (record.to_json(), record.id)
            )
        )

    def get(self, ident: str) -> KeyRecord | None:
        rows = self._run(
            lambda c: c.execute("SELECT record FROM keys WHERE id = ?", (ident,)).fetchall()
        )
        return KeyRecord.from_json(rows[0][0]) if rows else None

    def all(self) -> list[KeyRecord]:
        rows = self._run(lambda c: c.execute("SELECT record FROM keys").fetchall())
        return sorted((KeyRecord.from_json(r[0]) for r in rows), key=lambda r: r.created_at)

    def spent(self, ident: str, now: float) -> dict[str, float]:
        marks = periods(now)
        rows = dict(
            self._run(
                lambda c: c.execute(
                    "SELECT period, usd FROM spend WHERE id = ? AND period IN (?, ?)",
                    (ident, marks["daily"], marks["monthly"]),
                ).fetchall()
            )
        )
        return {name: float(rows.get(mark, 0.0)) for name, mark in marks.items()}

    def spend(self, ident: str, amount: float, now: float) -> None:
        def add(c: sqlite3.Connection) -> None:
            for mark in periods(now).values():
                c.execute(
                    "INSERT INTO spend (id, period, usd) VALUES (?, ?, ?) "
                    "ON CONFLICT (id, period) DO UPDATE SET usd = usd + excluded.usd",
                    (ident, mark, amount),
                )

        self._run(add)

    # The gateway's side: the same work on a thread, never on the event loop.
    async def aget(self, ident: str) -> KeyRecord | None:
        return await asyncio.to_thread(self.get, ident)

    async def acreate(self, record: KeyRecord) -> None:
        await asyncio.to_thread(self.create, record)

    async def aput(self, record: KeyRecord) -> None:
        await asyncio.to_thread(self.put, record)

    async def aall(self) -> list[KeyRecord]:
        return await asyncio.to_thread(self.all)

    async def aspent(self, ident: str, now: float) -> dict[str, float]:
        return await asyncio.to_thread(self.spent, ident, now)

    async def aspend(self, ident: str, amount: float, now: float) -> None:
        await asyncio.to_thread(self.spend, ident, amount, now)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class RedisKeyStore:
    """Records in Redis (``primary``: the spec's RedisBackend, one server or a Cluster);
    spend in ``counters`` (the state backend, with its ``on_unavailable``)."""

    def __init__(self, primary: Any, counters: StateBackend) -> None:
        self._redis = primary
        self._counters = counters
        self.where = primary.location
        self._errors = primary.unavailable_errors

    def _record(self, ident: str) -> str:
        return str(self._redis.key("gwkey", "{" + ident + "}"))

    def _index(self) -> str:
        return str(self._redis.key("gwkeys", "all"))

    def _down(self, exc: BaseException) -> StoreDown:
        return StoreDown(f"{self.where}: {describe(exc)}")

    def create(self, record: KeyRecord) -> None:
        try:
            client = self._redis.client()
            if not client.set(self._record(record.id), record.to_json(), nx=True):
                raise ConfigError(f"a key with id {record.id} exists already")
            client.sadd(self._index(), record.id)
        except self._errors as exc:
            raise self._down(exc) from None

    def put(self, record: KeyRecord) -> None:
        try:
            self._redis.client().set(self._record(record.id), record.to_json(), xx=True)
        except self._errors as exc:
            raise self._down(exc) from None

    def get(self, ident: str) -> KeyRecord | None:
        try:
            raw = self._redis.client().get(self._record(ident))
        except self._errors as exc:
            raise self._down(exc) from None
        return KeyRecord.from_json(raw) if raw is not None else None

    def all(self) -> list[KeyRecord]:
        try:
            client = self._redis.client()
            ids = sorted(i.decode() for i in client.smembers(self._index()))
            raws = [client.get(self._record(i)) for i in ids]
        except self._errors as exc:
            raise self._down(exc) from None
        records = [KeyRecord.from_json(r) for r in raws if r is not None]
        return sorted(records, key=lambda r: r.created_at)

    def _counter(self, ident: str, mark: str) -> str:
        return f"gwspend:{{{ident}}}:{mark}"

    def spent(self, ident: str, now: float) -> dict[str, float]:
        ends = period_ends(now)
        return {
            name: self._counters.incr(self._counter(ident, mark), 0.0, ends[name] - now + 1)
            for name, mark in periods(now).items()
        }

    async def aget(self, ident: str) -> KeyRecord | None:
        try:
            raw = await self._redis.aclient().get(self._record(ident))
        except self._errors as exc:
            raise self._down(exc) from None
        return KeyRecord.from_json(raw) if raw is not None else None

    async def acreate(self, record: KeyRecord) -> None:
        try:
            client = self._redis.aclient()
            if not await client.set(self._record(record.id), record.to_json(), nx=True):
                raise ConfigError(f"a key with id {record.id} exists already")
            await client.sadd(self._index(), record.id)
        except self._errors as exc:
            raise self._down(exc) from None

    async def aput(self, record: KeyRecord) -> None:
        try:
            await self._redis.aclient().set(self._record(record.id), record.to_json(), xx=True)
        except self._errors as exc:
            raise self._down(exc) from None

    async def aall(self) -> list[KeyRecord]:
        try:
            client = self._redis.aclient()
            ids = sorted(i.decode() for i in await client.smembers(self._index()))
            raws = [await client.get(self._record(i)) for i in ids]
        except self._errors as exc:
            raise self._down(exc) from None
        records = [KeyRecord.from_json(r) for r in raws if r is not None]
        return sorted(records, key=lambda r: r.created_at)

    async def aspent(self, ident: str, now: float) -> dict[str, float]:
        ends = period_ends(now)
        return {
            name: await self._counters.aincr(self._counter(ident, mark), 0.0, ends[name] - now + 1)
            for name, mark in periods(now).items()
        }

    async def aspend(self, ident: str, amount: float, now: float) -> None:
        ends = period_ends(now)
        for name, mark in periods(now).items():
            await self._counters.aincr(self._counter(ident, mark), amount, ends[name] - now + 1)

    def close(self) -> None:
        self._counters.close()
