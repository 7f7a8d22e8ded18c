"""Semantic checks on deployments: where each model is served (``deployments``, or the short
forms ``api_key_envs`` and ``base_urls``).

- one form per model; every deployment names a known provider and an id (its own, or the
  model's), did-you-mean for a misspelt provider;
- no two deployments with the same name, nor two that reach the same endpoint with the same
  key and id (give one a higher weight instead);
- weights: at least one above 0;
- each deployment's own key variable and base URL pass the checks a provider's do;
- ``timeouts.total`` on a provider or a deployment is a warning: the deadline belongs to the
  whole request (a task or ``defaults``), so there it would have no effect.
"""

from __future__ import annotations

from collections.abc import Iterator
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

from router.diagnostics import Diagnostic
from router.spec.build import deployment_entries, deployment_names
from router.spec.checks_environment import env_check, env_value_check
from router.spec.checks_providers import url_diagnostics
from router.spec.yamlload import PathT

if TYPE_CHECKING:
    from router.spec.checks import Context

_FORMS = ("deployments", "api_key_envs", "base_urls")


def _entry_path(model: str, form: str, i: int, key: str | None = None) -> PathT:
    """Where deployment ``i`` (or its ``key``) was written."""
    if form == "deployments":
        return ("models", model, form, i) + ((key,) if key else ())
    return ("models", model, form, i)


def _provider_hint(name: str, providers: dict[str, Any]) -> str:
    close = get_close_matches(name, list(providers), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if providers:
        return f"defined providers: {', '.join(sorted(providers)[:12])}"
    return "no providers are defined"


_TOTAL_HINT = (
    "a request's deadline spans every model and deployment it tries: set `timeouts.total` on "
    "the task or in `defaults`; here set `request` (one attempt) or `connect`"
)


def _total_ignored(ctx: Context, path: PathT, timeouts: Any, what: str) -> Iterator[Diagnostic]:
    if isinstance(timeouts, dict) and "total" in timeouts:
        yield ctx.doc.diagnostic(
            (*path, "total"),
            f"timeouts.total on {what} has no effect",
            "timeout-total-ignored",
            severity="warning",
            hint=_TOTAL_HINT,
            key=True,
        )


def check_deployments(ctx: Context) -> Iterator[Diagnostic]:
    providers = ctx.section("providers")
    for pname, provider in ctx.entries("providers"):
        yield from _total_ignored(
            ctx, ("providers", pname, "timeouts"), provider.get("timeouts"), f"provider '{pname}'"
        )
    for name, model in ctx.entries("models"):
        forms = [f for f in _FORMS if f in model]
        if len(forms) > 1:
            yield ctx.doc.diagnostic(
                ("models", name, forms[1]),
                f"model '{name}' lists its deployments twice ({' and '.join(forms)})",
                "deployment-forms",
                hint="keep one: `deployments` can say everything the short forms say",
            )
            continue
        if not forms:
            continue
        yield from _check_model(ctx, name, model, forms[0], providers)


def _check_model(
    ctx: Context, name: str, model: dict[str, Any], form: str, providers: dict[str, Any]
) -> Iterator[Diagnostic]:
    entries = deployment_entries(model)
    names = deployment_names(model)
    seen_names: dict[str, int] = {}
    seen_places: dict[tuple[Any, ...], int] = {}
    for i, (entry, dname) in enumerate(zip(entries, names, strict=True)):
        provider = entry.get("provider", model.get("provider"))
        if provider is None:
            yield ctx.doc.diagnostic(
                _entry_path(name, form, i),
                f"deployment '{dname}' of model '{name}' names no provider",
                "missing-provider",
                hint="give the deployment `provider: NAME`, or the model a `provider`",
            )
        elif isinstance(provider, str) and provider not in providers:
            where = "provider" if "provider" in entry else None
            yield ctx.doc.diagnostic(
                _entry_path(name, form, i, where) if where else ("models", name, "provider"),
                f"deployment '{dname}' of model '{name}' refers to unknown provider '{provider}'",
                "unknown-provider",
                hint=_provider_hint(provider, providers),
            )
        if entry.get("id", model.get("id")) is None:
            yield ctx.doc.diagnostic(
                _entry_path(name, form, i),
                f"deployment '{dname}' of model '{name}' has no model id",
                "missing-id",
                hint="give the deployment `id: ...`, or the model an `id`",
            )
        if dname in seen_names:
            yield ctx.doc.diagnostic(
                _entry_path(name, form, i, "name" if "name" in entry else None),
                f"model '{name}' has two deployments named '{dname}' "
                f"(#{seen_names[dname] + 1} and #{i + 1})",
                "duplicate-deployment",
                hint="give each deployment its own `name`",
            )
        else:
            seen_names[dname] = i
        place = (
            provider,
            entry.get("id", model.get("id")),
            entry.get("api_key_env"),
            entry.get("base_url"),
        )
        if all(isinstance(p, str) or p is None for p in place):
            if place in seen_places:
                yield ctx.doc.diagnostic(
                    _entry_path(name, form, i),
                    f"deployments #{seen_places[place] + 1} and #{i + 1} of model '{name}' reach "
                    "the same endpoint with the same key and model id",
                    "duplicate-deployment",
                    hint="remove one, or give the other a higher `weight`",
                )
            else:
                seen_places[place] = i
        if form == "deployments":
            yield from _total_ignored(
                ctx,
                _entry_path(name, form, i, "timeouts"),
                entry.get("timeouts"),
                f"deployment '{dname}' of model '{name}'",
            )
        reached = providers.get(provider) if isinstance(provider, str) else None
        yield from _check_environment(ctx, name, form, i, dname, entry, reached)
    weights = [e.get("weight", 1) for e in entries]
    if weights and all(isinstance(w, (int, float)) and w == 0 for w in weights):
        yield ctx.doc.diagnostic(
            ("models", name, form),
            f"every deployment of model '{name}' has weight 0: none would get a request",
            "deployment-weights",
            hint="give at least one deployment a weight above 0",
        )


def _check_environment(
    ctx: Context, model: str, form: str, i: int, dname: str, entry: dict[str, Any], provider: Any
) -> Iterator[Diagnostic]:
    what = f"deployment '{dname}' of model '{model}'"
    var = entry.get("api_key_env")
    # The provider's own variable is checked (and warned about) once, with the provider.
    if isinstance(var, str) and not (
        isinstance(provider, dict) and provider.get("api_key_env") == var
    ):
        path = _entry_path(model, form, i, "api_key_env")
        yield from env_check(ctx, path, var, f"the API key of {what}")
        yield from env_value_check(ctx, path, var, f"the API key of {what}")
    url = entry.get("base_url")
    if isinstance(url, str):
        local = isinstance(provider, dict) and provider.get("local") is True
        yield from url_diagnostics(
            ctx, _entry_path(model, form, i, "base_url"), url, local, f"base_url of {what}"
        )
