"""Running the gateway: the options of ``router serve``, the checks before anything listens,
and uvicorn (uvloop + httptools when installed) under it, one process or N workers.

Reload: on SIGHUP, a changed config file or ``POST /admin/reload``, the spec is rebuilt
beside the old one (:mod:`router.gateway.reload`); ``--sandbox`` runs every Router on one
in-process sandbox.

Shutdown: on SIGTERM or SIGINT the server stops accepting connections, ``/readyz`` turns 503
(for a load balancer still polling an open connection), requests and streams in flight run
to their end for up to ``drain_seconds``, then whatever is left is cancelled (each one's
upstream call with it) and the Router's clients are closed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from router.errors import ConfigError
from router.gateway import DEFAULT_MAX_BODY
from router.gateway.app import GatewayApp
from router.gateway.auth import Authenticator, NoAuth

__all__ = ["ServeOptions", "build_app", "check_bind", "install_hint", "serve"]

OPTIONS_ENV = "ROUTER_GATEWAY_OPTIONS"  # how workers receive the options (never a key)


@dataclass(frozen=True, slots=True)
class ServeOptions:
    config: str
    host: str = "127.0.0.1"
    port: int = 8080
    no_auth: bool = False
    workers: int = 1
    max_body: int = DEFAULT_MAX_BODY
    drain_seconds: float = 30.0
    access_log: bool = True
    sandbox: bool = False  # every provider on an in-process sandbox: keys-free
    watch_seconds: float = 1.0  # how often the config file is checked for changes; 0: never
    keys_db: str | None = None  # the SQLite team key store (state not on Redis)
    #: ``--hooks``: NAME=module:attribute or module:attribute (router.engine.hookspecs),
    #: imported in each process that serves; every Router (reloads too) runs them.
    hooks: tuple[str, ...] = ()


def install_hint() -> str:
    """The pip command that installs the gateway extra, under this distribution's name."""
    import importlib.metadata

    dists = importlib.metadata.packages_distributions().get("router") or ["router"]
    return f"pip install '{dists[0]}[gateway]'"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(options: ServeOptions) -> None:
    """Refuses what must not start: ``--no-auth`` anywhere but loopback, a bad port."""
    if options.no_auth and not is_loopback(options.host):
        raise ConfigError(
            f"--no-auth is refused on {options.host}: without keys the gateway may only listen "
            "on a loopback address (127.0.0.1, ::1, localhost); set ROUTER_GATEWAY_KEYS to "
            "serve other hosts"
        )
    if not 0 <= options.port <= 65535:
        raise ConfigError(f"--port {options.port}: expected 0 (any free port) to 65535")
    if options.workers < 1:
        raise ConfigError(f"--workers {options.workers}: expected 1 or more")
    if options.max_body < 1024:
        raise ConfigError(f"--max-body-bytes {options.max_body}: expected at least 1024")
    if options.drain_seconds < 0:
        raise ConfigError(f"--drain-seconds {options.drain_seconds}: expected 0 or more")
    if options.watch_seconds < 0:
        raise ConfigError(f"--watch-seconds {options.watch_seconds}: expected 0 (off) or more")


def authenticator(options: ServeOptions, environ: Mapping[str, str], spec: Any) -> Authenticator:
    """NoAuth (``--no-auth``), else team keys beside ``$ROUTER_GATEWAY_KEYS``."""
    if options.no_auth:
        return NoAuth()
    from router.gateway.keysetup import keys_db_path, team_keys

    return team_keys(spec, environ, keys_db_path(options.config, environ, options.keys_db))


def _with_admin(app: GatewayApp, environ: Mapping[str, str]) -> GatewayApp:
    from router.gateway.keysetup import admin_key
    from router.gateway.teamkeys import TeamKeys

    key = admin_key(environ)
    if key is not None and isinstance(app.auth, TeamKeys):
        from router.gateway.admin import AdminApi

        app.admin = AdminApi(app.auth, key, lambda: app.router.spec.tasks)
    return app


def build_app(options: ServeOptions, environ: Mapping[str, str] | None = None) -> GatewayApp:
    """The app for ``options``: the spec loaded and compiled (every provider's SDK and
    clients made now, so no request does it), the keys read, the reloader and the metrics
    set up. Raises ConfigError."""
    import sys

    from router.engine.hookspecs import import_hooks
    from router.gateway.metrics import load_metrics
    from router.gateway.opkeys import OperatorKeys
    from router.gateway.reload import Reloader, SpecSource

    env = os.environ if environ is None else environ
    operators = OperatorKeys.from_environ(env, no_auth=options.no_auth)
    hooks = import_hooks(options.hooks)
    source = SpecSource(options.config, env, sandbox=options.sandbox, hooks=hooks)
    try:
        digest = source.digest()
        router = source.build()
    except BaseException:
        source.close()
        raise
    try:
        auth = authenticator(options, env, router.spec)
    except BaseException:
        router.close()
        source.close()
        raise
    log = sys.stderr if options.access_log else None
    app = GatewayApp(router, auth, max_body=options.max_body, access_log=log, drain_on_signal=True)
    app.operators = operators
    app.reloader = Reloader(app, source, digest, interval=options.watch_seconds)
    app.metrics = load_metrics(lambda: app.in_flight)
    if app.metrics is not None:
        app.metrics.adopt(router)
    return _with_admin(app, env)


def app_from_environ() -> GatewayApp:
    """Each worker's app (``--workers N``): the options come in :data:`OPTIONS_ENV`."""
    given = json.loads(os.environ[OPTIONS_ENV])
    return build_app(ServeOptions(**{**given, "hooks": tuple(given.get("hooks", ()))}))


def _uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(
            f"router serve needs the gateway extra (uvicorn, uvloop, httptools): {install_hint()}"
        ) from exc
    return uvicorn


def _config(uvicorn: Any, app: Any, options: ServeOptions, **extra: Any) -> Any:
    def have(module: str) -> bool:
        try:
            __import__(module)
        except ImportError:
            return False
        return True

    return uvicorn.Config(
        app,
        host=options.host,
        port=options.port,
        loop="uvloop" if have("uvloop") else "asyncio",
        http="httptools" if have("httptools") else "h11",
        lifespan="on",
        access_log=False,  # the gateway writes its own (JSON, no prompt text, no key)
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=options.drain_seconds,
        **extra,
    )


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that an address in use is an OSError the CLI
    reports (uvicorn would exit the process itself)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)  # --workers: the spawned workers serve it
    return sock


def serve(
    options: ServeOptions,
    on_ready: Callable[[str, int], None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Check, load, and serve until SIGTERM/SIGINT (then drain). Raises ConfigError before
    listening when the spec, the keys or the options are wrong; ImportError naming the
    extra when uvicorn is missing; OSError when the address cannot be bound."""
    check_bind(options)
    uvicorn = _uvicorn()
    from router.gateway._uvicorn import GatewayServer

    if options.workers == 1:
        with bind(options.host, options.port) as sock:  # first: a taken port fails at once
            server = GatewayServer(_config(uvicorn, build_app(options, environ), options))
            server.on_ready = on_ready
            server.run(sockets=[sock])
        return
    # N workers: each builds its own app from the options in the environment; the spec and
    # the keys are checked here first, so a mistake stops the command, not N workers.
    from router.engine.hookspecs import import_hooks
    from router.engine.router import Router
    from router.gateway.opkeys import OperatorKeys

    env = os.environ if environ is None else environ
    OperatorKeys.from_environ(env, no_auth=options.no_auth)
    checked = Router.from_yaml(
        options.config,
        environ=env,
        preload=False,
        sandbox=options.sandbox,
        hooks=import_hooks(options.hooks),
    )
    checked.close()
    auth = authenticator(options, env, checked.spec)
    store = getattr(auth, "store", None)
    if store is not None:
        store.close()  # each worker opens its own
    config = _config(
        uvicorn,
        "router.gateway.server:app_from_environ",
        options,
        factory=True,
        workers=options.workers,
    )
    from uvicorn.supervisors import Multiprocess

    with bind(options.host, options.port) as sock:
        sock.listen(config.backlog)  # connections wait in the backlog while the workers start
        os.environ[OPTIONS_ENV] = json.dumps(asdict(options))
        if on_ready is not None:
            host, port = sock.getsockname()[:2]
            on_ready(host, port)
        Multiprocess(config, sockets=[sock]).run()
