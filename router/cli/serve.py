"""``router serve``: the gateway (router.gateway) from the command line."""

from __future__ import annotations

import argparse
from typing import IO, Any

from router.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    add_config_option,
    add_hooks_option,
    add_sandbox_option,
    default_config,
    report_error,
)
from router.errors import RouterError


def add_serve(sub: Any) -> None:
    from router.gateway import DEFAULT_MAX_BODY

    p = sub.add_parser(
        "serve",
        help="serve the spec as an OpenAI- and Anthropic-compatible HTTP gateway",
        description=(
            "Serve the routing spec over HTTP: POST /v1/chat/completions (OpenAI), "
            "POST /v1/messages (Anthropic), GET /v1/models (the tasks), GET /healthz and "
            "/readyz, GET /metrics (Prometheus; ROUTER_METRICS_KEY or ROUTER_ADMIN_KEY), "
            "GET|POST /admin/reload (ROUTER_ADMIN_KEY). A request's 'model' names a task. Every "
            "request but the probes needs a key from ROUTER_GATEWAY_KEYS (comma-separated), "
            "sent as 'Authorization: Bearer KEY' or 'x-api-key: KEY'. The spec is reloaded "
            "without a restart on SIGHUP, when the file changes, or on POST /admin/reload; an "
            "invalid one is refused and the old one keeps serving. SIGTERM drains requests in "
            "flight, then exits 0. The hooks the spec names run on every request: register "
            "them with --hooks (a refusal is answered 400 in each API's error shape). Needs "
            "the gateway extra (uvicorn)."
        ),
    )
    add_config_option(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=8080,
        help="port to listen on; 0 picks a free one (default 8080)",
    )
    p.add_argument(
        "--no-auth",
        action="store_true",
        help="accept requests without a key; refused on any address but loopback",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="worker processes sharing the port (default 1; state is per process unless the "
        "spec puts it on Redis)",
    )
    p.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY,
        dest="max_body",
        metavar="BYTES",
        help=f"larger request bodies get 413 (default {DEFAULT_MAX_BODY})",
    )
    p.add_argument(
        "--drain-seconds",
        type=float,
        default=30.0,
        metavar="S",
        help="on SIGTERM, how long requests and streams in flight may run on (default 30)",
    )
    p.add_argument(
        "--watch-seconds",
        type=float,
        default=1.0,
        metavar="S",
        help="check the config file for changes every S seconds and reload it when its "
        "content changed (default 1; 0 turns the watch off: SIGHUP and POST /admin/reload "
        "still reload)",
    )
    add_sandbox_option(p)
    add_hooks_option(p)
    p.add_argument(
        "--keys-db",
        metavar="FILE",
        help="the SQLite team key store when the spec's state is not on Redis (default: "
        "$ROUTER_KEYS_DB, else router-keys.db beside the spec; see `router keys`)",
    )
    p.add_argument(
        "--no-access-log",
        action="store_true",
        help="do not write the JSON access log (one line per request, on stderr)",
    )
    p.set_defaults(command=cmd_serve)


def cmd_serve(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from router.gateway.server import ServeOptions, serve

    options = ServeOptions(
        config=args.config or default_config(),
        host=args.host,
        port=args.port,
        no_auth=args.no_auth,
        workers=args.workers,
        max_body=args.max_body,
        drain_seconds=args.drain_seconds,
        access_log=not args.no_access_log,
        sandbox=args.sandbox,
        watch_seconds=args.watch_seconds,
        keys_db=args.keys_db,
        hooks=tuple(args.hooks or ()),
    )

    def ready(host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        auth = "off (--no-auth)" if options.no_auth else "team keys and ROUTER_GATEWAY_KEYS"
        sandbox = " · providers on the in-process sandbox (keys-free)" if options.sandbox else ""
        stdout.write(
            f"router serve: listening on http://{shown}:{port} · {options.config} · "
            f"auth {auth} · {options.workers} worker(s){sandbox}\n"
            f"  OpenAI base_url:    http://{shown}:{port}/v1\n"
            f"  Anthropic base_url: http://{shown}:{port}\n"
        )
        stdout.flush()

    try:
        serve(options, on_ready=ready)
    except ImportError as exc:
        stderr.write(f"router serve: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        stderr.write(
            f"router serve: cannot listen on {options.host}:{options.port}: {exc.strerror or exc}\n"
        )
        return EXIT_USAGE
    except RouterError as exc:
        return report_error(exc, stderr)
    return EXIT_OK
