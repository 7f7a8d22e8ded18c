"""The unsafe-base_url check reads a host every way a client may: as the SDK's HTTP client does
(httpx2: lower case, IDNA 2008, the name handed to the resolver as written) and as other clients
and resolvers do (inet_aton's IPv4 shorthands, percent-decoding, UTS 46 / NFKC mapping of
full-width and circled characters and ideographic dots, a trailing dot ignored). A host that is
this machine or a private network under any reading is refused unless the provider says
``local: true``; the cloud metadata service is refused even then. No DNS lookups."""

from __future__ import annotations

import json

import httpx2
import pytest

from router.spec import validate_bytes
from router.spec.hosts import _readings

LOOPBACK = "points at a loopback address"
THIS_MACHINE = "points at this machine or a private network"
PRIVATE = "points at a private address"
LINK_LOCAL = "points at a link-local address"
METADATA = "points at a cloud metadata service"
UNSPECIFIED = "points at an unspecified address"
SINGLE_LABEL = "points at a single-label name"

# (URL, words the error must hold)
HOSTILE = [
    ("http://127.0.0.1/v1", LOOPBACK),
    ("http://１２７.０.０.１/v1", "reads as 127.0.0.1"),  # full-width digits and dots
    ("http://127。0。0。1/v1", "reads as 127.0.0.1"),  # ideographic full stops
    ("http://127．0．0．1/v1", LOOPBACK),  # full-width full stops
    ("http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ:8000/v1", "reads as localhost"),  # circled letters
    ("http://ＬＯＣＡＬＨＯＳＴ/v1", THIS_MACHINE),
    ("http://local\u200bhost/v1", "reads as localhost"),  # a zero-width space, dropped by UTS 46
    ("http://LocalHost/v1", THIS_MACHINE),
    ("http://localhost./v1", THIS_MACHINE),
    ("http://api.localhost/v1", THIS_MACHINE),
    ("http://localhost.localdomain/v1", THIS_MACHINE),
    ("http://2130706433/v1", "reads as 127.0.0.1"),  # decimal
    ("http://017700000001/v1", LOOPBACK),  # octal
    ("http://0x7f000001/v1", LOOPBACK),  # hex
    ("http://0x7f.1/v1", "reads as 127.0.0.1"),  # hex, short form
    ("http://127.1/v1", LOOPBACK),  # short form
    ("http://0177.0.0.1/v1", LOOPBACK),  # octal dotted
    ("http://0127.0.0.1/v1", "reads as 127.0.0.1"),  # octal for inet_aton, decimal for others
    ("http://%31%32%37.0.0.1/v1", "reads as 127.0.0.1"),  # percent-encoded
    ("http://[::1]:8000/v1", LOOPBACK),
    ("http://[0:0:0:0:0:0:0:1]/v1", LOOPBACK),
    ("http://[::ffff:127.0.0.1]/v1", LOOPBACK),
    ("http://[::ffff:7f00:1]/v1", LOOPBACK),
    ("http://[64:ff9b::127.0.0.1]/v1", LOOPBACK),  # NAT64
    ("http://[2002:7f00:1::]/v1", LOOPBACK),  # 6to4
    ("http://[::127.0.0.1]/v1", LOOPBACK),  # IPv4-compatible
    ("http://[fe80::1%25eth0]/v1", LINK_LOCAL),
    ("http://169.254.10.1/v1", LINK_LOCAL),
    ("http://169.254.169.254/latest/meta-data", METADATA),
    ("http://[fd00:ec2::254]/latest", METADATA),
    ("http://[::ffff:169.254.169.254]/latest", METADATA),
    ("http://metadata.google.internal/v1", THIS_MACHINE),
    ("http://metadata/computeMetadata/v1", SINGLE_LABEL),
    ("http://ollama:11434/v1", SINGLE_LABEL),
    ("http://10.1.2.3/v1", PRIVATE),
    ("http://172.16.0.9/v1", PRIVATE),
    ("http://192.168.0.10/v1", PRIVATE),
    ("http://100.64.0.7/v1", PRIVATE),  # carrier-grade NAT
    ("http://[fd12:3456::1]/v1", PRIVATE),  # unique local
    ("http://0.0.0.0:8000/v1", UNSPECIFIED),
    ("http://0/v1", UNSPECIFIED),
    ("https://api.openai.com@127.0.0.1/v1", LOOPBACK),  # userinfo trick (also: credentials)
    ("https://a@b@127.0.0.1/v1", LOOPBACK),
]
# Refused as unreadable rather than unsafe: clients disagree about their host.
AMBIGUOUS = [
    ("http://127.0.0.1\\@api.openai.com/v1", "contains a backslash"),
    ("http://127.0.0.1%2f.example.com/v1", "the host is percent-encoded"),
    ("http://api.openai.com\t/v1", "contains whitespace or a control character"),
    ("http://api.openai.com:80:80/v1", "is not a valid URL"),
    ("https://ａｐｉ.example.com/v1", "not a valid internationalised domain name"),
]
PUBLIC = [
    "https://api.openai.com/v1",
    "https://API.OpenAI.com./v1",
    "https://api.groq.com/openai/v1",
    "https://bücher.example/v1",
    "https://xn--bcher-kva.example/v1",
    "https://8.8.8.8/v1",
    "https://[2606:4700:4700::1111]/v1",
    "https://[::ffff:8.8.8.8]/v1",
    "https://gateway.example.com:8443/v1",
]


def _spec(url: str, *, local: bool = False) -> bytes:
    flag = "\n    local: true" if local else ""
    text = f"""version: 1
providers:
  p:
    type: openai_compatible
    base_url: {json.dumps(url)}{flag}
models:
  m: {{provider: p, id: m}}
tasks:
  chat: {{candidates: [m]}}
"""
    return text.encode()


def _errors(url: str, *, local: bool = False) -> list[tuple[str, int | None, str]]:
    report = validate_bytes(_spec(url, local=local), "spec.yaml", environ={})
    return [(d.code, d.line, f"{d.message} ({d.hint})") for d in report.errors]


@pytest.mark.parametrize(("url", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_host_that_reads_as_this_machine_or_a_private_network_is_refused(
    url: str, words: str
) -> None:
    errors = [e for e in _errors(url) if e[0] != "secret-in-config"]

    assert [(code, line) for code, line, _ in errors] == [("unsafe-base-url", 5)]
    assert words in errors[0][2]


@pytest.mark.parametrize(
    ("url", "words"),
    [h for h in HOSTILE if h[1] != METADATA and "%31" not in h[0] and "0177" not in h[0]],
    ids=[h[0] for h in HOSTILE if h[1] != METADATA and "%31" not in h[0] and "0177" not in h[0]],
)
def test_local_true_allows_a_local_host_the_sdk_can_reach(url: str, words: str) -> None:
    sdk_reads_it = _httpx2_host(url) is not None

    errors = [e for e in _errors(url, local=True) if e[0] != "secret-in-config"]

    if sdk_reads_it:
        assert errors == []
    else:  # full-width or circled letters: httpx2 cannot encode them; refuse before a call
        assert [(code, line) for code, line, _ in errors] == [("invalid-url", 5)]


@pytest.mark.parametrize("url", ["http://169.254.169.254/v1", "http://[fd00:ec2::254]/v1"])
def test_local_true_does_not_allow_the_cloud_metadata_service(url: str) -> None:
    errors = _errors(url, local=True)

    assert [(code, line) for code, line, _ in errors] == [("unsafe-base-url", 5)]
    assert "`local: true` does not allow it" in errors[0][2]


@pytest.mark.parametrize(("url", "words"), AMBIGUOUS, ids=[a[0] for a in AMBIGUOUS])
def test_a_url_that_clients_read_differently_is_refused_even_when_local(
    url: str, words: str
) -> None:
    for local in (False, True):
        errors = _errors(url, local=local)

        assert [(code, line) for code, line, _ in errors] == [("invalid-url", 5)]
        assert words in errors[0][2]


@pytest.mark.parametrize("url", PUBLIC)
def test_a_public_host_passes_in_any_spelling(url: str) -> None:
    assert _errors(url) == []


def _httpx2_host(url: str) -> str | None:
    try:
        return httpx2.URL(url).raw_host.decode("ascii")
    except httpx2.InvalidURL:
        return None


@pytest.mark.parametrize(
    "url", [h[0] for h in HOSTILE] + [a[0] for a in AMBIGUOUS] + PUBLIC, ids=str
)
def test_the_host_checked_is_the_host_the_sdk_connects_to(url: str) -> None:
    """What passes validation is what httpx2 (the SDKs' HTTP client) sends to, and a URL
    httpx2 cannot use never passes validation, local or not."""
    from urllib.parse import urlsplit

    sdk_host = _httpx2_host(url)
    passes = not any(code == "invalid-url" for code, _, _ in _errors(url, local=True))

    if sdk_host is None:
        assert not passes
    elif passes:
        host = urlsplit(url).hostname
        assert host is not None
        assert sdk_host.rstrip(".") in _readings(host)
