"""Redaction of secret values inside text: what every error message passes through before it is
raised, so that no key, token or password reaches an exception, a traceback or a log.

Values are redacted, never the words around them: "missing x-api-key header" is left as it is,
while "x-api-key: k9Zq81" becomes "x-api-key: ***". What counts as a value:

- a known secret (an API key, a credential header's value, a Redis URL read from the
  environment): the whole of it, any 8-character slice of it (providers echo fragments:
  ``sk-proj-****abcd1234``) or its SHA-256 in hex;
- anything shaped like a key, known or not: ``sk-…`` (``sk-ant-…``, ``sk-proj-…``, and masked
  echoes such as ``sk-abc12****wxyz``), Google's ``AIza…``, JSON Web Tokens (``eyJ….….…``);
- the credentials of an auth scheme (``Bearer …``, ``Basic …``) and the value after a credential
  name and ``:`` or ``=`` (``x-api-key: …``, ``api_key=…``, ``password=…``), when they look like a
  value (letters and digits mixed, or 16 characters and more), not like a word or a number;
- the value of a query parameter named like a credential (``?key=…``, ``&access_token=…``);
- the password in a URL (``redis://:pass@host`` becomes ``redis://:***@host``).

Each is replaced by ``***``. Pure and dependency-free: the provider adapters, the state
backends and telemetry all use it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "MASK",
    "SLICE",
    "Secrets",
    "credential_header",
    "credential_value",
    "describe",
    "redact",
    "url_secrets",
]

MASK = "***"
SLICE = 8  # the shortest fragment of a secret that counts as leaking it
_MIN_WHOLE = 4  # a known secret shorter than this is not looked for (it would eat words)

# Shaped like a key. An ``sk-`` token counts only with a digit or a mask star in it, so that
# words such as "sk-learn-compatible" stay.
_KEY_SHAPED = re.compile(
    r"(?<![\w-])(?:"
    r"sk-[A-Za-z0-9_*-]{10,}"
    r"|AIza[0-9A-Za-z_-]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
    r")"
)
_SCHEME = re.compile(r"(?i)\b(bearer|basic)([ \t]+)([A-Za-z0-9\-._~+/*]+=*)")
_CREDENTIAL_NAME = (
    r"(?:x-)?(?:api[-_]?key|auth[-_]?token|access[-_]?token|refresh[-_]?token|id[-_]?token"
    r"|client[-_]?secret|secret[-_]?key|secret|password|passwd|pwd|token"
    r"|authorization|proxy-authorization|cookie|set-cookie|x-auth-token|x-goog-api-key)"
)
_NAMED = re.compile(
    r"(?i)(?<![\w-])(" + _CREDENTIAL_NAME + r")"
    r"([\"']?[ \t]*[:=][ \t]*[\"']?)"
    r"([^\s\"',;&]+)"
)
_QUERY = re.compile(
    r"(?i)([?&;](?:key|sig|signature|[\w.-]*(?:key|token|secret|password|passwd|auth"
    r"|credential)[\w.-]*)=)([^&\s#\"']+)"
)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@:]*:)([^\s/?#@]+)(@)")
_CREDENTIAL_HEADER = re.compile(
    r"(?i)^(?:" + _CREDENTIAL_NAME + r"|.*(?:key|token|secret|auth|password|signature).*)$"
)


def _value_like(token: str) -> bool:
    """Whether ``token`` reads as a credential rather than a word or a number: letters and
    digits mixed, a mask star, or 16 characters and more."""
    if len(token) >= 16 or "*" in token:
        return True
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def credential_header(name: str) -> bool:
    """Whether a header of this name carries a credential (its value is then a secret)."""
    return bool(_CREDENTIAL_HEADER.match(name.strip()))


def credential_value(name: str, value: str) -> str | None:
    """The secret in a header: its value (without an auth scheme such as ``Bearer``) when the
    header carries a credential, else None."""
    if not credential_header(name):
        return None
    scheme, _, rest = value.strip().partition(" ")
    return rest.strip() if rest and scheme.lower() in ("bearer", "basic", "token") else value


def url_secrets(url: str) -> list[str]:
    """The secrets in a URL (``redis://user:password@host/0?password=…``): its password, and
    the values of query parameters named like credentials; the host, port and path are not
    secrets (treating the whole URL as one would redact every mention of its host)."""
    try:
        parts = urlsplit(url)
        password = parts.password or ""
    except ValueError:  # unparseable: all of it, then
        return [url]
    found = [password, unquote(password)]  # as written, and as the client sends it
    found += [v for k, v in parse_qsl(parts.query) if credential_header(k)]
    return list(dict.fromkeys(s for s in found if s))


class Secrets:
    """A set of known secret values, kept as what finds them in text (8-character slices,
    whole short values, SHA-256 digests), never shown by ``repr``. Immutable: :meth:`union`
    makes a new one."""

    __slots__ = ("_grams", "_whole")

    def __init__(self, values: Iterable[str] = ()) -> None:
        grams: set[str] = set()
        whole: set[str] = set()
        for value in values:
            if not isinstance(value, str) or not value:
                continue
            digest = hashlib.sha256(value.encode()).hexdigest()
            whole.update((digest, digest.upper()))
            if len(value) < SLICE:
                whole.add(value)
            else:
                grams.update(value[i : i + SLICE] for i in range(len(value) - SLICE + 1))
        self._grams: frozenset[str] = frozenset(grams)
        self._whole: tuple[str, ...] = tuple(sorted(whole, key=len, reverse=True))

    def union(self, values: Iterable[str]) -> Secrets:
        other = values if isinstance(values, Secrets) else Secrets(values)
        merged = Secrets()
        merged._grams = self._grams | other._grams
        merged._whole = tuple(sorted({*self._whole, *other._whole}, key=len, reverse=True))
        return merged

    def __bool__(self) -> bool:
        return bool(self._grams or self._whole)

    def __repr__(self) -> str:
        return "Secrets(<hidden>)"

    def leaks(self, text: str) -> bool:
        """True when ``text`` holds a secret, an 8-character slice of one, or a SHA-256."""
        grams = self._grams
        if grams and len(text) >= SLICE:
            for i in range(len(text) - SLICE + 1):
                if text[i : i + SLICE] in grams:
                    return True
        return any(w in text for w in self._whole)

    def mask(self, text: str) -> str:
        """``text`` with every stretch made of a secret's slices (and every whole short secret
        or digest) replaced by ``***``; the rest of the text is kept."""
        covered = [False] * len(text)
        grams = self._grams
        if grams:
            for i in range(len(text) - SLICE + 1):
                if text[i : i + SLICE] in grams:
                    covered[i : i + SLICE] = [True] * SLICE
        for value in self._whole:
            if len(value) < _MIN_WHOLE:
                continue
            start = text.find(value)
            while start >= 0:
                covered[start : start + len(value)] = [True] * len(value)
                start = text.find(value, start + 1)
        if not any(covered):
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            if covered[i]:
                while i < len(text) and covered[i]:
                    i += 1
                out.append(MASK)
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


def _named(match: re.Match[str]) -> str:
    name, sep, value = match.groups()
    # "Authorization: Bearer …": the scheme stays, its credentials are _SCHEME's.
    if value.lower() in ("bearer", "basic") or not _value_like(value):
        return match.group(0)
    return f"{name}{sep}{MASK}"


def _scheme(match: re.Match[str]) -> str:
    scheme, space, value = match.groups()
    if scheme.lower() == "basic" and (scheme != "Basic" or len(value) < 8):
        return match.group(0)  # "basic" is a common word; Basic credentials are base64
    return f"{scheme}{space}{MASK}" if _value_like(value) else match.group(0)


def _key_shaped(match: re.Match[str]) -> str:
    token = match.group(0)
    if token.startswith("sk-") and not any(c.isdigit() or c == "*" for c in token):
        return token
    return MASK


def redact(text: str, secrets: Secrets | Iterable[str] | str | None = None) -> str:
    """``text`` with every secret value in it replaced by ``***`` (see the module docstring);
    ``secrets`` are the known ones (a :class:`Secrets`, or plain values)."""
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\1{MASK}\3", text)
    if "=" in text:
        text = _QUERY.sub(rf"\1{MASK}", text)
    text = _KEY_SHAPED.sub(_key_shaped, text)
    text = _SCHEME.sub(_scheme, text)
    text = _NAMED.sub(_named, text)
    if secrets:
        known = secrets if isinstance(secrets, Secrets) else Secrets(_values(secrets))
        text = known.mask(text)
    return text


def _values(secrets: Iterable[str] | str) -> Iterable[str]:
    return (secrets,) if isinstance(secrets, str) else secrets


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception (just ``Type`` when it has no message), redacted."""
    text = str(exc)
    return redact(f"{type(exc).__name__}: {text}") if text else type(exc).__name__
