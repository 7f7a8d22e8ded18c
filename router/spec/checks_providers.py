"""Semantic checks on providers: where their base URLs point, and what they read from the
environment (key variables, header values). Nothing here ever puts a value read from the
environment, or a string that may be a secret, into a message.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterator, Mapping
from itertools import pairwise
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from router.spec.diagnostics import Diagnostic
from router.spec.model import EnvRef, Spec
from router.spec.schema import where
from router.spec.yamlload import PathT, json_path

if TYPE_CHECKING:
    from router.spec.checks import Context


# --- providers: URLs, keys, headers -----------------------------------------------------------

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "x-auth-token"}
)
# Header and query parameter names that carry credentials: X-Goog-Api-Key,
# Ocp-Apim-Subscription-Key, access_token, ?key=...
_SECRET_NAME = re.compile(
    r"(?:^|[-_])(?:api[-_]?)?(?:key|token|secret|password|passwd|auth|signature|sig)$"
)


def _secret_header(header: str, value: str) -> bool:
    name = header.lower()
    return (
        name in _SECRET_HEADERS
        or bool(_SECRET_NAME.search(name))
        or any(_prefixed_key(word) for word in value.split())
    )


# IPv4 in the shorthand, decimal, octal or hex forms (127.1, 2130706433, 0x7f000001) that
# ipaddress refuses but the resolver (inet_aton) accepts.
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}$")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if not _NUMERIC_HOST.match(host):
            return None
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _host_kind(host: str) -> str | None:
    """Why ``host`` is not a public internet host, or None when it is."""
    host = host.strip("[]").lower().rstrip(".")  # "localhost." is localhost
    if host == "localhost" or host.endswith(_PRIVATE_SUFFIXES):
        return "this machine or a private network"
    ip = _ip(host)
    if ip is None:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_private or ip.is_reserved or ip.is_multicast or not ip.is_global:
        return "a private address"
    return None


def check_base_urls(ctx: Context) -> Iterator[Diagnostic]:
    for name, provider in ctx.entries("providers"):
        url = provider.get("base_url")
        if not isinstance(url, str):
            continue
        path: PathT = ("providers", name, "base_url")
        local = provider.get("local") is True
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            yield ctx.doc.diagnostic(
                path, f"base_url of provider '{name}' is not a valid URL", "invalid-url"
            )
            continue
        if parts.scheme not in ("http", "https"):
            yield ctx.doc.diagnostic(
                path,
                f"base_url of provider '{name}' uses the scheme "
                f"'{parts.scheme or '(none)'}'; only http and https are allowed",
                "unsafe-base-url",
                hint="write it as https://host/path",
            )
            continue
        if not host:
            yield ctx.doc.diagnostic(
                path, f"base_url of provider '{name}' has no host", "invalid-url"
            )
            continue
        if parts.username or parts.password:
            yield ctx.doc.diagnostic(
                path,
                f"base_url of provider '{name}' carries credentials (value not shown)",
                "secret-in-config",
                hint="remove them from the URL; use api_key_env or headers with {env: NAME}",
            )
        elif any(_SECRET_NAME.search(k.lower()) for k, _ in parse_qsl(parts.query)):
            yield ctx.doc.diagnostic(
                path,
                f"base_url of provider '{name}' carries a credential in its query string "
                "(value not shown)",
                "secret-in-config",
                hint="remove it from the URL; use api_key_env or headers with {env: NAME}",
            )
        kind = _host_kind(host)
        if kind and not local:
            yield ctx.doc.diagnostic(
                path,
                f"base_url of provider '{name}' points at {kind}",
                "unsafe-base-url",
                hint="if this is on purpose (Ollama, vLLM, a sandbox), "
                "add `local: true` to the provider",
            )
        elif not kind and parts.scheme == "http":
            yield ctx.doc.diagnostic(
                path,
                f"base_url of provider '{name}' is plain http to a public host: "
                "the API key travels unencrypted",
                "insecure-base-url",
                severity="warning",
                hint="use https",
            )


# Prefixes of common API keys and tokens (OpenAI/Stripe sk_, Hugging Face hf_, GitHub ghp_...,
# GitLab glpat-, Slack xox?-, Google AIza).
_KEY_PREFIX = re.compile(r"^(?:(?:sk|pk|rk|hf|gh[pousr]|github_pat|glpat|xox[abeprs])[_-]|AIza)")


def _prefixed_key(value: str) -> bool:
    """A long value with digits that starts the way common API keys do."""
    return len(value) >= 20 and any(c.isdigit() for c in value) and bool(_KEY_PREFIX.match(value))


def _random_run(run: str) -> bool:
    """Letters of both cases and digits, mixed the way random keys are and names are not
    (``EastUS2Deployment01`` changes character class 6 times in 19; a key about every other
    character)."""
    if len(run) < 20 or not run.isalnum():
        return False
    classes = ["d" if c.isdigit() else "u" if c.isupper() else "l" for c in run]
    changes = sum(a != b for a, b in pairwise(classes))
    return {"d", "u", "l"} <= set(classes) and changes >= len(run) / 3


def _looks_like_key(value: str) -> bool:
    """A key pasted where a variable NAME belongs."""
    return _prefixed_key(value) or any(_random_run(run) for run in value.split("_"))


def _env_check(ctx: Context, path: PathT, var: str, what: str) -> Iterator[Diagnostic]:
    # A malformed name may be a pasted key: the schema reports it without showing it.
    if not _ENV_NAME.match(var):
        return
    if _looks_like_key(var):
        yield ctx.doc.diagnostic(
            path,
            f"{where(path, ctx.data)} looks like a key itself, not the name of an environment "
            "variable (value not shown)",
            "secret-in-config",
            hint="put the key in an environment variable and write the variable's NAME here",
        )
        return
    if not ctx.environ.get(var):
        yield ctx.doc.diagnostic(
            path,
            f"environment variable {var} ({what}) is not set",
            "env-unset",
            severity="warning",
            hint=f"export {var}=... before starting the router",
        )


def header_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as an HTTP header value, or None when it can.

    A header value is one line of visible ASCII, with single spaces or tabs inside (RFC 9110
    field-value; h11 refuses leading and trailing whitespace, httpx2 encodes values as ASCII).
    A CR or LF would let the value start a new header or end the request head. The reason
    never repeats the value, which is often a credential."""
    for char in value:
        if char in "\r\n":
            return "contains a line break (CR or LF)"
        if char == "\0":
            return "contains a NUL character"
        if (char < " " and char != "\t") or char == "\x7f":
            return f"contains the control character U+{ord(char):04X}"
    if not value.isascii():
        return "contains characters outside ASCII, which HTTP headers cannot carry"
    if value != value.strip(" \t"):
        return "starts or ends with a space or tab"
    return None


def check_environment(ctx: Context) -> Iterator[Diagnostic]:
    """Names the variables that are unset; never reads a value into a message."""
    for name, provider in ctx.entries("providers"):
        var = provider.get("api_key_env")
        if isinstance(var, str):
            kpath: PathT = ("providers", name, "api_key_env")
            yield from _env_check(ctx, kpath, var, f"the API key of provider '{name}'")
            yield from _env_value_check(ctx, kpath, var, f"the API key of provider '{name}'")
        headers = provider.get("headers")
        for header, value in headers.items() if isinstance(headers, dict) else []:
            hpath: PathT = ("providers", name, "headers", header)
            what = f"header {header} of provider '{name}'"
            if isinstance(value, dict) and isinstance(value.get("env"), str):
                yield from _env_check(ctx, (*hpath, "env"), value["env"], what)
                yield from _env_value_check(ctx, (*hpath, "env"), value["env"], what)
            elif isinstance(value, str) and (problem := header_value_problem(value)):
                yield ctx.doc.diagnostic(
                    hpath,
                    f"{what} {problem} (value not shown)",
                    "invalid-header",
                    hint=_HEADER_HINT,
                )
            elif isinstance(value, str) and _secret_header(header, value):
                yield ctx.doc.diagnostic(
                    hpath,
                    f"{what} holds a literal secret (value not shown)",
                    "secret-in-config",
                    hint="read it from the environment: {env: NAME}",
                )
    state = ctx.section("state")
    if state.get("backend") == "redis" and isinstance(state.get("url_env"), str):
        yield from _env_check(ctx, ("state", "url_env"), state["url_env"], "the Redis URL")


_HEADER_HINT = (
    "a header value is one line of visible ASCII: no CR, LF, NUL or other control character, "
    "no space at either end"
)


def _env_value_problem(var: str, what: str, environ: Mapping[str, str]) -> str | None:
    """Why the value of ``var`` (set, but to something that cannot be sent in a header: a key
    read from a file often ends with a newline) is refused, or None."""
    value = environ.get(var) if _ENV_NAME.match(var) else None
    problem = header_value_problem(value) if value else None
    return f"environment variable {var} ({what}) {problem} (value not shown)" if problem else None


def _env_value_check(ctx: Context, path: PathT, var: str, what: str) -> Iterator[Diagnostic]:
    message = _env_value_problem(var, what, ctx.environ)
    if message:
        yield ctx.doc.diagnostic(path, message, "invalid-header", hint=_env_hint(var))


def _env_hint(var: str) -> str:
    return f"it is sent as an HTTP header: fix the value of {var}"


def environment_errors(spec: Spec, environ: Mapping[str, str]) -> list[Diagnostic]:
    """The same checks on the values a built spec reads from ``environ`` (a Router may be built
    with another environment than the one its spec was validated in): every key and header
    value that cannot be sent as an HTTP header, located by JSON path."""
    found: list[Diagnostic] = []
    for name, provider in spec.providers.items():
        sources: list[tuple[PathT, str, str]] = []
        if provider.api_key_env:
            sources.append(
                (("providers", name, "api_key_env"), provider.api_key_env, "the API key")
            )
        sources += [
            (("providers", name, "headers", header, "env"), ref.name, f"header {header}")
            for header, ref in provider.headers.items()
            if isinstance(ref, EnvRef)
        ]
        for path, var, what in sources:
            message = _env_value_problem(var, f"{what} of provider '{name}'", environ)
            if message:
                found.append(
                    Diagnostic(
                        message,
                        code="invalid-header",
                        path=json_path(path),
                        file=spec.source,
                        hint=_env_hint(var),
                    )
                )
    return found
