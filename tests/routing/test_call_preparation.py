"""Call preparation without I/O: ``prepare_call`` (arguments checked, plan made, system prompt
added), ``build_request`` (one attempt's request: parameters layered, provider limits applied,
cache policy), ``ParamsCache`` and ``cost_of``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from router.errors import ConfigError, NoRouteError, RequestError
from router.providers.anthropic import DEFAULT_MAX_TOKENS as ANTHROPIC_DEFAULT_MAX_TOKENS
from router.routing.call import (
    CALL_PARAMS,
    REFUSED_PARAMS,
    Call,
    ParamsCache,
    build_request,
    cost_of,
    prepare_call,
)
from router.specmodel import ModelSpec, Params, Spec, TaskSpec
from router.types import Message, Request, Usage

from .helpers import Clock, call, load, targets

SPEC = "  default: {candidates: [small, medium, large]}\n"


def prepare(
    messages: Any = None,
    prompt: Any = None,
    task: Any = "default",
    *,
    spec: Spec | None = None,
    unavailable: Callable[[ModelSpec], str | None] = lambda m: None,
    route: bool = True,
    params_for: Any = None,
    **params: Any,
) -> Call:
    return prepare_call(
        spec or load(SPEC),
        task,
        messages,
        prompt,
        params,
        stream=False,
        unavailable=unavailable,
        params_for=params_for,
        route=route,
    )


def request_for(spec_tasks: str, model: str, *, extra: str = "", **params: Any) -> Request:
    spec = load(spec_tasks, extra=extra)
    target = targets(spec, Clock())[model]
    return build_request(spec, call(spec, **params), target, 12.0)


# --- prepare_call ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REFUSED_PARAMS))
def test_endpoints_keys_and_models_are_refused_per_call(name: str) -> None:
    with pytest.raises(RequestError, match=f"per-call {name} is refused") as caught:
        prepare(prompt="hi", **{name: "x"})
    assert caught.value.argument == name


def test_an_unknown_parameter_is_refused_listing_what_is_accepted() -> None:
    with pytest.raises(RequestError, match="unknown parameter temprature; accepted: ") as caught:
        prepare(prompt="hi", temprature=0.5)
    assert caught.value.argument == "temprature"
    assert all(name in str(caught.value) for name in CALL_PARAMS)


def test_a_task_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(RequestError, match="expected a task name \\(a string\\), got int") as c:
        prepare(prompt="hi", task=3)
    assert c.value.argument == "task"


def test_a_task_name_that_cannot_be_encoded_is_refused() -> None:
    with pytest.raises(RequestError, match="lone surrogate") as caught:
        prepare(prompt="hi", task="sum\ud800")
    assert caught.value.argument == "task"


@pytest.mark.parametrize(
    ("messages", "prompt"), [(None, None), ([{"role": "user", "content": "a"}], "b")]
)
def test_exactly_one_of_messages_and_prompt_is_required(messages: Any, prompt: Any) -> None:
    with pytest.raises(RequestError, match="pass exactly one of messages"):
        prepare(messages, prompt)


@pytest.mark.parametrize(
    ("messages", "argument"),
    [
        ("hi", "messages"),
        ([{"role": "bad", "content": "x"}], "messages[0].role"),
        ([{"role": "user"}], "messages[0].content"),
    ],
)
def test_invalid_messages_are_refused_naming_the_bad_part(messages: Any, argument: str) -> None:
    with pytest.raises(RequestError, match=r"^invalid messages: ") as caught:
        prepare(messages)
    assert caught.value.argument == argument


def test_messages_whose_iteration_raises_type_error_become_a_request_error() -> None:
    class Unreadable:
        def __iter__(self) -> Any:
            raise TypeError("cannot iterate")

    with pytest.raises(RequestError, match="invalid messages: cannot iterate") as caught:
        prepare(Unreadable())
    assert caught.value.argument == "messages"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_prompt_becomes_one_user_message_after_the_task_system_prompt() -> None:
    checked = prepare(prompt="hello")
    assert checked.messages == (
        Message("system", "You are a helpful assistant."),
        Message("user", "hello"),
    )


def test_a_call_with_its_own_system_message_gets_no_task_system_prompt() -> None:
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "hi"}]
    checked = prepare(messages)
    assert [m.role for m in checked.messages] == ["system", "user"]
    assert checked.messages[0].content == "Be terse."


def test_a_call_without_parameters_overrides_nothing_and_takes_the_defaults() -> None:
    checked = prepare(prompt="hi")
    assert checked.overrides == type(checked.overrides)()
    assert (checked.tools, checked.tool_choice, checked.response_format) == ((), None, None)
    assert (checked.timeout, checked.cache, checked.tenant) == (None, True, None)
    assert [c.model for c in checked.plan.chain] == ["small", "medium", "large"]


def test_per_call_parameters_are_checked_and_kept_for_each_attempt() -> None:
    checked = prepare(
        prompt="hi", temperature=0.2, max_tokens=50, stop="END", timeout=3, cache=False, tenant="t1"
    )
    assert (checked.overrides.temperature, checked.overrides.max_tokens) == (0.2, 50)
    assert checked.overrides.stop == ("END",)
    assert (checked.timeout, checked.cache, checked.tenant) == (3.0, False, "t1")


def test_a_plan_no_model_can_take_raises_no_route_naming_each_model() -> None:
    with pytest.raises(NoRouteError, match="no model can take this request") as caught:
        prepare(prompt="hi", response_format={"type": "json_object"})
    assert [m for m, _ in caught.value.skipped] == ["small", "medium", "large"]


def test_explain_plans_an_empty_chain_without_raising() -> None:
    checked = prepare(prompt="hi", route=False, response_format={"type": "json_object"})
    assert checked.plan.chain == ()
    assert len(checked.plan.skipped) == 3


def test_models_that_cannot_be_called_make_a_config_error_not_a_bad_request() -> None:
    with pytest.raises(ConfigError) as caught:
        prepare(prompt="hi", unavailable=lambda m: "ROUTER_TEST_KEY is not set")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "no-model-configured"
    assert diagnostic.path == "$.tasks.default"
    assert diagnostic.hint is not None and "small: ROUTER_TEST_KEY is not set" in diagnostic.hint


def test_the_plan_takes_its_parameters_from_the_given_params_for() -> None:
    spec = load(SPEC)
    seen: list[tuple[str, str]] = []

    def params_for(task: TaskSpec, model: ModelSpec) -> Params:
        seen.append((task.name, model.name))
        return spec.params_for(task, model)

    prepare(prompt="hi", spec=spec, params_for=params_for)
    assert ("default", "small") in seen


# --- build_request --------------------------------------------------------------------------


def test_the_request_layers_call_over_task_over_model_over_defaults() -> None:
    spec_tasks = (
        "  default:\n    candidates: [medium]\n    params: {temperature: 0.3, top_p: 0.9}\n"
    )
    extra = "defaults:\n  params: {temperature: 1.0, seed: 7, max_tokens: 300}\n"
    request = request_for(spec_tasks, "medium", extra=extra, temperature=0.1, stop=["x"])
    assert (request.temperature, request.top_p, request.seed) == (0.1, 0.9, 7)
    assert (request.max_tokens, request.stop, request.timeout) == (300, ("x",), 12.0)
    assert (request.model, request.model_id, request.provider) == ("medium", "medium-1", "oai")


def test_an_anthropic_request_always_asks_for_max_tokens_within_the_model_output() -> None:
    request = request_for("  default: {candidates: [large]}\n", "large")
    assert request.max_tokens == min(ANTHROPIC_DEFAULT_MAX_TOKENS, 8000)
    unlimited = load("  default: {candidates: [large]}\n")
    target = replace(
        targets(unlimited, Clock())["large"],
        model=replace(unlimited.models["large"], max_output_tokens=None),
    )
    assert build_request(unlimited, call(unlimited), target, 1.0).max_tokens == 4096


def test_an_openai_request_without_max_tokens_sends_none() -> None:
    assert request_for("  default: {candidates: [medium]}\n", "medium").max_tokens is None


def test_max_tokens_is_capped_by_the_model_max_output_tokens() -> None:
    request = request_for("  default: {candidates: [small]}\n", "small", max_tokens=5000)
    assert request.max_tokens == 1000


def test_penalties_go_to_openai_models_and_never_to_anthropic_ones() -> None:
    tasks = "  default: {candidates: [medium, large]}\n"
    penalties = {"presence_penalty": 0.5, "frequency_penalty": -0.5}
    openai = request_for(tasks, "medium", **penalties)
    assert openai.extra == penalties
    anthropic = request_for(tasks, "large", **penalties)
    assert anthropic.extra == {}
    assert request_for(tasks, "medium").extra == {}


def test_a_cached_task_caches_deterministic_answers_under_its_own_namespace() -> None:
    tasks = "  default: {candidates: [medium], cache: {enabled: true, ttl: 60}}\n"
    request = request_for(tasks, "medium")
    assert (request.cache_ttl, request.cache_namespace) == (60, "default")
    assert request_for(tasks, "medium", temperature=0).cache_ttl == 60


def test_a_sampled_answer_is_not_cached_unless_the_policy_allows_nonzero_temperature() -> None:
    tasks = "  default: {candidates: [medium], cache: {enabled: true, ttl: 60}}\n"
    assert request_for(tasks, "medium", temperature=0.7).cache_ttl is None
    allowed = (
        "  default: {candidates: [medium], cache: {enabled: true, nonzero_temperature: true}}\n"
    )
    assert request_for(allowed, "medium", temperature=0.7).cache_ttl == 3600


def test_a_call_can_opt_out_of_the_cache() -> None:
    tasks = "  default: {candidates: [medium], cache: {enabled: true}}\n"
    assert request_for(tasks, "medium", cache=False).cache_ttl is None


def test_an_uncached_task_sets_no_ttl() -> None:
    assert request_for("  default: {candidates: [medium]}\n", "medium").cache_ttl is None


def test_the_cache_namespace_is_the_policy_namespace_and_the_tenant() -> None:
    tasks = "  default: {candidates: [medium], cache: {enabled: true, namespace: shared}}\n"
    assert request_for(tasks, "medium").cache_namespace == "shared"
    assert request_for(tasks, "medium", tenant="acme").cache_namespace == "shared/acme"
    plain = "  default: {candidates: [medium]}\n"
    assert request_for(plain, "medium", tenant="acme").cache_namespace == "default/acme"


def test_tools_and_response_format_pass_through_to_the_request() -> None:
    tool = {"name": "lookup", "parameters": {"type": "object"}}
    tasks = "  default: {candidates: [tooled]}\n"
    spec = load(tasks)
    target = targets(spec, Clock())["tooled"]
    checked = call(spec, tools=[tool], tool_choice="auto", response_format={"type": "json_object"})
    request = build_request(spec, checked, target, None, ParamsCache(spec))
    assert [t.name for t in request.tools] == ["lookup"]
    assert request.tool_choice == "auto"
    assert request.response_format == {"type": "json_object"}


# --- ParamsCache and cost_of ----------------------------------------------------------------


def test_params_cache_computes_each_task_and_model_pair_once() -> None:
    spec = load("  default: {candidates: [small]}\n", extra="defaults:\n  params: {seed: 1}\n")
    cache = ParamsCache(spec)
    task, model = spec.tasks["default"], spec.models["small"]
    first = cache(task, model)
    assert first.seed == 1
    assert cache(task, model) is first


def test_params_cache_recomputes_for_a_different_task_object_of_the_same_name() -> None:
    spec = load("  default: {candidates: [small]}\n")
    cache = ParamsCache(spec)
    task, model = spec.tasks["default"], spec.models["small"]
    first = cache(task, model)
    changed = replace(task, params=replace(task.params, seed=9))
    assert cache(changed, model).seed == 9
    assert cache(changed, model) is not first


def test_cost_is_priced_from_the_spec_and_none_when_it_cannot_be() -> None:
    spec = load("  default: {candidates: [priced]}\n", base="priced.yaml")
    priced = spec.models["priced"]
    assert cost_of(priced, Usage(2_000_000, 1_000_000)) == pytest.approx(6.0 + 15.0)
    assert cost_of(priced, None) is None
    assert cost_of(load(SPEC).models["small"], Usage(10, 10)) is None
