"""Semantic checks on providers: where their base URLs point, the fields only some provider
types take, and the header names a spec may not set. What providers read from the environment
(key variables, header values) is checked in :mod:`router.spec.checks_environment`. Nothing
here ever puts a string that may be a secret into a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from router.diagnostics import Diagnostic
from router.providers import presets
from router.providers.registry import PROVIDER_TYPES
from router.spec.checks_environment import ENV_NAME, SECRET_NAME
from router.spec.hosts import METADATA_KIND, host_risk, url_problem
from router.spec.yamlload import PathT

if TYPE_CHECKING:
    from router.spec.checks import Context


def check_base_urls(ctx: Context) -> Iterator[Diagnostic]:
    for name, provider in ctx.entries("providers"):
        url = provider.get("base_url")
        if isinstance(url, str):
            yield from url_diagnostics(
                ctx,
                ("providers", name, "base_url"),
                url,
                provider.get("local") is True,
                f"base_url of provider '{name}'",
            )


def url_diagnostics(
    ctx: Context, path: PathT, url: str, local: bool, what: str
) -> Iterator[Diagnostic]:
    """What is wrong with the base URL ``url`` written at ``path`` (a provider's, or a
    deployment's); ``local``: the provider says private hosts are meant."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        yield ctx.doc.diagnostic(path, f"{what} is not a valid URL", "invalid-url")
        return
    if problem := url_problem(url):
        yield ctx.doc.diagnostic(
            path, f"{what} {problem}", "invalid-url", hint="write a plain https://host/path"
        )
        return
    if parts.scheme not in ("http", "https"):
        yield ctx.doc.diagnostic(
            path,
            f"{what} uses the scheme '{parts.scheme or '(none)'}'; only http and https are allowed",
            "unsafe-base-url",
            hint="write it as https://host/path",
        )
        return
    if not host:
        yield ctx.doc.diagnostic(path, f"{what} has no host", "invalid-url")
        return
    if parts.username or parts.password:
        yield ctx.doc.diagnostic(
            path,
            f"{what} carries credentials (value not shown)",
            "secret-in-config",
            hint="remove them from the URL; use api_key_env or headers with {env: NAME}",
        )
    elif any(SECRET_NAME.search(k.lower()) for k, _ in parse_qsl(parts.query)):
        yield ctx.doc.diagnostic(
            path,
            f"{what} carries a credential in its query string (value not shown)",
            "secret-in-config",
            hint="remove it from the URL; use api_key_env or headers with {env: NAME}",
        )
    kind, unusable, reading = host_risk(host)
    if kind == METADATA_KIND:  # never on purpose, local or not
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


#: Provider fields that only some types take: field → those types.
_TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    # Vertex authenticates with a token (token_env) or Google's credentials, never a key.
    "api_key_env": (
        "openai",
        "anthropic",
        "openai_compatible",
        "azure_openai",
        "anthropic_bedrock",
    ),
    "preset": ("openai_compatible",),
    "api_version": ("azure_openai",),
    "token_env": ("azure_openai", "anthropic_vertex"),
    "region": ("anthropic_bedrock", "anthropic_vertex"),
    "project": ("anthropic_vertex",),
}


def _valid_field(key: str, value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if key == "preset":
        return value in presets.PRESETS
    if key.endswith("_env"):
        return bool(ENV_NAME.match(value))
    if key == "region":
        return bool(re.fullmatch(r"[a-z0-9-]+", value))
    return True


def check_type_fields(ctx: Context) -> Iterator[Diagnostic]:
    """A field another provider type takes (``preset`` on ``openai``, ``region`` on
    ``anthropic``...): one error at the field, naming the types that take it."""
    for name, provider in ctx.entries("providers"):
        kind = provider.get("type")
        if kind not in PROVIDER_TYPES:
            continue  # the schema says the type is wrong
        for key, types in _TYPE_FIELDS.items():
            # A value the schema refuses is reported there: one error per mistake.
            if key in provider and kind not in types and _valid_field(key, provider[key]):
                names = [f"`{t}`" for t in types]
                takes = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
                hint = f"remove `{key}`, or change the type to {names[0]}"
                if key == "api_key_env":
                    hint = (
                        "Vertex takes a token: name its variable with `token_env`, or leave "
                        "both out for Application Default Credentials"
                    )
                yield ctx.doc.diagnostic(
                    ("providers", name, key),
                    f"`{key}` is for providers of type {takes}; provider '{name}' is "
                    f"`type: {kind}`",
                    "invalid-value",
                    hint=hint,
                )


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
