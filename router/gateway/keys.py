"""Team keys: what a key is, how it is made, checked and described.

A team key reads ``rk_<id>_<secret>``: ``id`` is 10 lowercase hex characters (the key's public
name in lists, logs and admin calls), ``secret`` 43 URL-safe characters (256 random bits).
Only the SHA-256 digest of the whole key is stored, beside the key's settings, in a
:class:`KeyRecord`; the key itself is shown once, when it is made (or rotated). A fast hash
is enough: the secret has 256 bits of entropy, so no dictionary or brute force applies, and
the lookup is by ``id``, then one constant-time comparison of digests.

Settings (each optional): the tasks it may call, requests and tokens per minute, a daily
and a monthly budget in USD, tags and metadata added to its requests (for the spec's rules),
an expiry. Where records live: :mod:`router.gateway.keystore`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from router.errors import ConfigError

__all__ = ["KeyRecord", "KeySettings", "digest", "key_id", "new_key", "when"]

PREFIX = "rk_"
_KEY = re.compile(r"rk_([0-9a-f]{10})_[A-Za-z0-9_-]{43}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._:@/-]{0,63}")


def new_key(ident: str | None = None) -> tuple[str, str]:
    """A fresh ``(id, key)``; a given ``ident`` keeps the id (a rotation)."""
    ident = ident or secrets.token_hex(5)
    return ident, f"{PREFIX}{ident}_{secrets.token_urlsafe(32)}"


def key_id(key: str) -> str | None:
    """The id a presented key claims, or None when it is not a team key's shape."""
    match = _KEY.fullmatch(key)
    return match.group(1) if match else None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def matches(record: KeyRecord, key: str) -> bool:
    return hmac.compare_digest(record.digest, digest(key))


def when(at: float | None) -> str:
    """A timestamp as the CLI and messages show it."""
    if at is None:
        return "never"
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _positive(name: str, value: Any, kind: type) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}: expected a number > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0) or (kind is int and value != int(value)):
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name}: expected {what} > 0, got {value!r}")
    return kind(value)


@dataclass(frozen=True, slots=True)
class KeySettings:
    """What a key may do. None: no limit of that kind (``tasks`` None: every task)."""

    name: str
    tasks: tuple[str, ...] | None = None
    rpm: int | None = None
    tpm: int | None = None
    daily_usd: float | None = None
    monthly_usd: float | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    expires_at: float | None = None

    @classmethod
    def build(cls, raw: Mapping[str, Any], *, where: str = "") -> KeySettings:
        """Settings from JSON-like values (the admin API's body, the CLI's options); one
        ConfigError naming the field (``where`` prefixes it) and what to send."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(
                f"{where}{unknown[0]}: unknown key setting (known: {', '.join(sorted(known))})"
            )
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ConfigError(
                f"{where}name: expected 1-64 characters (letters, digits, space . _ : @ / -), "
                f"starting with a letter or digit; got {name!r}"
            )
        tasks = raw.get("tasks")
        if tasks is not None:
            if not isinstance(tasks, (list, tuple)) or not all(isinstance(t, str) for t in tasks):
                raise ConfigError(f"{where}tasks: expected a list of task names, got {tasks!r}")
            tasks = tuple(tasks)
        tags = raw.get("tags") or ()
        if not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
            raise ConfigError(f"{where}tags: expected a list of strings, got {tags!r}")
        metadata = raw.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise ConfigError(f"{where}metadata: expected an object, got {metadata!r}")
        expires = raw.get("expires_at")
        if expires is not None and (
            isinstance(expires, bool)
            or not isinstance(expires, (int, float))
            or not math.isfinite(expires)
        ):
            raise ConfigError(f"{where}expires_at: expected a UNIX time in seconds")
        return cls(
            name=name,
            tasks=tasks,
            rpm=_positive(f"{where}rpm", raw.get("rpm"), int),
            tpm=_positive(f"{where}tpm", raw.get("tpm"), int),
            daily_usd=_positive(f"{where}daily_usd", raw.get("daily_usd"), float),
            monthly_usd=_positive(f"{where}monthly_usd", raw.get("monthly_usd"), float),
            tags=tuple(tags),
            metadata=dict(metadata),
            expires_at=float(expires) if expires is not None else None,
        )

    def check_tasks(self, known: Iterable[str]) -> None:
        """Refuses allowed tasks the spec does not have (a typo would lock the key out)."""
        have = set(known)
        missing = [t for t in self.tasks or () if t not in have]
        if missing:
            raise ConfigError(
                f"tasks: {', '.join(missing)} not in the spec (its tasks: "
                f"{', '.join(sorted(have))})"
            )


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A stored key: its id, the digest of the key (never the key), settings, and state."""

    id: str
    digest: str
    settings: KeySettings
    created_at: float
    revoked_at: float | None = None
    rotated_at: float | None = None

    def expired(self, now: float) -> bool:
        at = self.settings.expires_at
        return at is not None and now >= at

    def status(self, now: float | None = None) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expired(time.time() if now is None else now) else "active"

    def revoked(self, at: float) -> KeyRecord:
        return replace(self, revoked_at=at)

    def rotated(self, new_digest: str, at: float) -> KeyRecord:
        return replace(self, digest=new_digest, rotated_at=at)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> KeyRecord:
        raw = json.loads(text)
        settings = raw.pop("settings")
        for name in ("tasks", "tags"):
            if settings.get(name) is not None:
                settings[name] = tuple(settings[name])
        return cls(settings=KeySettings(**settings), **raw)

    def public(self, now: float | None = None) -> dict[str, Any]:
        """What lists and the admin API show: everything but the digest."""
        out = asdict(self)
        del out["digest"]
        settings = out.pop("settings")
        out.update(settings)
        out["status"] = self.status(now)
        out["prefix"] = f"{PREFIX}{self.id}_"
        return out
