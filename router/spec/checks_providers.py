"""Semantic checks on providers: where their base URLs point, and what they read from the
environment (key variables, header values). Nothing here ever puts a value read from the
environment, or a string that may be a secret, into a message.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import unicodedata
from collections.abc import Iterator, Mapping
from itertools import pairwise
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urlsplit

from router.diagnostics import Diagnostic
from router.spec.schema import where
from router.spec.yamlload import PathT, json_path
from router.specmodel import EnvRef, Spec

if TYPE_CHECKING:
    from router.spec.checks import Context


# --- providers: URLs, keys, headers -----------------------------------------------------------

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
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


# --- hosts: every way a client may read the host of a base_url -------------------------------
#
# A host is refused when ANY reading of it is this machine or a private network: the one the
# SDK makes (httpx2: lower case, IDNA 2008, the name handed to the resolver as written, which
# reads 2130706433, 0x7f.1 and 127.1 as IPv4), and those other clients and resolvers make
# (WHATWG/requests: percent-decoding, UTS 46 mapping (NFKC, case folding, full-width dots,
# invisible characters dropped), a trailing dot ignored). No DNS lookups: a public name whose
# DNS answer is private (wildcard DNS, rebinding) is out of reach of a static check.

_LOCAL_NAMES = frozenset(
    {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "broadcasthost"}
)
_PRIVATE_SUFFIXES = (
    ".localhost",
    ".localdomain",
    ".local",
    ".internal",
    ".intranet",
    ".lan",
    ".home",
    ".corp",
    ".home.arpa",
)
# Link-local and private addresses where cloud instance metadata (and its credentials) live:
# AWS (IPv4, IPv6, ECS task metadata), GCP, Azure, OpenStack (169.254.169.254); Alibaba.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200")
)
_METADATA_KIND = "a cloud metadata service (instance credentials live there)"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IPv4 in the shorthand, decimal, octal or hex forms (127.1, 2130706433, 0x7f000001) that
# ipaddress refuses but the resolver (inet_aton) accepts.
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}$")
# Dots that IDNA (UTS 46) and browsers read as "." between labels.
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(host: str) -> IPAddress | None:
    """The address ``host`` is, read as the resolver would (IPv4 shorthand included)."""
    try:
        # An IPv6 zone id (fe80::1%eth0) does not change where the address is.
        return ipaddress.ip_address(host.partition("%")[0] if ":" in host else host)
    except ValueError:
        if not _NUMERIC_HOST.match(host):
            return None
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and is routed to: mapped (::ffff:a.b.c.d),
    6to4, Teredo, NAT64 (64:ff9b::a.b.c.d) and the old IPv4-compatible form (::a.b.c.d)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _ip_kind(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and (v4 := _embedded_v4(ip)) is not None:
        return _ip_kind(v4)
    if ip in _METADATA:
        return _METADATA_KIND
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if ip.is_unspecified:
        return "an unspecified address (this machine)"
    if ip.is_private or ip.is_reserved or ip.is_multicast or not ip.is_global:
        return "a private address"
    return None


def _host_kind(host: str) -> str | None:
    """Why ``host`` (lower case, ASCII, no trailing dot) is not a public internet host, or None
    when it is."""
    if host in _LOCAL_NAMES or host.endswith(_PRIVATE_SUFFIXES):
        return "this machine or a private network"
    ip = _ip(host)
    if ip is not None:
        return _ip_kind(ip)
    if "." not in host and host.isascii():
        return "a single-label name, which resolves only on a local network"
    return None


def _readings(host: str) -> list[str]:
    """Every way clients read ``host`` (as urlsplit gives it: unbracketed, lower case), each
    lower case, ASCII where it can be, without trailing dots; the SDK's own reading first."""
    decoded = unquote(host)
    mapped = unicodedata.normalize("NFKC", decoded).translate(_DOTS).casefold()
    found = [host, decoded, mapped]
    if not mapped.isascii():
        import idna  # a dependency of httpx2, which the SDKs use for HTTP

        for text in (decoded, mapped):
            with contextlib.suppress(idna.IDNAError, UnicodeError):
                found.append(idna.encode(text, uts46=True).decode("ascii"))
    return list(dict.fromkeys(h.rstrip(".") for h in found))


def _sdk_problem(host: str) -> str | None:
    """Why the SDK's HTTP client (httpx2) would refuse ``host``, or None: so that what is
    validated is what is sent, a host the client reads differently from other clients, or
    cannot read at all, is refused here rather than at the first call."""
    if "%" in host and ":" not in host:  # in an IPv6 literal, % starts the zone id
        return "is percent-encoded, which clients decode differently"
    if re.fullmatch(r"[0-9]+(?:\.[0-9]+){3}", host) and any(
        len(part) > 1 and part.startswith("0") for part in host.split(".")
    ):
        return "is an IPv4 address with leading zeros, which clients read as octal or decimal"
    if not host.isascii():
        import idna

        try:
            idna.encode(host)
        except (idna.IDNAError, UnicodeError):
            return "is not a valid internationalised domain name (IDNA 2008)"
    return None


def host_risk(host: str) -> tuple[str | None, str | None, str]:
    """For the host of a base_url (as urlsplit gives it): why it is not a public internet host
    under some reading (or None), why the SDK could not use it (or None), and the reading
    that was refused (the host itself when none was)."""
    problem = _sdk_problem(host)
    found: list[tuple[str, str]] = []
    for reading in _readings(host):
        kind, seen = _host_kind(reading), reading
        if kind is None and re.fullmatch(r"[0-9]+(?:\.[0-9]+){3}", reading):
            # Leading zeros: the resolver reads 0127.0.0.1 as octal, others as decimal.
            seen = ".".join(str(int(part)) for part in reading.split("."))
            kind = _host_kind(seen)
        if kind:
            ip = _ip(seen)
            found.append((kind, seen if ip is None else str(ip)))
    # A specific reading (an address, localhost) says more than "a single-label name".
    found.sort(key=lambda f: f[0].startswith("a single-label"))
    if found:
        return found[0][0], problem, found[0][1]
    return None, problem, host


def _url_problem(url: str) -> str | None:
    """What makes ``url`` read differently by different clients (so that the host we check
    might not be the one the SDK connects to), or None."""
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        # urlsplit drops tabs and line breaks silently; httpx2 refuses them.
        return "contains whitespace or a control character"
    if "\\" in re.split(r"[?#]", url, maxsplit=1)[0]:
        # WHATWG clients read a backslash as "/": one URL, two hosts.
        return "contains a backslash, which some clients read as '/'"
    return None


def check_base_urls(ctx: Context) -> Iterator[Diagnostic]:
    for name, provider in ctx.entries("providers"):
        url = provider.get("base_url")
        if not isinstance(url, str):
            continue
        path: PathT = ("providers", name, "base_url")
        local = provider.get("local") is True
        what = f"base_url of provider '{name}'"
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            yield ctx.doc.diagnostic(path, f"{what} is not a valid URL", "invalid-url")
            continue
        if problem := _url_problem(url):
            yield ctx.doc.diagnostic(
                path, f"{what} {problem}", "invalid-url", hint="write a plain https://host/path"
            )
            continue
        if parts.scheme not in ("http", "https"):
            yield ctx.doc.diagnostic(
                path,
                f"{what} uses the scheme "
                f"'{parts.scheme or '(none)'}'; only http and https are allowed",
                "unsafe-base-url",
                hint="write it as https://host/path",
            )
            continue
        if not host:
            yield ctx.doc.diagnostic(path, f"{what} has no host", "invalid-url")
            continue
        if parts.username or parts.password:
            yield ctx.doc.diagnostic(
                path,
                f"{what} carries credentials (value not shown)",
                "secret-in-config",
                hint="remove them from the URL; use api_key_env or headers with {env: NAME}",
            )
        elif any(_SECRET_NAME.search(k.lower()) for k, _ in parse_qsl(parts.query)):
            yield ctx.doc.diagnostic(
                path,
                f"{what} carries a credential in its query string (value not shown)",
                "secret-in-config",
                hint="remove it from the URL; use api_key_env or headers with {env: NAME}",
            )
        kind, unusable, reading = host_risk(host)
        if kind == _METADATA_KIND:  # never on purpose, local or not
            yield ctx.doc.diagnostic(
                path,
                f"{what} points at {kind}",
                "unsafe-base-url",
                hint="no model is served there; `local: true` does not allow it",
            )
        elif kind and not local:
            read_as = f" (its host {host} reads as {reading})" if reading != host else ""
            yield ctx.doc.diagnostic(
                path,
                f"{what} points at {kind}{read_as}",
                "unsafe-base-url",
                hint="if this is on purpose (Ollama, vLLM, a sandbox), "
                "add `local: true` to the provider",
            )
        elif unusable:
            yield ctx.doc.diagnostic(
                path,
                f"{what}: the host {unusable}",
                "invalid-url",
                hint="write the host in plain ASCII (punycode xn--... for an international name)",
            )
        elif not kind and parts.scheme == "http":
            yield ctx.doc.diagnostic(
                path,
                f"{what} is plain http to a public host: the API key travels unencrypted",
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


# Headers that frame the HTTP message or the connection: the HTTP client sets them for each
# request from base_url and the body; a value from the spec could corrupt the request or
# smuggle a second one. Proxy-* headers are for a proxy (HTTPS_PROXY), not the provider.
_FRAMING_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "trailer",
        "keep-alive",
        "expect",
    }
)
# Headers that carry the key: with api_key_env, the adapter sends the key itself.
_KEY_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})


def _reserved_header(header: str, provider: Mapping[str, object]) -> tuple[str, str] | None:
    """Why the spec may not set ``header`` for ``provider`` (message tail, hint), or None."""
    name = header.lower()
    if name == "host":
        return "is derived from base_url for each request", "set base_url instead"
    if name in _FRAMING_HEADERS:
        return (
            "frames the HTTP request, which the HTTP client does for each request (a value "
            "from the spec could corrupt it or smuggle a second request)",
            "remove it",
        )
    if name.startswith("proxy-"):
        return (
            "is meant for a proxy, but would be sent to the provider",
            "configure a proxy with HTTPS_PROXY (its credentials in the proxy URL)",
        )
    if name in _KEY_HEADERS and isinstance(provider.get("api_key_env"), str):
        hint = (
            "remove api_key_env to authenticate with this header alone ({env: NAME})"
            if provider.get("type") == "openai_compatible"
            else "remove it: the key from api_key_env is what authenticates"
        )
        return (
            "carries a key, but the adapter already sends the key from api_key_env (with "
            "both, the request holds two keys and which one counts is up to the server)",
            hint,
        )
    return None


def check_header_names(ctx: Context) -> Iterator[Diagnostic]:
    """Headers the spec may not set: those that frame the request, Proxy-*, and a second key
    beside api_key_env."""
    for name, provider in ctx.entries("providers"):
        headers = provider.get("headers")
        for header in headers if isinstance(headers, dict) else []:
            reserved = _reserved_header(header, provider) if isinstance(header, str) else None
            if reserved is not None:
                why, hint = reserved
                yield ctx.doc.diagnostic(
                    ("providers", name, "headers", header),
                    f"header {header} of provider '{name}' {why}",
                    "reserved-header",
                    hint=hint,
                )


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
