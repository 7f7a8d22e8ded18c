"""The admin API for team keys, guarded by the admin key (``$ROUTER_ADMIN_KEY``, sent as
``Authorization: Bearer`` or ``x-api-key``; compared by SHA-256 digest in constant time; the
API answers 404 when no admin key is set). Errors in OpenAI's error shape.

    POST /admin/keys                 create: the settings as JSON; 201 with the key, once
    GET  /admin/keys                 every key (never a key or digest), with its spend
    GET  /admin/keys/{id}            one key
    POST /admin/keys/{id}/revoke     revoke: refused everywhere within 1 s
    POST /admin/keys/{id}/rotate     a new secret for the same id, settings and spend; 200
                                     with the new key, once; the old one stops working
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from router.errors import ConfigError
from router.gateway.auth import credential
from router.gateway.errors import Failure
from router.gateway.exchange import BodyTooLarge, ClientGone, Exchange
from router.gateway.keys import KeyRecord, KeySettings, digest, new_key
from router.gateway.keystore import StoreDown
from router.gateway.teamkeys import TeamKeys

__all__ = ["AdminApi", "create_key", "rotate_key"]

_MAX_BODY = 64 * 1024


def create_key(settings: KeySettings, now: float | None = None) -> tuple[KeyRecord, str]:
    """A new record and its key (the only time the key exists outside the caller)."""
    ident, key = new_key()
    return KeyRecord(ident, digest(key), settings, time.time() if now is None else now), key


def rotate_key(record: KeyRecord, now: float | None = None) -> tuple[KeyRecord, str]:
    if record.revoked_at is not None:
        raise ConfigError(f"the key {record.id} is revoked: create a new one instead")
    _, key = new_key(record.id)
    return record.rotated(digest(key), time.time() if now is None else now), key


class AdminApi:
    """``await api.handle(ex)`` for a path under ``/admin/keys``. ``tasks`` gives the
    served spec's task names (allowed tasks are checked against them)."""

    def __init__(self, keys: TeamKeys, admin_key: str, tasks: Callable[[], Iterable[str]]):
        self.keys = keys
        self._digest = hashlib.sha256(admin_key.encode()).digest()
        self._tasks = tasks

    def _allowed(self, ex: Exchange) -> bool:
        given = credential(ex.scope["headers"]) or ""
        return hmac.compare_digest(self._digest, hashlib.sha256(given.encode()).digest())

    async def handle(self, ex: Exchange) -> None:
        if not self._allowed(ex):
            ex.outcome = "refused"
            await ex.fail(Failure(401, "invalid admin key", code="invalid_admin_key"))
            return
        ex.caller = "admin"
        parts = ex.scope["path"].rstrip("/").split("/")[2:]  # ["keys", id?, action?]
        method = ex.scope["method"]
        try:
            await self._route(ex, method, parts)
        except ConfigError as exc:
            await ex.fail(Failure(400, str(exc), code="invalid_key_settings"))
        except StoreDown as down:
            message = f"the key store is unreachable ({down.detail}); retry shortly"
            await ex.fail(Failure(503, message, "server_error", "state_unavailable", None, 1.0))

    async def _route(self, ex: Exchange, method: str, parts: list[str]) -> None:
        store = self.keys.store
        if parts == ["keys"] and method == "POST":
            settings = KeySettings.build(await self._json(ex))
            settings.check_tasks(self._tasks())
            record, key = create_key(settings)
            await store.acreate(record)
            await self._reply(ex, 201, {"key": key, **record.public()})
        elif parts == ["keys"] and method == "GET":
            now = time.time()
            data = [
                {**r.public(now), "spent": await store.aspent(r.id, now)}
                for r in await store.aall()
            ]
            await self._reply(ex, 200, {"object": "list", "data": data})
        elif len(parts) in (2, 3) and parts[0] == "keys":
            found = await store.aget(parts[1])
            if found is None:
                await ex.fail(Failure(404, f"no key with id {parts[1]!r}", code="key_not_found"))
                return
            record = found
            action = parts[2] if len(parts) == 3 else None
            if action is None and method == "GET":
                now = time.time()
                spent = await store.aspent(record.id, now)
                await self._reply(ex, 200, {**record.public(now), "spent": spent})
            elif action == "revoke" and method == "POST":
                if record.revoked_at is None:
                    record = record.revoked(time.time())
                    await store.aput(record)
                self.keys.forget(record.id)
                await self._reply(ex, 200, record.public())
            elif action == "rotate" and method == "POST":
                record, key = rotate_key(record)
                await store.aput(record)
                self.keys.forget(record.id)
                await self._reply(ex, 200, {"key": key, **record.public()})
            else:
                await self._unknown(ex, method)
        else:
            await self._unknown(ex, method)

    async def _unknown(self, ex: Exchange, method: str) -> None:
        message = (
            f"no such admin endpoint: {method} {ex.scope['path']} (POST /admin/keys, GET "
            "/admin/keys[/{id}], POST /admin/keys/{id}/revoke, POST /admin/keys/{id}/rotate)"
        )
        await ex.fail(Failure(404, message, code="unknown_url"))

    async def _json(self, ex: Exchange) -> dict[str, Any]:
        try:
            raw = await ex.body(_MAX_BODY)
        except BodyTooLarge:
            raise ConfigError(f"the body is larger than {_MAX_BODY} bytes") from None
        except ClientGone:
            raise ConfigError("the client hung up before its body arrived") from None
        try:
            value = json.loads(raw or b"{}")
        except ValueError as exc:
            raise ConfigError(f"the body is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ConfigError('the body must be a JSON object, e.g. {"name": "team-a"}')
        return value

    async def _reply(self, ex: Exchange, status: int, body: dict[str, Any]) -> None:
        await ex.reply(status, json.dumps(body).encode(), [(b"cache-control", b"no-store")])
