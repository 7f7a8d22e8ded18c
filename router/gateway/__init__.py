"""The gateway: ``router serve``, an OpenAI- and Anthropic-compatible HTTP endpoint over a
Router (a layer above the engine, below the CLI).

    app.py          GatewayApp: the raw ASGI app (routes, keys, probes, the model list)
    completions.py  the completion flow, JSON and SSE, shared by both APIs
    openai_api.py   Chat Completions on the wire (request → call, Response/Chunks → bytes)
    anthropic_api.py  Messages on the wire (content blocks → messages, stream events)
    call.py         a request read off the wire; tags and metadata from headers
    exchange.py     one request: the body within its limit, replies, disconnect watch
    errors.py       every failure → status and each API's error shape
    auth.py         Authenticator (pluggable): StaticKeys from the environment, NoAuth
    keys.py         team keys: shape, digest, settings, records
    keystore.py     their store: SQLite (default) or Redis; spend per key
    teamkeys.py     TeamKeys, the team key Authenticator: refusals, limits, budgets
    keysetup.py     which store a spec uses (router serve and router keys)
    admin.py        the admin API for team keys (/admin/keys)
    accesslog.py    one JSON line per request, written off the event loop
    reload.py       hot reload (SIGHUP, the file watch, POST /admin/reload)
    metrics.py      GET /metrics: Prometheus text, one registry across reloads
    opkeys.py       the operators' keys (ROUTER_ADMIN_KEY, ROUTER_METRICS_KEY)
    server.py       ServeOptions, the checks before listening, uvicorn (one or N workers)
    _uvicorn.py     uvicorn's Server with the gateway's drain signal

Nothing here is imported by ``from router import Router``.
"""

from __future__ import annotations

from typing import Any

#: The largest request body read, by default (``router serve --max-body-bytes``): room for a
#: few base64 images. Here, so the CLI's help shows it without importing the gateway.
DEFAULT_MAX_BODY = 16 * 1024 * 1024

__all__ = [
    "DEFAULT_MAX_BODY",
    "Authenticator",
    "GatewayApp",
    "NoAuth",
    "Principal",
    "Refused",
    "ServeOptions",
    "StaticKeys",
    "build_app",
    "serve",
]

_HOMES = {
    "GatewayApp": "router.gateway.app",
    "Authenticator": "router.gateway.auth",
    "NoAuth": "router.gateway.auth",
    "Principal": "router.gateway.auth",
    "Refused": "router.gateway.auth",
    "StaticKeys": "router.gateway.auth",
    "ServeOptions": "router.gateway.server",
    "build_app": "router.gateway.server",
    "serve": "router.gateway.server",
}


def __getattr__(name: str) -> Any:
    """The public names, each loaded on first use."""
    import importlib

    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'router.gateway' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
