"""Ledgers: memory and SQLite keep every request with its attempts, and answer `since`."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from router.telemetry import Ledger, LedgerError, MemoryLedger, RequestRecord, SQLiteLedger
from router.telemetry.ledger import SCHEMA_VERSION

from .helpers import T0, attempt, request

MakeLedger = Callable[[], Ledger]


@pytest.fixture(params=["memory", "sqlite"])
def make_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeLedger]:
    opened: list[Ledger] = []

    def make() -> Ledger:
        ledger: Ledger = (
            MemoryLedger() if request.param == "memory" else SQLiteLedger(tmp_path / "u.sqlite")
        )
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


def _two_step() -> RequestRecord:
    return request(
        attempt(model="small", outcome="error", error_kind="rate_limit", status=429, error="slow"),
        attempt(
            model="big",
            provider="ant",
            depth=1,
            input_tokens=10,
            output_tokens=3,
            cached_input_tokens=2,
            cost=0.5,
            ts=T0 + 1,
        ),
    )


def test_add_and_read_back(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    rec = _two_step()
    ledger.add(rec)
    assert list(ledger.requests()) == [rec]
    assert list(ledger.attempts()) == list(rec.attempts)


def test_since_filters_requests_and_attempts(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    old = request(ts=T0 - 100)
    new = _two_step()
    ledger.add(old)
    ledger.add(new)
    assert list(ledger.requests(since=T0)) == [new]
    assert list(ledger.requests(since=T0 - 100)) == [old, new]
    assert [a.model for a in ledger.attempts(since=T0 + 0.5)] == ["big"]


def test_content_is_never_kept(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    ledger.add(request(prompt="user: my address is ...", response="noted"))
    (kept,) = ledger.requests()
    assert kept.prompt is None and kept.response is None


def test_concurrent_adds_from_threads(make_ledger: MakeLedger) -> None:
    ledger = make_ledger()
    threads, per_thread = 8, 50

    def work(n: int) -> None:
        for i in range(per_thread):
            ledger.add(request(task=f"t{n}", ts=T0 + i))
            if i % 10 == 0:
                list(ledger.requests())  # reads interleaved with writes

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    records = list(ledger.requests())
    assert len(records) == threads * per_thread
    assert {r.task for r in records} == {f"t{n}" for n in range(threads)}
    assert len(list(ledger.attempts())) == threads * per_thread


def test_memory_ledger_drops_the_oldest() -> None:
    ledger = MemoryLedger(max_records=3)
    for i in range(5):
        ledger.add(request(ts=T0 + i))
    assert [r.ts for r in ledger.requests()] == [T0 + 2, T0 + 3, T0 + 4]
    assert len(ledger) == 3


def test_memory_ledger_needs_room() -> None:
    with pytest.raises(ValueError, match="max_records"):
        MemoryLedger(max_records=0)


def test_sqlite_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    ledger = SQLiteLedger(path, batch_size=100, flush_interval=3600)
    records = [_two_step(), request(ts=T0 + 5, cost=None)]
    for r in records:
        ledger.add(r)
    ledger.close()  # the batch was still pending: close writes it
    reopened = SQLiteLedger(path, readonly=True)
    assert list(reopened.requests()) == records
    reopened.close()
    again = SQLiteLedger(path)
    again.add(request(ts=T0 + 9))
    again.close()
    assert len(list(SQLiteLedger(path, readonly=True).requests())) == 3


def test_sqlite_reader_sees_what_an_open_writer_added(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    writer = SQLiteLedger(path, batch_size=1)
    writer.add(request())
    reader = SQLiteLedger(path, readonly=True)
    assert len(list(reader.requests())) == 1
    writer.add(request())
    assert len(list(reader.requests())) == 2
    reader.close()
    writer.close()


def test_sqlite_batches_until_size_or_interval(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    ledger = SQLiteLedger(path, batch_size=3, flush_interval=3600)
    reader = SQLiteLedger(path, readonly=True)
    ledger.add(request())
    ledger.add(request())
    assert list(reader.requests()) == []
    ledger.add(request())
    assert len(list(reader.requests())) == 3
    ledger.add(request())
    ledger.flush()
    assert len(list(reader.requests())) == 4
    reader.close()
    ledger.close()


def test_sqlite_pending_rows_written_when_the_ledger_is_collected(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    ledger = SQLiteLedger(path, batch_size=100, flush_interval=3600)
    ledger.add(request())
    del ledger  # the finalizer flushes (it also runs at interpreter exit)
    assert len(list(SQLiteLedger(path, readonly=True).requests())) == 1


def test_sqlite_schema_is_versioned_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    SQLiteLedger(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"requests", "attempts", "guardrail_findings"}
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(LedgerError, match="upgrade router"):
        SQLiteLedger(path)


def test_sqlite_refuses_other_files(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with pytest.raises(LedgerError, match="other tables"):
        SQLiteLedger(other)
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, just some words in a file" * 20)
    with pytest.raises(LedgerError, match="not a usage ledger"):
        SQLiteLedger(text)


def test_readonly_needs_an_existing_ledger(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no usage ledger"):
        SQLiteLedger(tmp_path / "missing.sqlite", readonly=True)
    assert not (tmp_path / "missing.sqlite").exists()


def test_closed_ledger_refuses_adds(tmp_path: Path) -> None:
    ledger = SQLiteLedger(tmp_path / "u.sqlite")
    ledger.close()
    ledger.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        ledger.add(request())


def test_a_version_2_ledger_gains_the_prompt_cache_columns(tmp_path: Path) -> None:
    """Issue 11 left version 2; version 3 adds cache writes, reasoning tokens and savings."""
    path = tmp_path / "v2.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE requests (id INTEGER PRIMARY KEY, task TEXT NOT NULL, requested_task TEXT"
        " NOT NULL, outcome TEXT NOT NULL, model TEXT, provider TEXT, latency_s REAL NOT NULL,"
        " cost REAL, fallbacks INTEGER NOT NULL, cache_hit INTEGER NOT NULL, stream INTEGER"
        " NOT NULL, ts REAL NOT NULL, deployment TEXT);"
        "CREATE TABLE attempts (request_id INTEGER NOT NULL, seq INTEGER NOT NULL, task TEXT,"
        " model TEXT, provider TEXT, outcome TEXT, error_kind TEXT, status INTEGER,"
        " input_tokens INTEGER, output_tokens INTEGER, cached_input_tokens INTEGER, cost REAL,"
        " latency_s REAL, depth INTEGER, cache_hit INTEGER, ts REAL, error TEXT,"
        " deployment TEXT, PRIMARY KEY (request_id, seq));"
        "INSERT INTO requests VALUES (1, 't', 't', 'ok', 'm', 'p', 0.1, 0.5, 0, 0, 0, 1.0, 'd');"
        "INSERT INTO attempts VALUES (1, 0, 't', 'm', 'p', 'ok', NULL, NULL, 10, 5, 4, 0.5,"
        " 0.1, 0, 0, 1.0, NULL, 'd');"
        "PRAGMA user_version = 2;"
    )
    conn.close()
    (old,) = SQLiteLedger(path, readonly=True).attempts()  # read as it is
    assert (old.cached_input_tokens, old.cache_write_tokens, old.cache_savings) == (4, 0, 0)
    writable = SQLiteLedger(path)
    fresh = replace(attempt(), cache_write_tokens=7, reasoning_tokens=3, cache_savings=0.25)
    writable.add(request(fresh))
    rows = list(writable.attempts())
    writable.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [(a.cache_write_tokens, a.reasoning_tokens, a.cache_savings) for a in rows] == [
        (0, 0, 0.0),
        (7, 3, 0.25),
    ]
