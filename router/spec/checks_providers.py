"""Semantic checks on providers: where their base URLs point, and what they read from the
environment (key variables, header values). Nothing here ever puts a value read from the
environment, or a string that may be a secret, into a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from itertools import pairwise
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from router.diagnostics import Diagnostic
from router.providers import presets
from router.providers.registry import PROVIDER_TYPES
from router.spec.hosts import METADATA_KIND, host_risk, url_problem
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
    elif any(_SECRET_NAME.search(k.lower()) for k, _ in parse_qsl(parts.query)):
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


def env_check(ctx: Context, path: PathT, var: str, what: str) -> Iterator[Diagnostic]:
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
        # A note, not a warning: where the spec is checked (CI, an editor) is seldom where it
        # runs. --require-env makes it an error.
        yield ctx.doc.diagnostic(
            path,
            f"environment variable {var} ({what}) is not set",
            "env-unset",
            severity="note",
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
            yield from env_check(ctx, kpath, var, f"the API key of provider '{name}'")
            yield from env_value_check(ctx, kpath, var, f"the API key of provider '{name}'")
        else:
            preset = presets.PRESETS.get(str(provider.get("preset")))
            if preset is not None and preset.api_key_env is not None:
                ppath: PathT = ("providers", name, "preset")
                what = f"the API key of provider '{name}', from preset {preset.name}"
                yield from env_check(ctx, ppath, preset.api_key_env, what)
        token = provider.get("token_env")
        if isinstance(token, str):
            tpath: PathT = ("providers", name, "token_env")
            yield from env_check(ctx, tpath, token, f"the token of provider '{name}'")
            yield from env_value_check(ctx, tpath, token, f"the token of provider '{name}'")
        yield from _cloud_environment(ctx, name, provider)
        headers = provider.get("headers")
        for header, value in headers.items() if isinstance(headers, dict) else []:
            hpath: PathT = ("providers", name, "headers", header)
            what = f"header {header} of provider '{name}'"
            if isinstance(value, dict) and isinstance(value.get("env"), str):
                yield from env_check(ctx, (*hpath, "env"), value["env"], what)
                yield from env_value_check(ctx, (*hpath, "env"), value["env"], what)
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
        yield from env_check(ctx, ("state", "url_env"), state["url_env"], "the Redis URL")


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
        return bool(_ENV_NAME.match(value))
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


#: What a cloud provider without ``region:``/``project:`` reads from the environment.
_CLOUD_ENV: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "anthropic_bedrock": (("region", ("AWS_REGION", "AWS_DEFAULT_REGION")),),
    "anthropic_vertex": (
        ("region", ("CLOUD_ML_REGION",)),
        ("project", ("ANTHROPIC_VERTEX_PROJECT_ID", "GOOGLE_CLOUD_PROJECT")),
    ),
}


def _cloud_environment(
    ctx: Context, name: str, provider: Mapping[str, object]
) -> Iterator[Diagnostic]:
    """A note for a region or project the spec leaves to an environment that has none."""
    for key, names in _CLOUD_ENV.get(str(provider.get("type")), ()):
        if provider.get(key) is None and not any(ctx.environ.get(n) for n in names):
            yield ctx.doc.diagnostic(
                ("providers", name, "type"),
                f"provider '{name}' sets no {key} and {' / '.join(names)} is not set",
                "env-unset",
                severity="note",
                hint=f"add `{key}:` to the provider, or export {names[0]}=...",
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


def env_value_check(ctx: Context, path: PathT, var: str, what: str) -> Iterator[Diagnostic]:
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
    for model in spec.models.values():
        for d in model.deployments:
            if d.api_key_env and (
                message := _env_value_problem(
                    d.api_key_env, f"the API key of deployment '{d.name}'", environ
                )
            ):
                found.append(
                    Diagnostic(
                        message,
                        code="invalid-header",
                        path=json_path(("models", model.name, "deployments")),
                        file=spec.source,
                        hint=_env_hint(d.api_key_env),
                    )
                )
    return found
