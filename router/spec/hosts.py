"""Where a provider's ``base_url`` points, read every way a client may read its host (IDNA,
NFKC, numeric and embedded IPv4 forms, trailing dots): what :func:`host_risk` finds is what
``router validate`` warns about (private networks, cloud metadata services, hosts the SDK would
read differently)."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    pass


# Every way a client may read the host of a base_url -------------------------------
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
METADATA_KIND = "a cloud metadata service (instance credentials live there)"
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
        return METADATA_KIND
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


def url_problem(url: str) -> str | None:
    """What makes ``url`` read differently by different clients (so that the host we check
    might not be the one the SDK connects to), or None."""
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        # urlsplit drops tabs and line breaks silently; httpx2 refuses them.
        return "contains whitespace or a control character"
    if "\\" in re.split(r"[?#]", url, maxsplit=1)[0]:
        # WHATWG clients read a backslash as "/": one URL, two hosts.
        return "contains a backslash, which some clients read as '/'"
    return None
