"""The SQLite ledger's file: its schema and version, a record as a row and a row as a record,
and opening a file (refusing one that is not a ledger or is newer, upgrading an older one in
place). :class:`~router.telemetry.ledger.SQLiteLedger` writes and reads through these.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from router.telemetry.records import AttemptRecord, GuardrailCount, RequestRecord

__all__ = [
    "FINDINGS_SINCE",
    "INSERT_ATTEMPT",
    "INSERT_FINDING",
    "INSERT_REQUEST",
    "SCHEMA_VERSION",
    "LedgerError",
    "attempt_of",
    "attempt_row",
    "finding_of",
    "finding_rows",
    "prepare",
    "request_of",
    "request_row",
]

SCHEMA_VERSION = 4
#: The first version with the ``guardrail_findings`` table (an older file read as it is has
#: none: its requests found nothing).
FINDINGS_SINCE = 4


class LedgerError(Exception):
    """The ledger file cannot be used (written by a newer router, or not a ledger)."""


REQUEST_COLUMNS = (
    "task",
    "requested_task",
    "outcome",
    "model",
    "provider",
    "latency_s",
    "cost",
    "fallbacks",
    "cache_hit",
    "stream",
    "ts",
    "deployment",
)
ATTEMPT_COLUMNS = (
    "task",
    "model",
    "provider",
    "outcome",
    "error_kind",
    "status",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "cost",
    "latency_s",
    "depth",
    "cache_hit",
    "ts",
    "error",
    "deployment",
    "cache_write_tokens",
    "reasoning_tokens",
    "cache_savings",
)
INSERT_REQUEST = (
    f"INSERT INTO requests ({', '.join(REQUEST_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(REQUEST_COLUMNS))})"
)
INSERT_ATTEMPT = (
    f"INSERT INTO attempts (request_id, seq, {', '.join(ATTEMPT_COLUMNS)}) "
    f"VALUES (?, ?, {', '.join('?' * len(ATTEMPT_COLUMNS))})"
)
INSERT_FINDING = (
    "INSERT INTO guardrail_findings (request_id, guardrail, kind, outcome, count) "
    "VALUES (?, ?, ?, ?, ?)"
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    task TEXT NOT NULL,
    requested_task TEXT NOT NULL,
    outcome TEXT NOT NULL,
    model TEXT,
    provider TEXT,
    latency_s REAL NOT NULL,
    cost REAL,
    fallbacks INTEGER NOT NULL,
    cache_hit INTEGER NOT NULL,
    stream INTEGER NOT NULL,
    ts REAL NOT NULL,
    deployment TEXT
);
CREATE INDEX IF NOT EXISTS requests_ts ON requests (ts);
CREATE TABLE IF NOT EXISTS attempts (
    request_id INTEGER NOT NULL REFERENCES requests (id),
    seq INTEGER NOT NULL,
    task TEXT NOT NULL,
    model TEXT NOT NULL,
    provider TEXT NOT NULL,
    outcome TEXT NOT NULL,
    error_kind TEXT,
    status INTEGER,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_input_tokens INTEGER NOT NULL,
    cost REAL,
    latency_s REAL NOT NULL,
    depth INTEGER NOT NULL,
    cache_hit INTEGER NOT NULL,
    ts REAL NOT NULL,
    error TEXT,
    deployment TEXT,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens INTEGER NOT NULL DEFAULT 0,
    cache_savings REAL DEFAULT 0,
    PRIMARY KEY (request_id, seq)
);
CREATE INDEX IF NOT EXISTS attempts_ts ON attempts (ts);
CREATE TABLE IF NOT EXISTS guardrail_findings (
    request_id INTEGER NOT NULL REFERENCES requests (id),
    guardrail TEXT NOT NULL,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS guardrail_findings_request ON guardrail_findings (request_id);
"""


def request_row(r: RequestRecord) -> tuple[Any, ...]:
    return (
        r.task,
        r.requested_task,
        r.outcome,
        r.model,
        r.provider,
        r.latency_s,
        r.cost,
        r.fallbacks,
        int(r.cache_hit),
        int(r.stream),
        r.ts,
        r.deployment,
    )


def finding_rows(request_id: int | None, r: RequestRecord) -> list[tuple[Any, ...]]:
    return [(request_id, g.guardrail, g.kind, g.outcome, g.count) for g in r.guardrails]


def finding_of(row: sqlite3.Row) -> GuardrailCount:
    return GuardrailCount(row["guardrail"], row["kind"], row["outcome"], row["count"])


def request_of(
    row: sqlite3.Row,
    attempts: tuple[AttemptRecord, ...],
    guardrails: tuple[GuardrailCount, ...] = (),
) -> RequestRecord:
    return RequestRecord(
        task=row["task"],
        requested_task=row["requested_task"],
        outcome=row["outcome"],
        model=row["model"],
        provider=row["provider"],
        attempts=attempts,
        latency_s=row["latency_s"],
        cost=row["cost"],
        fallbacks=row["fallbacks"],
        cache_hit=bool(row["cache_hit"]),
        stream=bool(row["stream"]),
        ts=row["ts"],
        deployment=dict(row).get("deployment"),  # none in a version-1 file read as it is
        guardrails=guardrails,
    )


def attempt_row(a: AttemptRecord) -> tuple[Any, ...]:
    return (
        a.task,
        a.model,
        a.provider,
        a.outcome,
        a.error_kind,
        a.status,
        a.input_tokens,
        a.output_tokens,
        a.cached_input_tokens,
        a.cost,
        a.latency_s,
        a.depth,
        int(a.cache_hit),
        a.ts,
        a.error,
        a.deployment,
        a.cache_write_tokens,
        a.reasoning_tokens,
        a.cache_savings,
    )


def attempt_of(row: sqlite3.Row) -> AttemptRecord:
    fields = dict(row)
    return AttemptRecord(
        task=row["task"],
        model=row["model"],
        provider=row["provider"],
        outcome=row["outcome"],
        error_kind=row["error_kind"],
        status=row["status"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        cached_input_tokens=row["cached_input_tokens"],
        cost=row["cost"],
        latency_s=row["latency_s"],
        depth=row["depth"],
        cache_hit=bool(row["cache_hit"]),
        ts=row["ts"],
        error=row["error"],
        deployment=fields.get("deployment"),  # none in a version-1 file read as it is
        # none in a version-1 or 2 file read as it is: nothing known of the prompt cache
        cache_write_tokens=fields.get("cache_write_tokens") or 0,
        reasoning_tokens=fields.get("reasoning_tokens") or 0,
        cache_savings=fields.get("cache_savings", 0.0) if row["cost"] is not None else None,
    )


def prepare(conn: sqlite3.Connection, *, readonly: bool) -> int:
    """Checks (and, unless ``readonly``, creates or upgrades) the file; its schema version
    as it will be read."""
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"not a usage ledger: {exc}") from None
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"the ledger's schema is version {version}; this router reads up to "
            f"{SCHEMA_VERSION} (upgrade router)"
        )
    if version == 0 and tables - {"requests", "attempts"}:
        raise LedgerError("not a usage ledger: the file holds other tables")
    if readonly:
        if version == 0:
            raise LedgerError("not a usage ledger: the file has no ledger schema")
        return int(version)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    if version < SCHEMA_VERSION:
        # IMMEDIATE: two processes creating the same file take turns. Version 1 had no
        # deployment columns (added: NULL in its rows); versions 1 and 2 no prompt-cache
        # writes, reasoning tokens or cache savings (added: 0 in their rows); versions 1 to 3
        # no guardrail findings (the table is created, empty: nothing was found then).
        upgrade = ""
        if version == 1:
            upgrade += (
                "ALTER TABLE requests ADD COLUMN deployment TEXT; "
                "ALTER TABLE attempts ADD COLUMN deployment TEXT; "
            )
        if version in (1, 2):
            upgrade += (
                "ALTER TABLE attempts ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0; "
                "ALTER TABLE attempts ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0; "
                "ALTER TABLE attempts ADD COLUMN cache_savings REAL DEFAULT 0; "
            )
        conn.executescript(
            f"BEGIN IMMEDIATE; {upgrade} {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        )
    return SCHEMA_VERSION
