"""Provider parameters per call: which names a call may use, their values checked against what
the models of its chain declare, and the fields each deployment is sent.

A provider parameter (``service_tier``, ``top_k``, ``metadata.user_id``...) is a name some
provider or model of the spec declares under ``extra_params`` (see
:mod:`router.specmodel.extras`). A call passes it by name, like any parameter
(``router.complete(..., service_tier="flex")``; a dotted name as ``**{"metadata.user_id":
"u-1"}``), and the spec sets it in ``params``. The rules:

- a name no provider or model of the spec declares is an unknown parameter (RequestError);
- a name no model of the call's chain accepts is refused before anything is sent, so a value
  the caller sets never vanishes on every model;
- a value is checked against the type each accepting model declares (RequestError naming
  the argument and the model);
- each deployment is sent the fields it accepts (its provider's declarations and its
  model's); the others drop them, with a debug event on the ``router.params`` logger naming
  the fields (never their values).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from router.errors import ProviderConfigError, RequestError
from router.messages import check_text, json_text, shown
from router.providers.registry import get_adapter_class
from router.routing.plan import Plan
from router.specmodel import ExtraParam, ModelSpec, Params, Spec, TaskSpec

__all__ = [
    "RESERVED",
    "accepts",
    "check_extras",
    "declared_names",
    "fields_for",
    "given_extras",
    "resolve",
    "sent_fields",
    "well_known",
]

_log = logging.getLogger("router.params")

#: Request-body fields the router writes itself, or that would change where or how a request
#: is sent, answered or counted: never a provider parameter (the call's own parameters and the
#: refused overrides are not either; the spec checks add those).
RESERVED = frozenset(
    {
        "model",
        "messages",
        "system",
        "prompt",
        "input",
        "stream",
        "stream_options",
        "max_completion_tokens",
        "stop_sequences",
        "output_config",
        "anthropic_version",
        "encoding_format",
        "dimensions",
        "n",
        "functions",
        "function_call",
        "extra_body",
        "extra_query",
        "default_query",
        "query",
        "api_base",
        "timeout",
        "max_retries",
    }
)

_EMPTY: Mapping[str, ExtraParam] = MappingProxyType({})


@functools.cache
def well_known(provider_type: str) -> Mapping[str, ExtraParam]:
    """The well-known provider parameters of a provider type (its adapter class's table)."""
    try:
        return get_adapter_class(provider_type).extra_params
    except (ProviderConfigError, ValueError):
        return _EMPTY


def resolve(
    declared: Mapping[str, ExtraParam], provider_type: str, base: Mapping[str, ExtraParam]
) -> dict[str, ExtraParam]:
    """Declarations over ``base`` (what is already accepted there) and the provider type's
    well-known fields; one without a type that is neither is left out (``router validate``
    reports it)."""
    known = well_known(provider_type)
    out = dict(base)
    for name, d in declared.items():
        resolved = d.over(base.get(name) or known.get(name))
        if resolved is not None:
            out[name] = resolved
    return out


def accepts(spec: Spec, model: ModelSpec, provider: str) -> Mapping[str, ExtraParam]:
    """What ``model`` served at ``provider`` accepts: the provider's declarations (for a chat
    model: an embeddings endpoint takes other fields) and the model's (a name on both: the
    model's, narrowing the provider's when it gives no type)."""
    entry = spec.providers.get(provider)
    if entry is None:
        return _EMPTY
    base = entry.extra_params if model.kind == "chat" else _EMPTY
    if not model.extra_params:
        return base
    return MappingProxyType(resolve(model.extra_params, entry.type, base))


def declared_names(spec: Spec) -> frozenset[str]:
    """Every provider parameter some provider or model of ``spec`` declares."""
    names = {n for p in spec.providers.values() for n in p.extra_params}
    return frozenset(names.union(*(m.extra_params for m in spec.models.values())))


def _declared(spec: Spec, name: str) -> bool:
    return any(name in p.extra_params for p in spec.providers.values()) or any(
        name in m.extra_params for m in spec.models.values()
    )


def _served_at(model: ModelSpec) -> list[str]:
    """The providers of ``model``'s deployments (without making its implicit one)."""
    return [d.provider for d in model.deployments] or [model.provider]


def _who(spec: Spec, name: str) -> list[str]:
    """The models that accept ``name`` on at least one deployment."""
    return [
        m.name
        for m in spec.models.values()
        if any(name in accepts(spec, m, provider) for provider in _served_at(m))
    ]


def given_extras(
    spec: Spec, params: Mapping[str, Any], unknown: Iterable[str], accepted: Iterable[str]
) -> dict[str, Any]:
    """The call's provider parameters: ``unknown`` (the names of ``params`` that are not the
    call's own parameters, ``accepted``) must each be declared by the spec; a None value is
    "not given". RequestError naming the first that is not."""
    bad = sorted(n for n in unknown if not _declared(spec, n))
    if bad:
        name, declared = bad[0], declared_names(spec)
        if name == "extra_body":
            raise RequestError(
                "per-call extra_body is refused: declare each field the providers should get "
                "under extra_params in the spec, then pass it by name (service_tier='flex')",
                argument=name,
            )
        them = f"; provider parameters: {', '.join(sorted(declared))}" if declared else ""
        raise RequestError(
            f"unknown parameter {', '.join(bad)}; accepted: {', '.join(sorted(accepted))}{them}"
            " (a field a provider takes is declared under extra_params in the spec first)",
            argument=name,
        )
    return {n: params[n] for n in sorted(unknown) if params[n] is not None}


def check_extras(spec: Spec, plan: Plan, given: Mapping[str, Any]) -> dict[str, Any]:
    """The call's provider parameters checked against the models of its chain: each must be
    accepted by one of them at least, and fit the type of every one that does. Values come
    back as plain JSON data. RequestError naming the argument (and the model) otherwise."""
    chain = [spec.models[c.model] for c in plan.chain if c.skipped is None]
    out: dict[str, Any] = {}
    for name, value in given.items():
        takers = [
            (model.name, declared)
            for model in chain
            for provider in _served_at(model)
            if (declared := accepts(spec, model, provider).get(name)) is not None
        ]
        if chain and not takers:
            elsewhere = [m for m in _who(spec, name) if m not in {c.name for c in chain}]
            declared_by = f"; declared by {', '.join(elsewhere)}" if elsewhere else ""
            raise RequestError(
                f"{name}: no model this call may reach accepts it "
                f"({', '.join(m.name for m in chain)}){declared_by}; declare it under "
                "extra_params of one of them, or route the call to a model that takes it",
                argument=name,
            )
        for model_name, declared in takers:
            if not declared.fits(value):
                raise RequestError(
                    f"{name}: {shown(value)} is not {declared.describe()} "
                    f"(as model '{model_name}' takes it)",
                    argument=name,
                )
        if isinstance(value, str):
            check_text(value, name)
        elif isinstance(value, Mapping | list | tuple):
            json_text(value, name)  # JSON all the way down: no NaN, sets or objects
        elif not takers:  # not typed by any model here (explain without a chain)
            json_text(value, name)
        out[name] = value
    return out


def _put(body: dict[str, Any], name: str, value: Any) -> None:
    """``metadata.user_id`` → ``{"metadata": {"user_id": value}}``."""
    *parents, leaf = name.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[leaf] = value


def fields_for(
    accepted: Mapping[str, ExtraParam], values: Mapping[str, Any], model: str, deployment: str
) -> dict[str, Any]:
    """The request-body fields of ``values`` that a deployment accepting ``accepted`` gets
    (dotted names nested); the others are dropped, with a debug event naming them."""
    out: dict[str, Any] = {}
    dropped = []
    for name, value in values.items():
        if name in accepted:
            _put(out, name, value)
        else:
            dropped.append(name)
    if dropped and _log.isEnabledFor(logging.DEBUG):
        _log.debug(
            "provider parameters not sent to model %r (deployment %s), which does not declare "
            "them: %s",
            model,
            deployment,
            ", ".join(dropped),
            extra={"model": model, "deployment": deployment, "dropped": dropped},
        )
    return out


def sent_fields(
    spec: Spec,
    plan: Plan,
    given: Mapping[str, Any],
    params_for: Callable[[TaskSpec, ModelSpec], Params] | None = None,
) -> dict[str, dict[str, Any]]:
    """For ``router explain``: for each model of the chain (each deployment, when they differ),
    the provider parameters it would be sent and those it drops (names only: values may be an
    end user's id). Empty when the call and the spec set none."""
    params_of = params_for or spec.params_for
    rows: dict[str, dict[str, Any]] = {}
    for c in plan.chain:
        model = spec.models[c.model]
        values = {**params_of(plan.task, model).extra, **given}
        if not values:
            continue
        places = {}
        for d in model.pool():
            taken = accepts(spec, model, d.provider)
            places[d.name] = {
                "sent": sorted(n for n in values if n in taken),
                "dropped": sorted(n for n in values if n not in taken),
            }
        first = next(iter(places.values()))
        if all(place == first for place in places.values()):
            rows[c.model] = first
        else:
            rows[c.model] = {"deployments": places}
    return rows
