"""The decision core shared by the sync and async drivers: no I/O here.

:func:`prepare_call` checks a call's arguments and builds its plan, :func:`build_request`
turns it into one attempt's request; :class:`router.routing.walk.ChainRun` walks the plan. The
drivers in :mod:`router.engine.router` and :mod:`router.engine.streams` only perform the calls
asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from router.diagnostics import Diagnostic
from router.errors import ConfigError, NoRouteError, RequestError
from router.messages import check_text, coerce_messages
from router.nodes.base import Node
from router.nodes.load import Live
from router.providers.base import RequestProfile
from router.routing.arguments import CheckedParams, check_params
from router.routing.classify import Classification, wants_classifier
from router.routing.extras import check_extras, fields_for, given_extras
from router.routing.features import request_features
from router.routing.plan import Plan, make_plan
from router.routing.reasoning import check_reasoning
from router.specmodel import ExtraParam, ModelSpec, Params, Spec, TaskSpec
from router.types import (
    Message,
    Request,
    ToolDefinition,
    Usage,
)

# Per-call keyword arguments and what they are for.
CALL_PARAMS = frozenset(
    {
        "temperature",
        "max_tokens",
        "top_p",
        "stop",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "tools",
        "tool_choice",
        "response_format",
        "metadata",
        "tags",
        "timeout",
        "cache",
        "tenant",
        "session",
        "thinking",
        "reasoning_effort",
    }
)
# Endpoints, keys and models come from the spec only: a per-call override would bypass
# validation, and could send a key to an endpoint the spec's author never approved.
REFUSED_PARAMS = frozenset(
    {
        "base_url",
        "api_base",
        "api_key",
        "api_version",
        "organization",
        "headers",
        "extra_headers",
        "default_headers",
        "extra_query",
        "default_query",
        "model",
        "provider",
    }
)


@dataclass(frozen=True, slots=True)
class Target:
    """One deployment of a model ready to be called: its spec entries and the top node of
    its stack. ``model`` is the model as this deployment serves it (its ``id`` and pricing
    are the deployment's).

    ``profile`` holds its provider's request quirks (required ``max_tokens``, penalties),
    read from its adapter class once, when the spec is compiled."""

    model: ModelSpec
    provider: str
    node: Node  # the stack's top node: cache → load → breaker → limiter → adapter
    profile: RequestProfile  # its provider's request quirks, from the adapter class
    unavailable: str | None = None  # why it cannot be called at all (e.g. its key is unset)
    deployment: str | None = None  # the deployment's name in the spec (never a key)
    key: str = ""  # names its state (holds, breaker, limits); default: the model's name
    weight: float = 1.0
    live: Live = field(default_factory=Live)
    request_timeout: float | None = None  # its own timeouts.request (None: the spec's rule)
    #: The provider parameters it accepts (router.routing.extras.accepts).
    extra_params: Mapping[str, ExtraParam] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.model.name)


@dataclass(frozen=True, slots=True)
class Call:
    """A checked call: its plan and everything needed to build each attempt's request."""

    plan: Plan
    messages: tuple[Message, ...]
    overrides: Params
    tools: tuple[ToolDefinition, ...]
    tool_choice: Any
    response_format: Mapping[str, Any] | None
    timeout: float | None
    cache: bool = True
    tenant: str | None = None
    session: str | None = None  # sticky routing: the deployment this session used last
    #: The reasoning settings given (``thinking``, ``reasoning_effort``): each target gets
    #: the one its wire format takes.
    reasoning: Mapping[str, Any] = field(default_factory=dict)
    #: An embedding call: the texts, and the vector length asked for (see Request.embed).
    embed: tuple[str, ...] | None = None
    dimensions: int | None = None

    @property
    def task(self) -> TaskSpec:
        return self.plan.task


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


_NO_OVERRIDES = Params()


def _over(top: Params, base: Params) -> Params:
    """``top.over(base)`` (the per-call overrides over the spec's parameters), spelled out."""
    if top is _NO_OVERRIDES or top == _NO_OVERRIDES:
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


_UNCHECKED = CheckedParams()  # no per-call arguments: the defaults (never mutated)


def call_messages(
    messages: Iterable[Message | Mapping[str, Any]] | None, prompt: str | None
) -> tuple[Message, ...]:
    """A call's ``messages`` (or ``prompt``), coerced and checked."""
    if (messages is None) == (prompt is None):
        raise RequestError("pass exactly one of messages=[...] or prompt='...'")
    if prompt is not None:
        return (Message("user", check_text(prompt, "prompt")),)
    try:
        return coerce_messages(messages)  # type: ignore[arg-type]
    except RequestError as exc:
        raise RequestError(f"invalid messages: {exc}", argument=exc.argument) from None
    except TypeError as exc:
        raise RequestError(f"invalid messages: {exc}", argument="messages") from None


def no_route(
    spec: Spec, plan: Plan, unavailable: Callable[[ModelSpec], str | None]
) -> NoRouteError | ConfigError:
    """The error for a plan whose chain is empty, saying why for every model. When some
    model would take the request but cannot be called (its key or header variable is unset or
    unusable), the deployment is at fault, not the request: a ConfigError naming them."""
    task = plan.task.name
    skipped = [(c.model, c.skipped or "skipped") for c in plan.skipped]
    why = "; ".join(f"{model}: {reason}" for model, reason in skipped) or "the chain is empty"
    unset = [(m, r) for m, r in skipped if r == unavailable(spec.models[m])]
    if unset:
        fix = "; ".join(f"{model}: {reason}" for model, reason in unset)
        return ConfigError(
            [
                Diagnostic(
                    f"task '{task}': no model can be called for this request ({why})",
                    code="no-model-configured",
                    path=f"$.tasks.{task}",
                    file=spec.source,
                    hint=f"configure the environment for {fix}",
                )
            ]
        )
    return NoRouteError(
        f"task '{task}': no model can take this request ({why})", task=task, skipped=skipped
    )


#: Classifies a call's messages (the Router's trained classifier; see routing/classify.py).
Classify = Callable[[tuple[Message, ...]], Classification]


def prepare_call(
    spec: Spec,
    task: str | None,
    messages: Iterable[Message | Mapping[str, Any]] | None,
    prompt: str | None,
    params: Mapping[str, Any],
    *,
    stream: bool,
    unavailable: Callable[[ModelSpec], str | None],
    params_for: ParamsFor | None = None,
    latency: Callable[[ModelSpec], float | None] | None = None,
    route: bool = True,
    embed: tuple[str, ...] | None = None,
    dimensions: int | None = None,
    classify: Classify | None = None,
) -> Call:
    """Check the call's arguments and plan it; raise RequestError for anything invalid (see
    :mod:`router.routing.arguments`), before anything is sent. With ``route`` (a call, not
    ``explain``) a plan no model can take raises :func:`no_route`'s error. ``params_for`` is
    ``spec.params_for`` or a cache of it (:class:`ParamsCache`). A call without a task (or
    with ``auto``, see :func:`~router.routing.classify.wants_classifier`) is classified by
    ``classify``, which chooses its task and gives rules its label."""
    extras: dict[str, Any] = {}
    if params:
        refused = sorted(REFUSED_PARAMS & params.keys())
        if refused:
            raise RequestError(
                f"per-call {', '.join(refused)} is refused: endpoints, keys and models come "
                "from the routing spec (choose models with tasks and rules)",
                argument=refused[0],
            )
        unknown = params.keys() - CALL_PARAMS
        # Provider parameters: names the spec declares under extra_params (else refused).
        if unknown:
            extras = given_extras(spec, params, unknown, CALL_PARAMS)
    classified = wants_classifier(spec, task)
    if classified and (classify is None or embed is not None):
        raise RequestError(
            "no task given: name one (task=...), or add a `classifier:` section to the spec "
            "so that calls without a task (or with task 'auto') are classified"
            if embed is None
            else "embed() needs a task: the classifier chooses tasks of chat models",
            argument="task",
        )
    msgs = call_messages(messages, prompt) if classified else ()
    classification = classify(msgs) if classified and classify is not None else None
    if classification is not None:
        task = classification.task
    if not isinstance(task, str):
        raise RequestError(
            f"task: expected a task name (a string), got {type(task).__name__}", argument="task"
        )
    msgs = msgs or call_messages(messages, prompt)
    check_text(task, "task")  # a `default` task serves any name, which then reaches the logs
    checked = check_params(params) if params else _UNCHECKED
    features = request_features(
        task,
        msgs,
        stream=stream,
        tools=bool(checked.tools),
        json_output=checked.json_output,
        max_tokens=checked.max_tokens,
        metadata=checked.metadata,
        tags=checked.tags,
        classification=classification,
    )
    plan = make_plan(
        spec, features, unavailable=unavailable, params_for=params_for, latency=latency
    )
    if route:  # explain() shows any task's plan
        check_kind(spec, plan, embed is not None)
    if route and not plan.chain:
        raise no_route(spec, plan, unavailable)
    if extras:
        extras = check_extras(spec, plan, extras)
    for m in msgs:
        if embed is not None:
            break  # an embedding call sends its texts, never a system prompt
        if m.role == "system":
            break
    else:
        msgs = (Message("system", plan.task.system_prompt), *msgs)
    overrides = _NO_OVERRIDES
    if params:
        overrides = Params(
            temperature=checked.temperature,
            max_tokens=checked.max_tokens,
            top_p=checked.top_p,
            stop=checked.stop,
            seed=checked.seed,
            presence_penalty=checked.presence_penalty,
            frequency_penalty=checked.frequency_penalty,
            extra=extras,
        )
    reasoning: dict[str, Any] = {}
    if checked.thinking is not None:
        reasoning["thinking"] = checked.thinking
    if checked.reasoning_effort is not None:
        reasoning["reasoning_effort"] = checked.reasoning_effort
    if reasoning:
        check_reasoning(spec, plan, reasoning)
    return Call(
        reasoning=reasoning,
        plan=plan,
        messages=msgs,
        overrides=overrides,
        tools=checked.tools,
        tool_choice=checked.tool_choice,
        response_format=checked.response_format,
        timeout=checked.timeout,
        cache=checked.cache,
        tenant=checked.tenant,
        session=checked.session,
        embed=embed,
        dimensions=dimensions,
    )


def check_kind(spec: Spec, plan: Plan, embedding: bool) -> None:
    """``complete``/``stream`` on a task of embedding models, or ``embed`` on a task of chat
    models: a RequestError naming the task and the method that fits, before anything is sent."""
    task = plan.task
    for name in (*task.candidates, *(c.model for c in plan.chain)):
        model = spec.models.get(name)
        if model is None or (model.kind == "embedding") == embedding:
            continue
        if embedding:
            raise RequestError(
                f"task '{task.name}' answers with chat models ('{name}'); embed() needs a task "
                "whose candidates are embedding models (kind: embedding)",
                argument="task",
            )
        raise RequestError(
            f"task '{task.name}' answers with embedding models ('{name}'); call "
            "embed()/aembed() for it, not complete or stream",
            argument="task",
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
