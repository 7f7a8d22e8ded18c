"""Which team key store a spec uses, shared by ``router serve`` and ``router keys``: Redis
when the spec's ``state.backend`` is redis (records, spend and limits shared by every
replica), else a SQLite file (``--keys-db``, ``$ROUTER_KEYS_DB``, or ``router-keys.db``
beside the spec) with per-process limits.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from router.errors import ConfigError
from router.gateway.auth import KEYS_ENV, MIN_KEY_LENGTH, Authenticator, StaticKeys
from router.gateway.keystore import KeyStore, RedisKeyStore, SQLiteKeyStore, StoreDown
from router.gateway.teamkeys import TeamKeys
from router.specmodel import Spec
from router.state.base import StateBackend

__all__ = ["ADMIN_ENV", "KEYS_DB_ENV", "admin_key", "keys_db_path", "open_store", "team_keys"]

#: The environment variable holding the admin key (the admin API is off without it).
ADMIN_ENV = "ROUTER_ADMIN_KEY"
#: The environment variable naming the SQLite key store (when the state is not on Redis).
KEYS_DB_ENV = "ROUTER_KEYS_DB"
DEFAULT_DB = "router-keys.db"


def keys_db_path(config: str, environ: Mapping[str, str], given: str | None = None) -> Path:
    """The SQLite key store: ``given``, else ``$ROUTER_KEYS_DB``, else beside the spec."""
    chosen = given or environ.get(KEYS_DB_ENV)
    return Path(chosen) if chosen else Path(config).resolve().parent / DEFAULT_DB


def admin_key(environ: Mapping[str, str]) -> str | None:
    """The admin key from ``$ROUTER_ADMIN_KEY``, None when unset; too short is an error."""
    key = environ.get(ADMIN_ENV, "").strip()
    if not key:
        return None
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{ADMIN_ENV} is shorter than {MIN_KEY_LENGTH} characters: use a long random key"
        )
    return key


def open_store(
    spec: Spec, environ: Mapping[str, str], db: Path
) -> tuple[KeyStore, StateBackend, Any]:
    """``(store, limits backend, redis primary or None)`` for ``spec``. Nothing connects yet."""
    from router.engine.compile import make_state
    from router.state.memory import MemoryBackend

    if spec.state.backend != "redis":
        return SQLiteKeyStore(db), MemoryBackend(), None
    backend = make_state(spec, environ, time.time)
    primary = getattr(backend, "primary", backend)
    return RedisKeyStore(primary, backend), backend, primary


def _has_keys(store: KeyStore, db: Path) -> bool:
    if isinstance(store, SQLiteKeyStore) and not db.exists():
        return False
    try:
        return bool(store.all())
    except StoreDown:
        return True  # cannot tell now: start, and let the store answer once it is back


def team_keys(spec: Spec, environ: Mapping[str, str], db: Path) -> Authenticator:
    """The gateway's authenticator: team keys, with the static keys of ``$ROUTER_GATEWAY_KEYS``
    beside them. A ConfigError, saying what to do, when no key could ever be accepted."""
    static = StaticKeys.from_environ(environ) if environ.get(KEYS_ENV, "").strip() else None
    admin = admin_key(environ)
    store, backend, _ = open_store(spec, environ, db)
    if static is None and admin is None and not _has_keys(store, db):
        store.close()
        raise ConfigError(
            f"router serve needs keys: set {KEYS_ENV} to one or more keys (comma-separated, at "
            f"least {MIN_KEY_LENGTH} characters each; e.g. "
            f"{KEYS_ENV}=\"$(python -c 'import secrets; print(secrets.token_urlsafe(32))')\"), "
            f"create team keys with `router keys create` (store: {store.where}), or set "
            f"{ADMIN_ENV} to create them over the admin API; or pass --no-auth on a loopback "
            "address for local use"
        )
    return TeamKeys(
        store, backend, static=static, fail_open=spec.state.on_unavailable == "fail_open"
    )
