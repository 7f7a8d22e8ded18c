"""The decision core shared by the sync and async drivers: no I/O here.

:func:`prepare_call` checks a call's arguments and builds its plan;
:func:`~router.routing.request.build_request` turns it into one attempt's request;
:class:`router.routing.walk.ChainRun` walks the plan. The
drivers in :mod:`router.engine.router` and :mod:`router.engine.streams` only perform the calls
asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from router.diagnostics import Diagnostic
from router.errors import ConfigError, NoRouteError, RequestError
from router.messages import check_text, coerce_messages
from router.routing.arguments import CheckedParams, check_params
from router.routing.classify import Classification, wants_classifier
from router.routing.extras import check_extras, given_extras
from router.routing.features import request_features
from router.routing.plan import MATCH, Plan, RuleChoice, make_plan
from router.routing.reasoning import check_reasoning
from router.routing.request import (
    NO_OVERRIDES,
    ParamsCache,
    ParamsFor,
    build_request,
    cost_of,
    savings_of,
)
from router.routing.target import Target
from router.specmodel import ModelSpec, Params, Spec, TaskSpec
from router.types import (
    Message,
    ToolDefinition,
)

if TYPE_CHECKING:
    from router.guardrails import Finding

__all__ = [
    "CALL_PARAMS",
    "REFUSED_PARAMS",
    "Call",
    "CallHooks",
    "ParamsCache",
    "ParamsFor",
    "Target",
    "build_request",
    "check_kind",
    "cost_of",
    "no_route",
    "prepare_call",
    "savings_of",
]

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


class CallHooks(Protocol):
    """What a call carries when it passes hooks or guardrails (the engine's runner, made when
    its walk starts; :mod:`router.engine.hookrun`): the time the request started, which its
    deadline counts from (the ``before`` hooks and the guardrails having run by then), what
    the guardrails found, and how an answer is logged without the values they masked."""

    @property
    def started(self) -> float: ...

    @property
    def findings(self) -> tuple[Finding, ...]: ...

    def conceal(self, text: str) -> str: ...


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
    #: The per-call keyword arguments as given (what a hook sees and may rewrite).
    params: Mapping[str, Any] = field(default_factory=dict)
    #: The running hooks of a call whose plan has some, once its walk has begun (else None).
    hooks: CallHooks | None = None
    #: ``messages[0]`` is the task's ``system_prompt``, added here (the caller gave none):
    #: the spec's text, which the guardrails do not read.
    system_added: bool = False
    #: When the request began, if that was before its walk (a classifier that waited for its
    #: training): the request's deadline counts from here (None: from the walk's start).
    started: float | None = None

    @property
    def task(self) -> TaskSpec:
        return self.plan.task


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
    rule: RuleChoice = MATCH,
    classify: Classify | None = None,
) -> Call:
    """Check the call's arguments and plan it; raise RequestError for anything invalid (see
    :mod:`router.routing.arguments`), before anything is sent. With ``route`` (a call, not
    ``explain``) a plan no model can take raises :func:`no_route`'s error. ``params_for`` is
    ``spec.params_for`` or a cache of it (:class:`ParamsCache`). ``rule``: plan under this
    rule (or none) instead of the first that matches (a call its hooks rewrote).
    A call without a task (or
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
        spec,
        features,
        unavailable=unavailable,
        params_for=params_for,
        latency=latency,
        rule=rule,
    )
    if route:  # explain() shows any task's plan
        check_kind(spec, plan, embed is not None)
    if route and not plan.chain:
        raise no_route(spec, plan, unavailable)
    if extras:
        extras = check_extras(spec, plan, extras)
    system_added = False
    for m in msgs:
        if embed is not None:
            break  # an embedding call sends its texts, never a system prompt
        if m.role == "system":
            break
    else:
        msgs = (Message("system", plan.task.system_prompt), *msgs)
        system_added = True
    overrides = NO_OVERRIDES
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
        params=params,
        system_added=system_added,
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
