"""``router keys create|list|revoke|rotate``: the gateway's team keys, in the store the spec
chooses (Redis when its state is on Redis, else the SQLite file ``router serve`` reads)."""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from typing import IO, Any

from router.cli.common import EXIT_FAILED, EXIT_OK, add_config_option, default_config, report_error
from router.errors import ConfigError, RouterError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a duration like 90s, 30m, 12h, 30d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _common(p: argparse.ArgumentParser) -> None:
    add_config_option(p)
    p.add_argument(
        "--keys-db",
        metavar="FILE",
        help="the SQLite key store when the spec's state is not on Redis (default: "
        "$ROUTER_KEYS_DB, else router-keys.db beside the spec)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_keys(sub: Any) -> None:
    p = sub.add_parser(
        "keys",
        help="create, list, revoke and rotate the gateway's team keys",
        description=(
            "Team keys for `router serve`: each has a name, the tasks it may call, rpm/tpm "
            "limits, daily/monthly budgets (USD), tags and metadata added to its requests, and "
            "an expiry. Only a digest is stored; a key is printed once, when created or "
            "rotated. The store is Redis when the spec's state is on Redis (shared by every "
            "replica), else a SQLite file."
        ),
    )
    actions = p.add_subparsers(
        dest="keys_action",
        metavar="ACTION",
        required=True,
        help="create, list, revoke or rotate (each has its own --help)",
    )
    c = actions.add_parser("create", help="make a key and print it (once)")
    _common(c)
    c.add_argument("--name", required=True, help="who the key is for (shown in logs and lists)")
    c.add_argument(
        "--task",
        action="append",
        dest="tasks",
        metavar="TASK",
        help="a task the key may call (repeat for more; default: every task)",
    )
    c.add_argument(
        "--rpm", type=int, help="requests per minute, a full minute's burst (default: no limit)"
    )
    c.add_argument("--tpm", type=int, help="tokens per minute, estimated then corrected")
    c.add_argument("--daily-usd", type=float, metavar="USD", help="spend cap per UTC day")
    c.add_argument("--monthly-usd", type=float, metavar="USD", help="spend cap per UTC month")
    c.add_argument(
        "--tag", action="append", dest="tags", metavar="TAG", help="a tag added to its requests"
    )
    c.add_argument(
        "--metadata", metavar="JSON", help='metadata added to its requests, e.g. {"team": "a"}'
    )
    c.add_argument(
        "--expires-in", type=_duration, metavar="DURATION", help="e.g. 30d, 12h (default: never)"
    )
    c.set_defaults(command=cmd_keys)
    ls = actions.add_parser("list", help="every key: id, name, status, limits, spend")
    _common(ls)
    ls.set_defaults(command=cmd_keys)
    for name, what in (
        ("revoke", "revoke a key: every replica refuses it within a second"),
        ("rotate", "a new secret for a key (same id, settings, spend); prints it once"),
    ):
        a = actions.add_parser(name, help=what)
        _common(a)
        a.add_argument("id", help="the key's id (the 10 hex characters after rk_)")
        a.set_defaults(command=cmd_keys)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    raw: dict[str, Any] = {"name": args.name}
    for name in ("tasks", "rpm", "tpm", "daily_usd", "monthly_usd", "tags"):
        if getattr(args, name) is not None:
            raw[name] = getattr(args, name)
    if args.metadata is not None:
        try:
            raw["metadata"] = json.loads(args.metadata)
        except ValueError as exc:
            raise ConfigError(f"--metadata: not valid JSON ({exc})") from None
    if args.expires_in is not None:
        raw["expires_at"] = time.time() + args.expires_in
    return raw


def _row(r: dict[str, Any]) -> str:
    limits = ", ".join(
        f"{label} {r[k]:g}" if isinstance(r[k], float) else f"{label} {r[k]}"
        for k, label in (("rpm", "rpm"), ("tpm", "tpm"), ("daily_usd", "$/day"))
        if r.get(k) is not None
    )
    if r.get("monthly_usd") is not None:
        limits += (", " if limits else "") + f"$/month {r['monthly_usd']:g}"
    tasks = ",".join(r["tasks"]) if r.get("tasks") is not None else "*"
    spent = r.get("spent") or {}
    return (
        f"{r['id']}  {r['name']:<20} {r['status']:<8} tasks {tasks:<16} "
        f"{limits or 'no limits':<28} spent ${spent.get('daily', 0):.4f} today, "
        f"${spent.get('monthly', 0):.4f} this month"
    )


def cmd_keys(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.gateway.admin import create_key, rotate_key
    from router.gateway.keys import KeySettings, when
    from router.gateway.keysetup import keys_db_path, open_store
    from router.gateway.keystore import StoreDown
    from router.spec import load_spec

    config = args.config or default_config()
    store = None
    try:
        spec = load_spec(config, environ=os.environ)
        store, _, _ = open_store(spec, os.environ, keys_db_path(config, os.environ, args.keys_db))
        action = args.keys_action
        out: dict[str, Any]
        if action == "create":
            settings = KeySettings.build(_settings(args))
            settings.check_tasks(spec.tasks)
            record, key = create_key(settings)
            store.create(record)
            out = {"key": key, **record.public()}
            text = (
                f"created key {record.id} ({settings.name}); expires {when(settings.expires_at)}\n"
                f"{key}\n(shown once: store it now; the store keeps only its digest)\n"
            )
        elif action == "list":
            now = time.time()
            rows = [{**r.public(now), "spent": store.spent(r.id, now)} for r in store.all()]
            out = {"object": "list", "data": rows}
            text = "".join(_row(r) + "\n" for r in rows) or f"no keys in {store.where}\n"
        else:
            found = store.get(args.id)
            if found is None:
                raise ConfigError(f"no key with id {args.id!r} in {store.where}")
            if action == "revoke":
                record = found if found.revoked_at else found.revoked(time.time())
                store.put(record)
                out = record.public()
                text = f"revoked key {record.id} ({record.settings.name})\n"
            else:
                record, key = rotate_key(found)
                store.put(record)
                out = {"key": key, **record.public()}
                text = f"rotated key {record.id}: the old secret no longer works\n{key}\n"
    except StoreDown as down:
        stderr.write(f"router keys: the key store is unreachable: {down.detail}\n")
        return EXIT_FAILED
    except RouterError as exc:
        return report_error(exc, stderr)
    finally:
        if store is not None:
            store.close()
    stdout.write(json.dumps(out, indent=2) + "\n" if args.json else text)
    return EXIT_OK
