"""One attempt's request (:func:`build_request`: the call's parameters over the spec's, shaped
by the target's provider quirks) and what an answer costs (:func:`cost_of`,
:func:`savings_of`). No I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from router.routing.extras import fields_for
from router.routing.target import Target
from router.specmodel import ModelSpec, Params, Spec, TaskSpec
from router.types import Request, Usage

if TYPE_CHECKING:
    from router.routing.call import Call

__all__ = ["NO_OVERRIDES", "ParamsCache", "ParamsFor", "build_request", "cost_of", "savings_of"]

ParamsFor = Callable[[TaskSpec, ModelSpec], Params]


class ParamsCache:
    """``spec.params_for(task, model)`` computed once per (task, model): the spec is frozen,
    and merging the three layers field by field is a measurable part of a call's cost."""

    __slots__ = ("_cache", "spec")

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._cache: dict[tuple[str, str], tuple[TaskSpec, ModelSpec, Params]] = {}

    def __call__(self, task: TaskSpec, model: ModelSpec) -> Params:
        hit = self._cache.get((task.name, model.name))
        # A model's deployments are copies of it sharing its ``params``: one entry serves all.
        if hit is not None and hit[0] is task and hit[1].params is model.params:
            return hit[2]
        params = self.spec.params_for(task, model)
        self._cache[task.name, model.name] = (task, model, params)
        return params


NO_OVERRIDES = Params()


def _over(top: Params, base: Params) -> Params:
    """``top.over(base)`` (the per-call overrides over the spec's parameters), spelled out."""
    if top is NO_OVERRIDES or top == NO_OVERRIDES:
        return base
    return Params(
        base.temperature if top.temperature is None else top.temperature,
        base.max_tokens if top.max_tokens is None else top.max_tokens,
        base.top_p if top.top_p is None else top.top_p,
        base.stop if top.stop is None else top.stop,
        base.seed if top.seed is None else top.seed,
        base.presence_penalty if top.presence_penalty is None else top.presence_penalty,
        base.frequency_penalty if top.frequency_penalty is None else top.frequency_penalty,
        {**base.extra, **top.extra} if top.extra else base.extra,
    )


def build_request(
    spec: Spec,
    call: Call,
    target: Target,
    timeout: float | None,
    params_for: ParamsFor | None = None,
) -> Request:
    model = target.model
    p = _over(call.overrides, (params_for or spec.params_for)(call.task, model))
    profile = target.profile
    # An API that requires max_tokens gets its adapter's default; never more than the model
    # can give.
    max_tokens = p.max_tokens if p.max_tokens is not None else profile.default_max_tokens
    extra: dict[str, Any] = {}
    wants = profile.reasoning_param
    if wants is not None and wants in call.reasoning:
        setting = call.reasoning[wants]
        extra[wants] = setting
        budget = setting.get("budget_tokens") if isinstance(setting, Mapping) else None
        if budget is not None and p.max_tokens is None:
            # Thinking counts toward max_tokens: room for the answer above the budget.
            max_tokens = budget + (profile.default_max_tokens or 0)
    if max_tokens is not None and model.max_output_tokens is not None:
        max_tokens = min(max_tokens, model.max_output_tokens)
    # Penalties only where the wire format has them (Anthropic rejects unknown fields).
    if profile.penalties:
        if p.presence_penalty is not None:
            extra["presence_penalty"] = p.presence_penalty
        if p.frequency_penalty is not None:
            extra["frequency_penalty"] = p.frequency_penalty
    if p.extra:  # only to a deployment that declares them
        extra.update(fields_for(target.extra_params, p.extra, model.name, target.key))
    policy = call.task.cache
    cache_ttl = None
    if (
        policy.enabled
        and call.cache
        and (
            not p.temperature or policy.nonzero_temperature  # sampled answers are meant to vary
        )
    ):
        cache_ttl = policy.ttl
    namespace = policy.namespace or call.task.name
    if call.tenant is not None:
        namespace = f"{namespace}/{call.tenant}"
    return Request(
        cache_ttl=cache_ttl,
        cache_namespace=namespace,
        model=model.name,
        model_id=model.id,
        provider=target.provider,
        messages=call.messages,
        max_tokens=max_tokens,
        temperature=p.temperature,
        top_p=p.top_p,
        stop=p.stop or (),
        seed=p.seed,
        tools=call.tools,
        tool_choice=call.tool_choice,
        response_format=call.response_format,
        timeout=timeout,
        extra=extra,
        embed=call.embed,
        dimensions=call.dimensions,
    )


def cost_of(model: ModelSpec, usage: Usage | None) -> float | None:
    """The call's cost in USD from the spec's prices; None when it cannot be priced."""
    if model.pricing is None or usage is None:
        return None
    return model.pricing.cost(
        usage.input_tokens, usage.output_tokens, usage.cached_input_tokens, usage.cache_write_tokens
    )


def savings_of(model: ModelSpec, usage: Usage | None) -> float | None:
    """What the provider's prompt cache saved on the call, in USD; None when unpriced."""
    if model.pricing is None or usage is None:
        return None
    return model.pricing.cache_savings(usage.cached_input_tokens, usage.cache_write_tokens)
