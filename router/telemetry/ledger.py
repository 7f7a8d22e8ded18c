"""The usage ledger: every request and its attempts, in memory or in an SQLite file.

A ledger keeps usage, not content: prompt and response text are never stored, whatever the
records carry. :class:`MemoryLedger` is bounded (oldest requests drop out first);
:class:`SQLiteLedger` writes a file that outlives the process, so ``router report`` can read
it later, from another process, while the router is still writing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from router.telemetry.ledger_schema import (
    FINDINGS_SINCE,
    INSERT_ATTEMPT,
    INSERT_FINDING,
    INSERT_REQUEST,
    SCHEMA_VERSION,
    LedgerError,
    attempt_of,
    attempt_row,
    finding_of,
    finding_rows,
    prepare,
    request_of,
    request_row,
)
from router.telemetry.records import AttemptRecord, GuardrailCount, RequestRecord

__all__ = ["SCHEMA_VERSION", "Ledger", "LedgerError", "MemoryLedger", "SQLiteLedger"]


@runtime_checkable
class Ledger(Protocol):
    """Where records are kept. ``since`` is wall-clock seconds since the epoch: a request is
    included when it started at or after it (an attempt, when it did)."""

    def add(self, request: RequestRecord) -> None: ...

    def requests(self, since: float | None = None) -> Iterator[RequestRecord]: ...

    def attempts(self, since: float | None = None) -> Iterator[AttemptRecord]: ...

    def close(self) -> None: ...


def _without_content(request: RequestRecord) -> RequestRecord:
    if request.prompt is None and request.response is None:
        return request
    return replace(request, prompt=None, response=None)


class MemoryLedger:
    """The last ``max_records`` requests, in memory. Thread-safe."""

    __slots__ = ("_lock", "_records")

    def __init__(self, max_records: int = 10_000) -> None:
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self._records: deque[RequestRecord] = deque(maxlen=max_records)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"MemoryLedger({len(self._records)}/{self._records.maxlen} requests)"

    def add(self, request: RequestRecord) -> None:
        request = _without_content(request)
        with self._lock:
            self._records.append(request)

    def _snapshot(self) -> list[RequestRecord]:
        with self._lock:  # a deque cannot be iterated while another thread appends
            return list(self._records)

    def requests(self, since: float | None = None) -> Iterator[RequestRecord]:
        for r in self._snapshot():
            if since is None or r.ts >= since:
                yield r

    def attempts(self, since: float | None = None) -> Iterator[AttemptRecord]:
        for r in self._snapshot():
            for a in r.attempts:
                if since is None or a.ts >= since:
                    yield a

    def close(self) -> None:
        pass


class _Store:
    """The connection, its lock and the rows not yet written. Kept apart from the ledger so a
    finalizer can flush it without holding the ledger alive."""

    __slots__ = ("buffer", "conn", "last_flush", "lock")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn: sqlite3.Connection | None = conn
        self.lock = threading.Lock()
        self.buffer: list[RequestRecord] = []
        self.last_flush = time.monotonic()

    def flush_locked(self) -> None:
        conn, pending = self.conn, self.buffer
        self.last_flush = time.monotonic()
        if conn is None or not pending:
            return
        self.buffer = []
        try:
            with conn:  # one transaction for the batch
                for r in pending:
                    cur = conn.execute(INSERT_REQUEST, request_row(r))
                    conn.executemany(
                        INSERT_ATTEMPT,
                        [(cur.lastrowid, seq, *attempt_row(a)) for seq, a in enumerate(r.attempts)],
                    )
                    if r.guardrails:
                        conn.executemany(INSERT_FINDING, finding_rows(cur.lastrowid, r))
        except BaseException:
            self.buffer = pending + self.buffer  # keep them for the next try
            raise

    def close(self) -> None:
        with self.lock:
            if self.conn is None:
                return
            try:
                self.flush_locked()
            finally:
                self.conn.close()
                self.conn = None


class SQLiteLedger:
    """Requests and attempts in an SQLite file (WAL, so readers never block the writer).

    Writes are batched: a batch goes to the file when it holds ``batch_size`` requests, when
    ``flush_interval`` seconds have passed since the last write, before every read, on
    :meth:`close`, and at interpreter exit. ``readonly=True`` opens an existing file for
    reading only (what ``router report`` wants: a missing file is an error, not a new ledger).
    Thread-safe; several processes may write the same file.
    """

    __slots__ = (
        "__weakref__",
        "_finalizer",
        "_findings",
        "_store",
        "batch_size",
        "flush_interval",
        "path",
    )

    def __init__(
        self,
        path: str | Path,
        *,
        batch_size: int = 32,
        flush_interval: float = 1.0,
        readonly: bool = False,
    ) -> None:
        self.path = Path(path)
        self.batch_size = max(1, batch_size)
        self.flush_interval = flush_interval
        if readonly:
            if not self.path.is_file():
                raise FileNotFoundError(f"no usage ledger at {str(self.path)!r}")
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10.0)
        conn.row_factory = sqlite3.Row
        try:
            # An older file read as it is has no guardrail findings table.
            self._findings = prepare(conn, readonly=readonly) >= FINDINGS_SINCE
        except BaseException:
            conn.close()
            raise
        self._store = _Store(conn)
        self._finalizer = weakref.finalize(self, self._store.close)

    def __repr__(self) -> str:
        return f"SQLiteLedger({str(self.path)!r})"

    def add(self, request: RequestRecord) -> None:
        store = self._store
        with store.lock:
            if store.conn is None:
                raise ValueError("the ledger is closed")
            store.buffer.append(request)
            if (
                len(store.buffer) >= self.batch_size
                or time.monotonic() - store.last_flush >= self.flush_interval
            ):
                store.flush_locked()

    def flush(self) -> None:
        """Write the pending batch now."""
        with self._store.lock:
            self._store.flush_locked()

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[sqlite3.Row]:
        store = self._store
        with store.lock:
            if store.conn is None:
                raise ValueError("the ledger is closed")
            store.flush_locked()
            return store.conn.execute(sql, args).fetchall()

    def requests(self, since: float | None = None) -> Iterator[RequestRecord]:
        where, args = ("WHERE ts >= ?", (since,)) if since is not None else ("", ())
        rows = self._query(f"SELECT * FROM requests {where} ORDER BY id", args)
        attempts = self._query(
            "SELECT * FROM attempts WHERE request_id IN "
            f"(SELECT id FROM requests {where}) ORDER BY request_id, seq",
            args,
        )
        by_request: dict[int, list[AttemptRecord]] = {}
        for a in attempts:
            by_request.setdefault(a["request_id"], []).append(attempt_of(a))
        found: dict[int, list[GuardrailCount]] = {}
        if self._findings:
            for f in self._query(
                "SELECT * FROM guardrail_findings WHERE request_id IN "
                f"(SELECT id FROM requests {where}) ORDER BY rowid",
                args,
            ):
                found.setdefault(f["request_id"], []).append(finding_of(f))
        for row in rows:
            yield request_of(
                row, tuple(by_request.get(row["id"], ())), tuple(found.get(row["id"], ()))
            )

    def attempts(self, since: float | None = None) -> Iterator[AttemptRecord]:
        where, args = ("WHERE ts >= ?", (since,)) if since is not None else ("", ())
        for row in self._query(f"SELECT * FROM attempts {where} ORDER BY request_id, seq", args):
            yield attempt_of(row)

    def close(self) -> None:
        """Write what is pending and close the file (idempotent)."""
        self._finalizer()
