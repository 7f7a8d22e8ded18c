"""The decision core shared by the sync and async drivers: no I/O here.

:func:`prepare_call` checks a call's arguments and builds its plan; :class:`ChainRun` walks
the plan, says which target is next, what an error means (try the next model, or stop), and
builds the final :class:`~router.types.Response` or :class:`~router.errors.AllModelsFailed`.
The drivers in :mod:`router.engine` only perform the calls it asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from router.errors import (
    AllModelsFailed,
    ContentFiltered,
    ProviderError,
    RequestError,
    TimeoutError,
)
from router.nodes.retry import RetryBudget, backoff
from router.plan import Plan, make_plan, request_features
from router.spec.model import ModelSpec, Params, Spec, TaskSpec
from router.types import (
    Attempt,
    Message,
    Request,
    Response,
    ToolDefinition,
    Usage,
    coerce_messages,
)

ANTHROPIC_DEFAULT_MAX_TOKENS = 4096

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
        "model",
        "provider",
    }
)


@dataclass(frozen=True, slots=True)
class Target:
    """One model ready to be called: its spec entries and the top node of its stack."""

    model: ModelSpec
    provider: str
    node: Any  # the stack's top node (an Adapter or a wrapper with the same methods)
    provider_type: str = "openai"
    unavailable: str | None = None  # why it cannot be called at all (e.g. its key is unset)


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
    extra: Mapping[str, Any]
    cache: bool = True
    tenant: str | None = None

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
        if hit is not None and hit[0] is task and hit[1] is model:
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
    )


def _stop(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def prepare_call(
    spec: Spec,
    task: str,
    messages: Iterable[Message | Mapping[str, Any]] | None,
    prompt: str | None,
    params: Mapping[str, Any],
    *,
    stream: bool,
    unavailable: Callable[[ModelSpec], str | None],
    params_for: ParamsFor | None = None,
    latency: Callable[[ModelSpec], float | None] | None = None,
) -> Call:
    """Check the call's arguments and plan it; raise RequestError for anything invalid.
    ``params_for`` is ``spec.params_for`` or a cache of it (:class:`ParamsCache`)."""
    if params:
        refused = sorted(REFUSED_PARAMS & params.keys())
        if refused:
            raise RequestError(
                f"per-call {', '.join(refused)} is refused: endpoints, keys and models come "
                "from the routing spec (choose models with tasks and rules)"
            )
        unknown = sorted(params.keys() - CALL_PARAMS)
        if unknown:
            raise RequestError(
                f"unknown parameter {', '.join(unknown)}; "
                f"accepted: {', '.join(sorted(CALL_PARAMS))}"
            )
    if (messages is None) == (prompt is None):
        raise RequestError("pass exactly one of messages=[...] or prompt='...'")
    try:
        msgs = (Message("user", prompt),) if prompt is not None else coerce_messages(messages or ())
    except (TypeError, ValueError) as exc:
        raise RequestError(f"invalid messages: {exc}") from None
    if not msgs:
        raise RequestError("messages is empty")
    tools: tuple[ToolDefinition, ...] = ()
    if params.get("tools"):
        try:
            tools = tuple(
                t if isinstance(t, ToolDefinition) else ToolDefinition.from_dict(t)
                for t in params["tools"]
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise RequestError(f"invalid tools: {exc}") from None
    tags = params.get("tags") or ()
    features = request_features(
        task,
        msgs,
        stream=stream,
        tools=bool(tools),
        json_output=params.get("response_format") is not None,
        max_tokens=params.get("max_tokens"),
        metadata=params.get("metadata"),
        tags=[tags] if isinstance(tags, str) else list(tags),
    )
    plan = make_plan(
        spec, features, unavailable=unavailable, params_for=params_for, latency=latency
    )
    for m in msgs:
        if m.role == "system":
            break
    else:
        msgs = (Message("system", plan.task.system_prompt), *msgs)
    overrides = _NO_OVERRIDES
    if params:
        overrides = Params(
            temperature=params.get("temperature"),
            max_tokens=params.get("max_tokens"),
            top_p=params.get("top_p"),
            stop=_stop(params.get("stop")),
            seed=params.get("seed"),
            presence_penalty=params.get("presence_penalty"),
            frequency_penalty=params.get("frequency_penalty"),
        )
    return Call(
        plan=plan,
        messages=msgs,
        overrides=overrides,
        tools=tools,
        tool_choice=params.get("tool_choice"),
        response_format=params.get("response_format"),
        timeout=params.get("timeout"),
        extra={},
        cache=params.get("cache", True) is not False,
        tenant=None if params.get("tenant") is None else str(params["tenant"]),
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
    max_tokens = p.max_tokens
    if max_tokens is None and target.provider_type == "anthropic":
        # Anthropic requires max_tokens; never ask for more than the model can give.
        max_tokens = ANTHROPIC_DEFAULT_MAX_TOKENS
    if max_tokens is not None and model.max_output_tokens is not None:
        max_tokens = min(max_tokens, model.max_output_tokens)
    extra: dict[str, Any] = {}
    # Penalties exist only in the OpenAI wire format; Anthropic rejects unknown fields.
    if target.provider_type != "anthropic":
        if p.presence_penalty is not None:
            extra["presence_penalty"] = p.presence_penalty
        if p.frequency_penalty is not None:
            extra["frequency_penalty"] = p.frequency_penalty
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
    )


def cost_of(model: ModelSpec, usage: Usage | None) -> float | None:
    """The call's cost in USD from the spec's prices; None when it cannot be priced."""
    if model.pricing is None or usage is None:
        return None
    return model.pricing.cost(usage.input_tokens, usage.output_tokens, usage.cached_input_tokens)


@dataclass(slots=True)
class _Entry:
    """A target waiting its turn: how often it was sent, and when it may go next."""

    target: Target
    sends: int = 0
    not_before: float = 0.0
    sticky: bool = False  # later entries wait for this one (same_model retry, on_limit: wait)
    circuit: bool = False  # waiting for an open circuit


@dataclass(frozen=True, slots=True)
class Go:
    target: Target
    timeout: float


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


class ChainRun:
    """One request walking its chain. Pure bookkeeping: it says what to do next (``Go`` to a
    target with a timeout, ``Wait`` so long, or ``None``: done), and what each outcome means.

    - Targets are tried in chain order; a failure whose kind is in the task's ``fallback_on``
      moves on, any other stops the chain (a retry of the same model may still be due).
    - A retriable failure schedules a retry of the same model after its backoff, or after the
      provider's ``Retry-After`` (never one longer than ``retry.max_retry_after``), within the
      retry budget. With ``prefer: fallback`` it waits at the end of the line, so every other
      model is tried first; with ``same_model`` the chain waits for it.
    - A local refusal (limit reached, open circuit, Retry-After hold) sends nothing and puts the
      model back with the time it frees up; ``on_limit: wait`` keeps its place in line.
    - When nothing is ready, the run waits for the earliest target that frees up before the
      deadline, except when every remaining target is an open circuit and the task says
      ``on_all_open: fail``.

    ``clock`` is monotonic seconds, injected in tests.
    """

    __slots__ = (
        "_inflight",
        "_min_window",
        "_pending",
        "attempts",
        "budget",
        "call",
        "clock",
        "deadline",
        "errors",
        "retry_after",
        "spec",
        "started",
        "stop_reason",
        "targets",
    )

    def __init__(
        self,
        spec: Spec,
        call: Call,
        targets: Mapping[str, Target],
        clock: Callable[[], float],
        budget: RetryBudget | None = None,
    ) -> None:
        self.spec = spec
        self.call = call
        self.targets = targets
        self.clock = clock
        self.budget = budget
        self.started = clock()
        self.deadline = self.started + call.task.timeouts.total
        self._pending = [_Entry(targets[c.model]) for c in call.plan.chain]
        self._min_window: int | None = None
        self._inflight: dict[str, _Entry] = {}
        self.attempts: list[Attempt] = []
        self.errors: list[ProviderError] = []
        self.stop_reason: str | None = None
        self.retry_after: float | None = None
        if budget is not None:
            budget.request()

    # -- what next ----------------------------------------------------------------------------

    def _fits(self, entry: _Entry) -> bool:
        window = entry.target.model.context_window
        return self._min_window is None or window is None or window > self._min_window

    def next_step(self) -> Go | Wait | None:
        """What the driver should do next."""
        self._pending = [e for e in self._pending if self._fits(e)]
        if not self._pending:
            return None
        now = self.clock()
        remaining = self.deadline - now
        if remaining <= 0:
            self._out_of_time()
            return None
        chosen: _Entry | None = None
        blocker: _Entry | None = None
        for entry in self._pending:
            if entry.not_before <= now:
                chosen = entry
                break
            if entry.sticky:
                blocker = entry
                break
        if chosen is not None:
            self._pending.remove(chosen)
            per_attempt = self.call.timeout or self.spec.attempt_timeout(
                self.call.task, chosen.target.model
            )
            self._inflight[chosen.target.model.name] = chosen
            return Go(chosen.target, min(per_attempt, remaining))
        waiting = [blocker] if blocker is not None else self._pending
        earliest = min(waiting, key=lambda e: e.not_before)
        wait = earliest.not_before - now
        if all(e.circuit for e in waiting) and self.call.task.on_all_open == "fail":
            self.retry_after = wait
            self.stop_reason = (
                f"every remaining model's circuit is open; retry in {wait:.1f}s (on_all_open: fail)"
            )
            self._pending.clear()
            return None
        if wait >= remaining:
            self.retry_after = wait
            self.stop_reason = (
                f"the next model frees up in {wait:.1f}s, after the request's deadline "
                f"({remaining:.1f}s left)"
            )
            self._pending.clear()
            return None
        return Wait(wait)

    def _out_of_time(self) -> None:
        target = self._pending[0].target
        self._record(
            target,
            TimeoutError(
                f"the request's deadline of {self.call.task.timeouts.total:g}s passed "
                "before this model could be tried",
                provider=target.provider,
                model=target.model.name,
            ),
            0.0,
            "skipped",
        )
        self.stop_reason = "the request's deadline passed"
        self._pending.clear()

    # -- outcomes -----------------------------------------------------------------------------

    def _record(
        self, target: Target, error: ProviderError, latency: float, outcome: str = "error"
    ) -> None:
        self.errors.append(error)
        self.attempts.append(
            Attempt(target.model.name, target.provider, outcome, error, latency)  # type: ignore[arg-type]
        )

    def failed(self, target: Target, error: ProviderError, latency: float) -> bool:
        """Record a failed attempt; True when the run should go on (``next_step``)."""
        entry = self._inflight.pop(target.model.name, None) or _Entry(target)
        task = self.call.task
        now = self.clock()
        if error.local:
            # Refused before sending: the model frees up later; nothing counts as a retry.
            self._record(target, error, latency, "skipped")
            entry.not_before = now + (error.retry_after or 0.0)
            entry.circuit = error.circuit_open
            entry.sticky = error.kind == "rate_limit" and task.on_limit == "wait"
            self._requeue(entry)
            return True
        self._record(target, error, latency)
        entry.sends += 1
        if error.kind == "context_window":
            self._min_window = max(self._min_window or 0, target.model.context_window or 0)
        moves_on = error.kind in task.fallback_on
        retry = task.retry
        wait = error.retry_after
        if (
            error.retriable
            and entry.sends < retry.attempts
            and (wait is None or wait <= retry.max_retry_after)
            and (self.budget is None or self.budget.try_retry())
        ):
            entry.not_before = now + (wait if wait is not None else backoff(retry, entry.sends))
            entry.circuit = False
            entry.sticky = retry.prefer == "same_model"
            if not moves_on:
                self._pending.clear()
            self._requeue(entry)
            return True
        if not moves_on:
            self.stop_reason = f"{type(error).__name__} does not move to the next model"
            self._pending.clear()
            return False
        return bool(self._pending)

    def _requeue(self, entry: _Entry) -> None:
        if entry.sticky:
            self._pending.insert(0, entry)
        else:
            self._pending.append(entry)

    def refused(self, target: Target, finish_reason: str | None) -> ContentFiltered | None:
        """Providers report refusals as a normal answer (finish_reason content_filter). When
        the task moves on after content filtering, such an answer counts as a failure."""
        if finish_reason != "content_filter" or "content_filter" not in self.call.task.fallback_on:
            return None
        return ContentFiltered(
            "the provider refused to answer (finish_reason content_filter)",
            provider=target.provider,
            model=target.model.name,
        )

    def cancel_inflight(self, latency: float, keep: str | None = None) -> None:
        """Hedged attempts still in flight (but ``keep``, the winner) lost the race and were
        cancelled: recorded as such, never retried."""
        for name, entry in list(self._inflight.items()):
            if name == keep:
                continue
            target = entry.target
            self.attempts.append(
                Attempt(target.model.name, target.provider, "cancelled", None, latency)
            )
            del self._inflight[name]

    def succeeded(self, target: Target, response: Response, latency: float) -> Response:
        self._inflight.pop(target.model.name, None)
        self.attempts.append(
            Attempt(target.model.name, target.provider, "ok", None, latency, response.cached)
        )
        return Response(
            response.content,
            response.finish_reason,
            response.usage,
            target.model.name,
            response.model_id,
            target.provider,
            0.0 if response.cached else cost_of(target.model, response.usage),
            self.clock() - self.started,
            response.cached,
            tuple(self.attempts),
            response.tool_calls,
            response.raw_id,
        )

    def give_up(self) -> AllModelsFailed:
        task = self.call.task.name
        if not self.errors:
            skipped = "; ".join(f"{c.model}: {c.skipped}" for c in self.call.plan.skipped)
            detail = f" (skipped: {skipped})" if skipped else ""
            return AllModelsFailed(
                f"task '{task}': no model can serve this request{detail}",
                [RequestError(f"no model can serve task '{task}'{detail}")],
                task=task,
            )
        reason = self.stop_reason or "every model in the chain failed"
        failed = AllModelsFailed(f"task '{task}': {reason}", self.errors, task=task)
        failed.retry_after = self.retry_after
        return failed
