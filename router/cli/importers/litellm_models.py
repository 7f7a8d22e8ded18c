"""LiteLLM's ``model_list``: each deployment's provider, model, key, limits, prices and
parameters, as providers and models of a routes spec (see :mod:`.litellm`)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from router.providers.presets import PRESETS
from router.spec.hosts import host_risk
from router.spec.litellm_names import (
    PROVIDERS,
    Kind,
    cloud_type,
    ollama_base,
    split_model,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_ENV_PREFIX = "os.environ/"
_PARAMS = (
    "temperature",
    "max_tokens",
    "top_p",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
)
_CAPABILITIES = {
    "supports_vision": "vision",
    "supports_function_calling": "tools",
    "supports_response_schema": "json",
}
_CHAT_MODES = (None, "chat", "completion", "responses")

NoteKind = Literal["changed", "not converted", "key", "error"]


@dataclass
class Notes:
    """What the conversion changed or left out: (kind, where, text), in the order found."""

    items: list[tuple[NoteKind, str, str]] = field(default_factory=list)

    def change(self, where: str, text: str) -> None:
        self.items.append(("changed", where, text))

    def skip(self, where: str, text: str) -> None:
        self.items.append(("not converted", where, text))

    def key(self, where: str, text: str) -> None:
        self.items.append(("key", where, text))

    def error(self, where: str, text: str) -> None:
        self.items.append(("error", where, text))

    def of(self, kind: NoteKind) -> list[tuple[str, str]]:
        return [(w, t) for k, w, t in self.items if k == kind]


@dataclass
class Deployment:
    """One ``model_list`` entry, converted: the model (its ``provider`` already named)."""

    model: dict[str, Any]
    order: int | None = None
    weight: float | None = None  # litellm_params.weight (simple-shuffle's share)


@dataclass
class _Providers:
    """Providers by name, one per distinct endpoint and key variable."""

    by_name: dict[str, dict[str, Any]] = field(default_factory=dict)
    literal_envs: dict[str, int] = field(default_factory=dict)  # env → hash of its literal

    def add(self, preferred: str, provider: dict[str, Any]) -> str:
        for name, existing in self.by_name.items():
            if existing == provider:
                return name
        name, n = preferred, 2
        while name in self.by_name:
            name, n = f"{preferred}-{n}", n + 1
        self.by_name[name] = provider
        return name

    def literal_env(self, preferred: str, literal: str) -> str:
        """The variable a key written in the file is to be read from: one per distinct key."""
        digest, name, n = hash(literal), preferred, 2
        while self.literal_envs.get(name, digest) != digest:
            name, n = f"{preferred}_{n}", n + 1
        self.literal_envs[name] = digest
        return name


def number(value: Any) -> float | None:
    """A finite number as written (an int stays an int: 3, not 3.0), or None."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value if ok and math.isfinite(value) else None


_number = number


def convert_model_list(
    model_list: Any, notes: Notes
) -> tuple[dict[str, list[Deployment]], dict[str, Any]]:
    """({model group: its deployments}, {provider name: provider}) from LiteLLM's model_list."""
    groups: dict[str, list[Deployment]] = {}
    providers = _Providers()
    if not isinstance(model_list, list) or not model_list:
        notes.error("model_list", "is missing or empty: there is nothing to route")
        return groups, providers.by_name
    for i, entry in enumerate(model_list):
        where = f"model_list[{i}]"
        if not isinstance(entry, Mapping):
            notes.skip(where, "is not a mapping")
            continue
        group = entry.get("model_name")
        if not isinstance(group, str) or not _NAME.match(group):
            shown = "is missing" if group is None else "is not a name a task can have"
            if isinstance(group, str) and "*" in group:
                shown = "is a wildcard route, which has no equivalent (list each model)"
            notes.skip(f"{where}.model_name", shown)
            continue
        deployment = _deployment(f"{where} ({group})", entry, providers, notes)
        if deployment is not None:
            groups.setdefault(group, []).append(deployment)
    return groups, providers.by_name


def _deployment(
    where: str, entry: Mapping[str, Any], providers: _Providers, notes: Notes
) -> Deployment | None:
    raw_params = entry.get("litellm_params")
    params: Mapping[str, Any] = raw_params if isinstance(raw_params, Mapping) else {}
    raw_info = entry.get("model_info")
    info: Mapping[str, Any] = raw_info if isinstance(raw_info, Mapping) else {}
    for key in entry:
        if key not in ("model_name", "litellm_params", "model_info", "rpm", "tpm"):
            notes.skip(f"{where}.{key}", "has no equivalent here")
    mode = info.get("mode")
    if mode not in _CHAT_MODES:
        notes.skip(where, f"model_info.mode is '{mode}': only chat models are routed here")
        return None
    model_string = params.get("model")
    if not isinstance(model_string, str) or not model_string:
        notes.skip(where, "has no litellm_params.model")
        return None
    prefix, model_id = split_model(model_string)
    kind = PROVIDERS.get(prefix or "")
    if kind is None:
        named = f"the provider '{prefix}'" if prefix else f"the model '{model_id}' (no provider)"
        cloud = cloud_type(prefix, model_id)
        if cloud is not None:
            notes.skip(
                where,
                f"{named} is not converted: write it as a `type: {cloud}` provider (README, "
                "Providers)",
            )
            return None
        notes.skip(
            where,
            f"{named} has no equivalent: the provider types here are openai, anthropic, "
            "openai_compatible (any server speaking OpenAI's API) and the clouds' "
            "azure_openai, anthropic_bedrock, anthropic_vertex",
        )
        return None
    provider = _provider(f"{where}.litellm_params", prefix or "", kind, params, providers, notes)
    if provider is None:
        return None
    name = provider
    model: dict[str, Any] = {"provider": name, "id": model_id}
    _describe(model, params, info)
    limits = {}
    for short, long in (("rpm", "requests_per_minute"), ("tpm", "tokens_per_minute")):
        value = _number(params.get(short, entry.get(short)))
        if value is not None and value >= 1:
            limits[long] = int(value)
    if limits:
        model["limits"] = limits
    call_params = {k: params[k] for k in _PARAMS if k in params}
    if call_params:
        model["params"] = call_params
    order = params.get("order")
    weight = _number(params.get("weight"))
    if "weight" in params and (weight is None or weight < 0):
        notes.skip(f"{where}.litellm_params.weight", "is not a number of 0 or more")
        weight = None
    handled = {"model", "api_key", "api_base", "rpm", "tpm", "order", "weight", "timeout"}
    handled |= set(_PARAMS) | _PRICES
    for key in params:
        if key in handled:
            continue
        why = "has no equivalent here"
        if key in ("extra_headers", "headers"):
            why = "not copied (header values may be secrets): add `headers` to the provider"
        notes.skip(f"{where}.litellm_params.{key}", why)
    described = {"mode", "max_tokens", "max_input_tokens", "max_output_tokens", *_CAPABILITIES}
    described |= _PRICES
    for key in info:
        if key not in described:
            notes.skip(f"{where}.model_info.{key}", "has no equivalent here")
    return Deployment(model, int(order) if isinstance(order, int) else None, weight)


#: LiteLLM's per-token prices that become the model's ``pricing``.
_PRICES = {
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
}


def _describe(model: dict[str, Any], params: Mapping[str, Any], info: Mapping[str, Any]) -> None:
    """Prices, window and capabilities from model_info (or litellm_params)."""

    def read(key: str) -> float | None:
        value = _number(info.get(key, params.get(key)))
        return value if value is not None and value >= 0 else None

    pricing = {}
    for ours, theirs in (
        ("input", "input_cost_per_token"),
        ("output", "output_cost_per_token"),
        ("cached_input", "cache_read_input_token_cost"),
        ("cache_write", "cache_creation_input_token_cost"),
    ):
        per_token = read(theirs)
        if per_token is not None:
            pricing[ours] = round(per_token * 1_000_000, 6)  # USD per million tokens
    if "input" in pricing and "output" in pricing:
        model["pricing"] = pricing
    window = read("max_input_tokens")
    output = read("max_output_tokens") or read("max_tokens")
    if window:
        model["context_window"] = int(window)
    if output and (not window or output <= window):
        model["max_output_tokens"] = int(output)
    caps = [cap for key, cap in _CAPABILITIES.items() if info.get(key) is True]
    if caps:
        model["capabilities"] = ["streaming", *caps]


def _provider(
    where: str,
    prefix: str,
    kind: Kind,
    params: Mapping[str, Any],
    providers: _Providers,
    notes: Notes,
) -> str | None:
    """The name of the provider a deployment is served by (added when new), or None when it
    cannot be converted."""
    provider: dict[str, Any] = {"type": kind.type}
    api_base = params.get("api_base")
    base = kind.base_url
    if isinstance(api_base, str) and api_base:
        parts = urlsplit(api_base)
        if parts.username or parts.password:
            notes.key(f"{where}.api_base", "carried credentials, which are not copied")
            parts = parts._replace(netloc=parts.hostname or "")
            api_base = urlunsplit(parts)
        if prefix in ("ollama", "ollama_chat"):
            base = ollama_base(api_base)
        elif kind.elsewhere and parts.hostname != kind.official_host:
            provider["type"] = kind.elsewhere
            kind = replace(kind, key_required=False)
            base = api_base
            notes.change(
                f"{where}.api_base", "openai/ with an api_base: an OpenAI-compatible server"
            )
        else:
            base = api_base
    elif kind.needs_base:
        notes.skip(where, f"'{prefix}/' needs an api_base, and there is none")
        return None
    elif api_base not in (None, ""):
        notes.skip(f"{where}.api_base", "is not a URL; the provider's own endpoint is used")
    preset = PRESETS.get(kind.preset) if kind.preset else None
    if preset is not None and base == preset.base_url:  # the named host: its preset says it
        provider["preset"] = preset.name
    elif base:
        provider["base_url"] = base
        host = urlsplit(base).hostname or ""
        risk = host_risk(host)[0]
        if kind.local or risk:
            provider["local"] = True
            if risk and not kind.local:
                notes.change(
                    f"{where}.api_base", f"points at {risk}: the provider says `local: true`"
                )
    env = _key_env(where, prefix, kind, params.get("api_key"), providers, notes)
    if env and not (preset is not None and "preset" in provider and env == preset.api_key_env):
        provider["api_key_env"] = env
    elif kind.key_required:
        provider["api_key_env"] = kind.key_env
    timeout = _number(params.get("timeout"))
    if timeout is not None and timeout > 0:
        provider["timeouts"] = {"request": timeout}
    return providers.add(prefix or provider["type"], provider)


def _key_env(
    where: str, prefix: str, kind: Kind, key: Any, providers: _Providers, notes: Notes
) -> str | None:
    """The variable the key is read from. A key written in the file is never copied: it is to
    be exported under a name, which the note gives (never the key)."""
    if key is None or key == "":
        return kind.key_env
    if isinstance(key, str) and key.startswith(_ENV_PREFIX):
        name = key.removeprefix(_ENV_PREFIX)
        if _ENV.match(name):
            return name
        notes.skip(f"{where}.api_key", "names a variable that is not a valid name")
        return kind.key_env
    preferred = kind.key_env or re.sub(r"[^A-Za-z0-9_]", "_", f"{prefix}_API_KEY").upper()
    env = providers.literal_env(preferred, str(key))
    notes.key(
        f"{where}.api_key",
        f"a key written in the file is never copied: the provider reads it from {env} "
        f"(export {env}=<that key>), and take the key out of the LiteLLM file",
    )
    return env
