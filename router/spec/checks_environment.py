"""Semantic checks on what providers read from the environment: the names of their key and
token variables (unset, or a key pasted where a NAME belongs), header values (literal secrets,
values HTTP cannot carry), a cloud provider's region and project; and the same checks on the
values a built spec reads from the environment it runs in (:func:`environment_errors`).
Nothing here ever puts a value read from the environment, or a string that may be a secret,
into a message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from itertools import pairwise
from typing import TYPE_CHECKING

from router.diagnostics import Diagnostic
from router.providers import presets
from router.spec.schema import where
from router.spec.yamlload import PathT, json_path
from router.specmodel import EnvRef, Spec

if TYPE_CHECKING:
    from router.spec.checks import Context

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "x-auth-token"}
)
# Header and query parameter names that carry credentials: X-Goog-Api-Key,
# Ocp-Apim-Subscription-Key, access_token, ?key=...
SECRET_NAME = re.compile(
    r"(?:^|[-_])(?:api[-_]?)?(?:key|token|secret|password|passwd|auth|signature|sig)$"
)


def _secret_header(header: str, value: str) -> bool:
    name = header.lower()
    return (
        name in _SECRET_HEADERS
        or bool(SECRET_NAME.search(name))
        or any(_prefixed_key(word) for word in value.split())
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
    if not ENV_NAME.match(var):
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


_HEADER_HINT = (
    "a header value is one line of visible ASCII: no CR, LF, NUL or other control character, "
    "no space at either end"
)


def _env_value_problem(var: str, what: str, environ: Mapping[str, str]) -> str | None:
    """Why the value of ``var`` (set, but to something that cannot be sent in a header: a key
    read from a file often ends with a newline) is refused, or None."""
    value = environ.get(var) if ENV_NAME.match(var) else None
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
