"""The decision core shared by the sync and async drivers: no I/O here.

:func:`prepare_call` checks a call's arguments and builds its plan; :class:`ChainRun` walks
the plan, says which target is next, what an error means (try the next model, or stop), and
builds the final :class:`~router.types.Response` or :class:`~router.errors.AllModelsFailed`.
The drivers in :mod:`router.engine` only perform the calls it asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from router.errors import (
    AllModelsFailed,
    ContentFiltered,
    ProviderError,
    RequestError,
    TimeoutError,
)
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

    @property
    def task(self) -> TaskSpec:
        return self.plan.task


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
) -> Call:
    """Check the call's arguments and plan it; raise RequestError for anything invalid."""
    refused = sorted(REFUSED_PARAMS & params.keys())
    if refused:
        raise RequestError(
            f"per-call {', '.join(refused)} is refused: endpoints, keys and models come from "
            "the routing spec (choose models with tasks and rules)"
        )
    unknown = sorted(params.keys() - CALL_PARAMS)
    if unknown:
        raise RequestError(
            f"unknown parameter {', '.join(unknown)}; accepted: {', '.join(sorted(CALL_PARAMS))}"
        )
    if (messages is None) == (prompt is None):
        raise RequestError("pass exactly one of messages=[...] or prompt='...'")
    try:
        msgs = (Message("user", prompt),) if prompt is not None else coerce_messages(messages or ())
    except (TypeError, ValueError) as exc:
        raise RequestError(f"invalid messages: {exc}") from None
    if not msgs:
        raise RequestError("messages is empty")
    try:
        tools = tuple(
            t if isinstance(t, ToolDefinition) else ToolDefinition.from_dict(t)
            for t in params.get("tools") or ()
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
    plan = make_plan(spec, features, unavailable=unavailable)
    if not any(m.role == "system" for m in msgs):
        msgs = (Message("system", plan.task.system_prompt), *msgs)
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
    )


def build_request(spec: Spec, call: Call, target: Target, timeout: float | None) -> Request:
    model = target.model
    p = call.overrides.over(spec.params_for(call.task, model))
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
    return Request(
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


class ChainRun:
    """Bookkeeping for one request walking its chain: which target is next, what each error
    means, and every attempt made. ``clock`` is monotonic seconds (injected in tests)."""

    __slots__ = (
        "_min_window",
        "_pending",
        "attempts",
        "call",
        "clock",
        "deadline",
        "errors",
        "spec",
        "started",
        "targets",
    )

    def __init__(
        self,
        spec: Spec,
        call: Call,
        targets: Mapping[str, Target],
        clock: Callable[[], float],
    ) -> None:
        self.spec = spec
        self.call = call
        self.targets = targets
        self.clock = clock
        self.started = clock()
        total = call.task.timeouts.total
        self.deadline = self.started + total
        self._pending = list(call.plan.chain)
        self._min_window: int | None = None
        self.attempts: list[Attempt] = []
        self.errors: list[ProviderError] = []

    def next_target(self) -> tuple[Target, float] | None:
        """The next target to try and the timeout for that attempt, or None when done."""
        while self._pending:
            candidate = self._pending.pop(0)
            target = self.targets[candidate.model]
            window = target.model.context_window
            if self._min_window is not None and window is not None and window <= self._min_window:
                continue  # after "context window exceeded", only larger windows can help
            remaining = self.deadline - self.clock()
            if remaining <= 0:
                self._record(
                    target,
                    TimeoutError(
                        f"the request's deadline of {self.call.task.timeouts.total:g}s passed "
                        "before this model could be tried",
                        provider=target.provider,
                        model=target.model.name,
                    ),
                    0.0,
                )
                self._pending.clear()
                return None
            per_attempt = self.call.timeout or self.spec.attempt_timeout(
                self.call.task, target.model
            )
            return target, min(per_attempt, remaining)
        return None

    def _record(self, target: Target, error: ProviderError, latency: float) -> None:
        self.errors.append(error)
        self.attempts.append(Attempt(target.model.name, target.provider, "error", error, latency))

    def failed(self, target: Target, error: ProviderError, latency: float) -> bool:
        """Record a failed attempt; True when the chain should move to its next target."""
        self._record(target, error, latency)
        if error.kind == "context_window":
            self._min_window = max(self._min_window or 0, target.model.context_window or 0)
        return error.kind in self.call.task.fallback_on

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

    def succeeded(self, target: Target, response: Response, latency: float) -> Response:
        self.attempts.append(Attempt(target.model.name, target.provider, "ok", None, latency))
        return replace(
            response,
            model=target.model.name,
            provider=target.provider,
            cost=cost_of(target.model, response.usage),
            latency_s=self.clock() - self.started,
            attempts=tuple(self.attempts),
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
        last = self.errors[-1]
        if last.kind not in self.call.task.fallback_on and self._pending:
            reason = f"stopped: {type(last).__name__} does not move to the next model"
        else:
            reason = "every model in the chain failed"
        return AllModelsFailed(f"task '{task}': {reason}", self.errors, task=task)
