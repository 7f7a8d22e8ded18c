"""A LiteLLM proxy ``config.yaml`` converted into a routes spec (plain data, not yet text).

What has an equivalent is mapped; everything else becomes a :class:`Note` (shown as a comment
in the written file and on stderr), so no setting is dropped silently. A key written into the
LiteLLM file is never copied: the provider reads it from a variable instead, and the note names
the variable, never the key. Notes name settings by their path, and never quote a value that
could be a secret.

A LiteLLM *model group* (several ``model_list`` entries with one ``model_name``) becomes one
model served by those ``deployments``, and a task of the same name (:func:`place_group`). The
deployment settings (``model_list``, ``litellm_params``, ``model_info``) are in
:mod:`.litellm_models`; the shared ones (``router_settings``, ``litellm_settings``) in
:mod:`.litellm_settings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from router.cli.importers.litellm_models import Deployment, Notes, convert_model_list
from router.cli.importers.litellm_settings import SHARED, Conversion, convert_settings

_IGNORED_TOP = {
    "general_settings": "the proxy server's own settings (keys, database, UI): there is no "
    "server here, the router runs in your process",
    "environment_variables": "set these variables in the environment (values not copied)",
}


#: What a deployment of a model carries for itself; the rest (window, capabilities, call
#: parameters...) is the model's, shared by its deployments.
_DEPLOYMENT_KEYS = ("provider", "id", "limits", "pricing", "timeouts")


def place_group(
    group: str, deployments: list[Deployment], notes: Notes
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A LiteLLM model group → (its models by name, its task of the same name). One
    deployment: one model named like the group. Several: one model named like the group,
    served by its ``deployments`` (each on its own provider: endpoint and key variable), spread
    by ``weight`` (LiteLLM's ``weight``; 1 when unset). LiteLLM's ``order`` tiers map to
    standbys: the deployments of the lowest ``order`` share the traffic, the others get weight
    0 (a request reaches them when the others fail)."""
    ordered = sorted(deployments, key=lambda d: d.order if d.order is not None else 1 << 30)
    if len(ordered) == 1:
        return {group: ordered[0].model}, {"candidates": [group]}
    first = ordered[0].model
    model = {k: v for k, v in first.items() if k not in _DEPLOYMENT_KEYS}
    for d in ordered[1:]:
        own = {k: v for k, v in d.model.items() if k not in _DEPLOYMENT_KEYS}
        if own != model:
            notes.change(
                f"model_list ({group})",
                "its deployments describe the model differently (window, capabilities or "
                "parameters): the first deployment's description is the model's",
            )
            break
    prices = [repr(d.model.get("pricing")) for d in ordered]
    if len(set(prices)) == 1 and "pricing" in first:
        model["pricing"] = first["pricing"]  # the same for all: said once, on the model
    tiers = {d.order for d in ordered if d.order is not None}
    top = min(tiers) if tiers else None
    entries: list[dict[str, Any]] = []
    names: set[str] = set()
    for d in ordered:
        entry: dict[str, Any] = {}
        name, n = str(d.model["provider"]), 2
        while name in names:
            name, n = f"{d.model['provider']}-{n}", n + 1
        names.add(name)
        entry["name"] = name
        for key in _DEPLOYMENT_KEYS:
            if key in d.model and not (key == "pricing" and "pricing" in model):
                entry[key] = d.model[key]
        weight = d.weight if d.weight is not None else 1
        # LiteLLM tries a higher `order` (or none, when others have one) only after the rest.
        if top is not None and (d.order is None or d.order > top):
            if d.weight not in (None, 0):
                notes.change(
                    f"model_list ({group}, {name})",
                    f"its weight {d.weight:g} applies among standbys only in LiteLLM's order "
                    "tiers; here it is a standby (weight 0): give it a weight to share the traffic",
                )
            weight = 0
        if weight != 1:
            entry["weight"] = int(weight) if float(weight).is_integer() else weight
        entries.append(entry)
    if all(e.get("weight", 1) == 0 for e in entries):
        for e in entries:
            e.pop("weight", None)
    model["deployments"] = entries
    how = "by their `weight`"
    if len(tiers) > 1 or (tiers and any(d.order is None for d in ordered)):
        how += "; those of a higher `order` are standbys (weight 0), used when the others fail"
    notes.change(
        f"model_list ({group})",
        f"the {len(ordered)} deployments of '{group}' are one model's `deployments`, spread {how}",
    )
    return {group: model}, {"candidates": [group]}


def convert(data: Any) -> Conversion:
    """A LiteLLM proxy config (as loaded from YAML) → a routes spec and the notes about it."""
    notes = Notes()
    if not isinstance(data, Mapping):
        notes.error("", "a LiteLLM config is a mapping with a model_list")
        return Conversion({}, notes)
    by_group, providers = convert_model_list(data.get("model_list"), notes)
    spec: dict[str, Any] = {"version": 1, "providers": providers, "models": {}, "tasks": {}}
    groups: dict[str, list[str]] = {}
    for group, deployments in by_group.items():
        models, task = place_group(group, deployments, notes)
        spec["models"].update(models)
        spec["tasks"][group] = task
        groups[group] = list(models)
    conversion = Conversion(spec, notes, groups)
    convert_settings(conversion, data)
    for key, value in data.items():
        if key in ("model_list", *SHARED):
            continue
        why = _IGNORED_TOP.get(str(key), "has no equivalent here")
        if isinstance(value, Mapping) and value:
            for sub in value:
                notes.skip(f"{key}.{sub}", why)
        else:
            notes.skip(str(key), why)
    return conversion
