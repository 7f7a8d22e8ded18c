"""Semantic checks on provider parameters: what providers and models declare under
``extra_params`` (a name that is one of the router's own parameters, a refused override or a
field the router writes; a name neither well known for the provider's type nor typed; ranges
and allowed values that contradict the type; a name that is also the parent of another), and
the values ``params`` sets (a name no model it reaches declares, a value of the wrong type).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from router.diagnostics import Diagnostic
from router.messages import shown
from router.routing.call import CALL_PARAMS, REFUSED_PARAMS
from router.routing.extras import RESERVED, resolve, well_known
from router.spec.checks_embeddings import task_chain
from router.spec.checks_environment import SECRET_NAME
from router.spec.schema import where
from router.spec.schema_errors import unknown_key_hint
from router.spec.yamlload import PathT
from router.specmodel import ExtraParam, Params, declarations

if TYPE_CHECKING:
    from router.spec.checks import Context

__all__ = ["check_extra_params"]

#: The call's own parameters that are never sent to a provider: a dotted provider parameter
#: may start with one (``metadata.user_id``).
_UNSENT = frozenset({"metadata", "tags", "cache", "tenant", "session"})
_CORE = frozenset(Params.__dataclass_fields__) - {"extra"}


def _collision(name: str) -> str | None:
    """Why ``name`` cannot be a provider parameter, or None."""
    top = name.split(".", 1)[0]
    if name in CALL_PARAMS or name in _CORE:
        return "is one of the router's own parameters (set it as such)"
    if name in REFUSED_PARAMS or top in REFUSED_PARAMS:
        return "would override an endpoint, key, header or model, which come from the spec only"
    if top in RESERVED:
        return "is a request field the router writes itself"
    if top in CALL_PARAMS and top not in _UNSENT:
        return f"would nest inside '{top}', one of the router's own parameters"
    return None


def _declared(
    ctx: Context, path: PathT, raw: object, kind: str, base: Mapping[str, ExtraParam]
) -> Iterator[Diagnostic]:
    """The problems of one ``extra_params`` (at ``path``), read against the provider type
    ``kind`` and what its provider declares (``base``)."""
    names = list(declarations(raw).items())
    known = well_known(kind)
    for name, d in names:
        at: PathT = (*path, name) if isinstance(raw, dict) else (*path, _index(raw, name))
        why = _collision(name)
        if why is not None:
            yield ctx.doc.diagnostic(
                at,
                f"provider parameter '{name}' {why}",
                "reserved-param",
                hint="remove it from extra_params",
            )
            continue
        if name not in known and SECRET_NAME.search(name.rsplit(".", 1)[-1].lower()):
            yield ctx.doc.diagnostic(
                at,
                f"provider parameter '{name}' is named like a credential: a value sent in it "
                "would travel in request bodies, logs of errors and the cache key",
                "reserved-param",
                hint="keys and tokens come from api_key_env, token_env or headers {env: NAME}",
            )
            continue
        if d.over(base.get(name) or known.get(name)) is None:
            yield ctx.doc.diagnostic(
                at,
                f"provider parameter '{name}' is not a well-known field of provider type "
                f"`{kind}`, and has no type",
                "untyped-param",
                hint=f"write its type: {name}: {{type: string}} (string, integer, number, "
                "boolean, object or array)"
                + (f"; well known for `{kind}`: {', '.join(known)}" if known else ""),
            )
            continue
        resolved = d.over(base.get(name) or known.get(name))
        assert resolved is not None
        if resolved.enum is not None and not all(_fits_type(resolved, v) for v in resolved.enum):
            yield ctx.doc.diagnostic(
                at,
                f"provider parameter '{name}' allows values that are not of its type "
                f"({resolved.type})",
                "invalid-value",
                hint="make every value of enum a " + str(resolved.type),
            )
        low, high = resolved.minimum, resolved.maximum
        if (low is not None or high is not None) and resolved.type not in ("integer", "number"):
            yield ctx.doc.diagnostic(
                at,
                f"provider parameter '{name}' has a min or max but is a {resolved.type}",
                "invalid-value",
                hint="min and max are for integer and number fields",
            )
        elif low is not None and high is not None and low > high:
            yield ctx.doc.diagnostic(
                at,
                f"provider parameter '{name}' has min {low:g} above max {high:g}",
                "invalid-value",
                hint="swap them",
            )
    every = {n for n, _ in names} | set(base)
    for name, _ in names:
        parent = next((n for n in every if name.startswith(n + ".")), None)
        if parent is not None:
            at = (*path, name) if isinstance(raw, dict) else (*path, _index(raw, name))
            yield ctx.doc.diagnostic(
                at,
                f"provider parameter '{name}' nests inside '{parent}', also declared: the "
                "request would carry both",
                "reserved-param",
                hint=f"declare either '{parent}' or the fields inside it",
            )


def _index(raw: object, name: str) -> int:
    return raw.index(name) if isinstance(raw, list) else 0


def _fits_type(p: ExtraParam, value: object) -> bool:
    return ExtraParam(p.name, p.type).fits(value)


def _provider_types(ctx: Context, model: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(provider name, type) of each provider a model is served by (known ones only)."""
    providers = ctx.section("providers")
    names = [model.get("provider")]
    deployments = model.get("deployments")
    names += [d.get("provider") for d in deployments or [] if isinstance(d, dict)]
    out = []
    for name in dict.fromkeys(n for n in names if isinstance(n, str)):
        entry = providers.get(name)
        if isinstance(entry, dict) and isinstance(entry.get("type"), str):
            out.append((name, entry["type"]))
    return out


def _accepted(ctx: Context) -> dict[str, dict[str, list[ExtraParam]]]:
    """model → name → what each of its providers makes of it (one entry per provider that
    accepts it)."""
    providers = {
        name: resolve(declarations(p.get("extra_params")), str(p.get("type")), {})
        for name, p in ctx.entries("providers")
    }
    out: dict[str, dict[str, list[ExtraParam]]] = {}
    for name, model in ctx.entries("models"):
        own = declarations(model.get("extra_params"))
        found: dict[str, list[ExtraParam]] = {}
        chat = model.get("kind", "chat") == "chat"  # an embedding model: its own only
        for provider, kind in _provider_types(ctx, model):
            base = providers.get(provider, {}) if chat else {}
            for pname, p in resolve(own, kind, base).items():
                found.setdefault(pname, []).append(p)
        out[name] = found
    return out


def _values(
    ctx: Context, path: PathT, params: object, reach: list[str], accepted: Mapping[str, Any]
) -> Iterator[Diagnostic]:
    """The provider parameters a ``params`` at ``path`` sets, against the models it reaches."""
    if not isinstance(params, dict):
        return
    for name, value in params.items():
        if not isinstance(name, str) or name in _CORE:
            continue
        takers = [(m, p) for m in reach for p in accepted.get(m, {}).get(name, [])]
        if not any(name in names for names in accepted.values()):
            hint = unknown_key_hint(name, path, ctx.data, sorted(_CORE))
            if hint.startswith("allowed: "):
                hint += "; or a provider parameter, once declared under extra_params"
            yield ctx.doc.diagnostic(
                (*path, name),
                f"unknown key '{name}' in {where(path, ctx.data)}",
                "unknown-key",
                hint=hint,
                key=True,
            )
            continue
        if not takers:
            every = sorted(m for m, names in accepted.items() if name in names)
            yield ctx.doc.diagnostic(
                (*path, name),
                f"'{name}' is set, but no model it reaches ({', '.join(reach) or 'none'}) "
                "declares it as a provider parameter",
                "undeclared-param",
                hint=f"declared by {', '.join(every)}: declare it on these models' providers "
                "too, or set it where only those models are reached",
                key=True,
            )
            continue
        for model, p in takers:
            if not p.fits(value):
                yield ctx.doc.diagnostic(
                    (*path, name),
                    f"'{name}': {shown(value)} is not {p.describe()} (as model '{model}' takes it)",
                    "invalid-value",
                    hint=f"give {name} a value model '{model}' takes",
                )
                break


def check_extra_params(ctx: Context) -> Iterator[Diagnostic]:
    for name, entry in ctx.entries("providers"):
        if "extra_params" in entry:
            kind = str(entry.get("type"))
            yield from _declared(
                ctx, ("providers", name, "extra_params"), entry["extra_params"], kind, {}
            )
    providers = ctx.section("providers")
    for name, model in ctx.entries("models"):
        if "extra_params" not in model:
            continue
        seen: set[tuple[str | None, str]] = set()
        for served_by, kind in _provider_types(ctx, model):  # each type that serves it
            base = resolve(declarations(providers[served_by].get("extra_params")), kind, {})
            path = ("models", name, "extra_params")
            for d in _declared(ctx, path, model["extra_params"], kind, base):
                if (d.path, d.code) not in seen:
                    seen.add((d.path, d.code))
                    yield d
    accepted = _accepted(ctx)
    defaults = ctx.section("defaults")
    yield from _values(
        ctx, ("defaults", "params"), defaults.get("params"), list(accepted), accepted
    )
    for name, model in ctx.entries("models"):
        yield from _values(ctx, ("models", name, "params"), model.get("params"), [name], accepted)
    for name, task in ctx.entries("tasks"):
        reach = [m for _, m in task_chain(ctx, task)]
        yield from _values(ctx, ("tasks", name, "params"), task.get("params"), reach, accepted)
