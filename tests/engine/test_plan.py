"""make_plan as a pure function of the spec and the request: no sandbox, no I/O."""

from __future__ import annotations

from typing import Any

import pytest

from router.errors import RequestError
from router.routing.features import request_features
from router.routing.plan import Plan, cheapest_only, make_plan
from router.spec import Spec, validate_bytes
from router.types import ImagePart, Message, TextPart

MODELS = """
version: 1
providers:
  p: {type: openai_compatible, base_url: "http://127.0.0.1:9/v1", local: true}
models:
  cheap:
    provider: p
    id: cheap
    pricing: {input: 0.1, output: 0.2}
    context_window: 8000
    max_output_tokens: 1000
    capabilities: [streaming]
    latency: {p50: 3.0}
    quality: 3
  mid:
    provider: p
    id: mid
    pricing: {input: 1, output: 2}
    context_window: 32000
    max_output_tokens: 2000
    capabilities: [streaming, tools, json]
    latency: {p50: 1.0}
    quality: 6
  pricey:
    provider: p
    id: pricey
    pricing: {input: 10, output: 30}
    context_window: 200000
    max_output_tokens: 4000
    capabilities: [streaming, tools, vision, json]
    latency: {p50: 2.0}
    quality: 9
  free:
    provider: p
    id: free
    context_window: 8000
  twin-a:
    provider: p
    id: twin-a
    pricing: {input: 1, output: 1}
    context_window: 8000
  twin-b:
    provider: p
    id: twin-b
    pricing: {input: 1, output: 1}
    context_window: 8000
  batch:
    provider: p
    id: batch
    context_window: 8000
    capabilities: [json]
    quality: 5
"""


def spec_of(tasks_and_rules: str) -> Spec:
    report = validate_bytes((MODELS + tasks_and_rules).encode(), "plan.yaml", environ={})
    assert report.spec is not None, [d.render() for d in report.errors]
    return report.spec


def plan_for(
    spec: Spec,
    task: str,
    text: str = "Hello.",
    *,
    messages: tuple[Message, ...] | None = None,
    unavailable: Any = None,
    **features: Any,
) -> Plan:
    msgs = messages if messages is not None else (Message("user", text),)
    f = request_features(task, msgs, **features)
    if unavailable is None:
        return make_plan(spec, f)
    return make_plan(spec, f, unavailable=unavailable)


def skipped(plan: Plan) -> dict[str, str | None]:
    return {c.model: c.skipped for c in plan.skipped}


# --- rules ---------------------------------------------------------------------------------

RULES = """
tasks:
  main:
    candidates: [cheap, mid]
    fallback: [free]
  other:
    candidates: [pricey]
    fallback: [twin-a]
rules:
  - name: first-tagged
    when: {tags: [vip]}
    candidates: [pricey]
  - name: gold
    when: {metadata: {tier: [gold, platinum]}}
    priority: quality
  - name: reroute
    when: {tags: [elsewhere]}
    route_to: other
  - name: big
    when: {min_input_tokens: 1000}
    exclude: [cheap, free]
  - name: pictures
    when: {capabilities: [vision]}
    candidates: [pricey]
  - name: pair
    when: {tags: [a, b], task: [main]}
    candidates: [twin-b]
"""


def test_first_matching_rule_wins_even_when_a_later_rule_is_more_specific() -> None:
    plan = plan_for(spec_of(RULES), "main", tags=["vip"], metadata={"tier": "gold"})
    assert plan.rule is not None and plan.rule.name == "first-tagged"
    assert plan.models == ("pricey",)


def test_no_rule_matches_a_plain_request() -> None:
    plan = plan_for(spec_of(RULES), "main")
    assert plan.rule is None
    assert plan.models == ("cheap", "mid", "free")


def test_route_to_serves_the_request_with_the_other_tasks_candidates_and_fallbacks() -> None:
    plan = plan_for(spec_of(RULES), "main", tags=["elsewhere"])
    assert plan.task.name == "other" and plan.requested_task == "main"
    assert plan.models == ("pricey", "twin-a")


def test_rule_candidates_replace_the_tasks_candidates_and_confine_its_fallbacks() -> None:
    plan = plan_for(spec_of(RULES), "main", tags=["vip"])
    assert plan.models == ("pricey",)
    assert plan.confined == frozenset({"pricey"})
    assert skipped(plan) == {
        "free": "outside rule 'first-tagged' (its candidates confine the request)"
    }


def test_rule_exclude_removes_models_from_candidates_and_fallbacks_with_a_reason() -> None:
    plan = plan_for(spec_of(RULES), "main", text="x" * 5000)
    assert plan.rule is not None and plan.rule.name == "big"
    assert plan.models == ("mid",)
    assert skipped(plan) == {"cheap": "excluded by rule 'big'", "free": "excluded by rule 'big'"}


def test_rule_priority_replaces_the_tasks_priority() -> None:
    plan = plan_for(spec_of(RULES), "main", metadata={"tier": "platinum"})
    assert plan.rule is not None and plan.rule.name == "gold"
    assert plan.priority.name == "quality"
    assert plan.models == ("mid", "cheap", "free")


def test_metadata_rule_needs_the_key_with_an_allowed_value() -> None:
    spec = spec_of(RULES)
    assert plan_for(spec, "main", metadata={"tier": "silver"}).rule is None
    assert plan_for(spec, "main", metadata={"other": "gold"}).rule is None


def test_tags_rule_needs_every_tag_and_its_task() -> None:
    spec = spec_of(RULES)
    assert plan_for(spec, "main", tags=["a"]).rule is None
    assert plan_for(spec, "other", tags=["a", "b"]).rule is None
    matched = plan_for(spec, "main", tags=["b", "a", "c"]).rule
    assert matched is not None and matched.name == "pair"


def test_min_input_tokens_rule_matches_only_large_prompts() -> None:
    spec = spec_of(RULES)
    assert plan_for(spec, "main", text="x" * 100).rule is None
    big = plan_for(spec, "main", text="x" * 4000)  # ~1005 estimated tokens
    assert big.features.input_tokens >= 1000
    assert big.rule is not None and big.rule.name == "big"


def test_capabilities_rule_matches_requests_with_images() -> None:
    image = Message("user", (TextPart("What is it?"), ImagePart(url="https://e.x/a.png")))
    plan = plan_for(spec_of(RULES), "main", messages=(image,))
    assert "vision" in plan.features.capabilities
    assert plan.rule is not None and plan.rule.name == "pictures"
    assert plan.models == ("pricey",)  # the fallback 'free' lacks vision


# --- constraints -----------------------------------------------------------------------------

CONSTRAINTS = """
tasks:
  tooling:
    candidates: [mid, pricey]
    constraints: {require: [tools]}
  anything:
    candidates: [cheap, mid, pricey, free]
    fallback: [batch]
  budget:
    candidates: [cheap, mid, pricey]
    constraints: {max_cost_per_call: 0.01}
  roomy:
    candidates: [pricey]
    constraints: {min_context_window: 100000}
rules:
  - name: private
    when: {tags: [private]}
    candidates: [cheap, pricey]
"""


def test_required_capability_holds_for_candidates_a_rule_chose() -> None:
    plan = plan_for(spec_of(CONSTRAINTS), "tooling", tags=["private"])
    assert plan.models == ("pricey",)
    assert skipped(plan) == {"cheap": "lacks tools"}


@pytest.mark.parametrize(
    ("features", "lacking", "missing"),
    [
        ({"tools": True}, "cheap", "tools"),
        ({"json_output": True}, "cheap", "json"),
        ({"stream": True}, "batch", "streaming"),
    ],
)
def test_capabilities_the_request_needs_skip_models_without_them(
    features: dict[str, Any], lacking: str, missing: str
) -> None:
    plan = plan_for(spec_of(CONSTRAINTS), "anything", **features)
    assert lacking not in plan.models
    assert skipped(plan)[lacking] == f"lacks {missing}"


def test_an_image_needs_vision() -> None:
    image = Message("user", (ImagePart(data="AAAA", media_type="image/png"),))
    plan = plan_for(spec_of(CONSTRAINTS), "anything", messages=(image,))
    assert plan.models == ("pricey",)
    assert set(skipped(plan).values()) == {"lacks vision"}


def test_context_window_must_fit_input_plus_expected_output() -> None:
    plan = plan_for(spec_of(CONSTRAINTS), "anything", text="x" * 40_000, max_tokens=500)
    needed = plan.features.input_tokens + 500
    assert plan.models == ("mid", "pricey")
    too_small = f"context window 8,000 < ~{needed:,} tokens needed"
    assert skipped(plan) == {"cheap": too_small, "free": too_small, "batch": too_small}


def test_expected_output_is_capped_by_the_models_max_output_tokens() -> None:
    # 7,000 input + max_tokens 5,000 would not fit 8,000, but cheap writes at most 1,000.
    plan = plan_for(spec_of(CONSTRAINTS), "anything", text="x" * 27_000, max_tokens=5000)
    assert "cheap" in plan.models
    assert "free" in skipped(plan)


def test_max_cost_per_call_skips_expensive_models_with_the_estimate() -> None:
    plan = plan_for(spec_of(CONSTRAINTS), "budget", text="x" * 4000, max_tokens=1000)
    assert plan.models == ("cheap", "mid")
    reason = skipped(plan)["pricey"]
    assert reason is not None
    assert reason.startswith("estimated $") and reason.endswith("> max_cost_per_call $0.01")


def test_unavailable_models_are_skipped_with_the_reason_given() -> None:
    plan = plan_for(
        spec_of(CONSTRAINTS),
        "anything",
        unavailable=lambda m: "KEY is not set" if m.name == "mid" else None,
    )
    assert "mid" not in plan.models
    assert skipped(plan) == {"mid": "KEY is not set"}


def test_min_context_window_applies_to_candidates_chosen_by_a_rule() -> None:
    plan = plan_for(spec_of(CONSTRAINTS), "roomy", tags=["private"])
    assert plan.models == ("pricey",)
    reason = skipped(plan)["cheap"]
    assert reason is not None and "min_context_window" in reason


# --- ordering --------------------------------------------------------------------------------

ORDER = """
tasks:
  by-cost: {candidates: [free, pricey, mid, cheap], priority: cost}
  by-latency: {candidates: [free, cheap, pricey, mid], priority: latency}
  by-quality: {candidates: [free, cheap, mid, pricey], priority: quality}
  weighted: {candidates: [cheap, pricey, mid], priority: {cost: 0.5, quality: 0.5}}
  weighted-reversed: {candidates: [pricey, cheap, mid], priority: {cost: 0.5, quality: 0.5}}
  twins: {candidates: [twin-b, twin-a]}
  one-rated: {candidates: [free, batch], priority: quality}
"""


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("by-cost", ("cheap", "mid", "free", "pricey")),
        ("by-latency", ("mid", "pricey", "free", "cheap")),
        ("by-quality", ("pricey", "mid", "free", "cheap")),
    ],
)
def test_single_criterion_orders_best_first_and_unknown_values_rank_as_the_worst(
    task: str, expected: tuple[str, ...]
) -> None:
    # 'free' has no pricing, latency or quality: it scores like the worst known model and,
    # listed before it, stays ahead of it (ties keep spec order).
    assert plan_for(spec_of(ORDER), task).models == expected


def test_a_single_known_quality_ranks_ahead_of_unknown_quality() -> None:
    # Scaling a single known value must make it the best, not tie it with the unknowns.
    assert plan_for(spec_of(ORDER), "one-rated").models == ("batch", "free")


def test_weights_combine_scaled_criteria_and_ties_keep_spec_order() -> None:
    # cheap: best cost, worst quality; pricey: the opposite; both score 0.5. mid beats both.
    spec = spec_of(ORDER)
    plan = plan_for(spec, "weighted")
    assert plan.models == ("mid", "cheap", "pricey")
    scores = {c.model: c.score for c in plan.chain}
    assert scores["cheap"] == scores["pricey"] == 0.5
    assert plan_for(spec, "weighted-reversed").models == ("mid", "pricey", "cheap")


def test_identical_models_keep_the_order_the_spec_lists_them_in() -> None:
    assert plan_for(spec_of(ORDER), "twins").models == ("twin-b", "twin-a")


# --- fallback chains -------------------------------------------------------------------------

CHAINS = """
tasks:
  main:
    candidates: [mid, cheap]
    fallback: [cheap, {task: backup}, twin-b, mid]
  backup:
    candidates: [twin-b, pricey]
    priority: quality
    fallback: [free, cheap]
  capped:
    candidates: [cheap, mid]
    fallback: [{task: backup}]
    max_attempts: 3
"""


def test_task_fallback_expands_to_that_tasks_ordered_candidates_then_its_fallbacks() -> None:
    plan = plan_for(spec_of(CHAINS), "main")
    assert plan.models == ("cheap", "mid", "pricey", "twin-b", "free")
    roles = {c.model: c.role for c in plan.chain}
    assert roles["pricey"] == "fallback via task 'backup'"
    assert roles["free"] == "fallback via task 'backup'"


def test_duplicate_models_in_a_chain_are_tried_once() -> None:
    plan = plan_for(spec_of(CHAINS), "main")
    assert len(plan.models) == len(set(plan.models))


def test_max_attempts_truncates_the_chain_and_counts_the_rest() -> None:
    plan = plan_for(spec_of(CHAINS), "capped")
    assert plan.models == ("cheap", "mid", "pricey")
    assert plan.truncated == 2  # twin-b and free


# --- tasks -----------------------------------------------------------------------------------


def test_unknown_task_without_default_is_a_request_error_naming_known_tasks() -> None:
    with pytest.raises(RequestError, match=r"unknown task 'nope'.*backup, capped, main"):
        plan_for(spec_of(CHAINS), "nope")


def test_unknown_task_is_served_by_default_task() -> None:
    spec = spec_of("tasks:\n  default: {candidates: [cheap]}\n  main: {candidates: [mid]}\n")
    plan = plan_for(spec, "nope")
    assert plan.task.name == "default" and plan.requested_task == "nope"
    assert plan.models == ("cheap",)


# --- confinement: nothing after a confining rule reaches outside it ----------------------------

CONFINED = """
tasks:
  main:
    candidates: [cheap, mid]
    fallback: [free, {task: backup}]
  backup:
    candidates: [pricey, twin-a]
    fallback: [twin-b, {task: last}]
  last:
    candidates: [batch]
  default:
    candidates: [mid]
    fallback: [pricey, {task: backup}]
rules:
  - name: keep-local
    when: {tags: [local]}
    candidates: [cheap]
  - name: local-then-twin
    when: {tags: [widened]}
    candidates: [cheap]
    fallback: [twin-a]
  - name: local-then-backup
    when: {tags: [backup-chain]}
    candidates: [cheap]
    fallback: [{task: backup}]
  - name: no-fallback
    when: {tags: [no-fallback]}
    fallback: []
  - name: twins-only
    when: {tags: [twins]}
    only: [twin-a, twin-b, mid]
  - name: rerouted
    when: {tags: [rerouted]}
    route_to: backup
    candidates: [twin-a]
  - name: rerouted-twins
    when: {tags: [rerouted-twins]}
    route_to: backup
    only: [twin-b, batch]
  - name: no-pricey
    when: {tags: [no-pricey]}
    exclude: [pricey, batch]
"""

OUTSIDE = "outside rule '{}' (its candidates confine the request)"


def test_a_confining_rule_drops_task_fallbacks_and_task_fallback_chains_outside_it() -> None:
    plan = plan_for(spec_of(CONFINED), "main", tags=["local"])
    assert plan.models == ("cheap",)
    # free is a direct fallback; pricey, twin-a, twin-b (backup) and batch (last, via backup)
    # come through {task: NAME} fallbacks, recursively: every one is outside.
    assert skipped(plan) == dict.fromkeys(
        ["free", "pricey", "twin-a", "twin-b", "batch"], OUTSIDE.format("keep-local")
    )


def test_the_default_tasks_chain_stays_inside_the_confinement() -> None:
    plan = plan_for(spec_of(CONFINED), "no-such-task", tags=["local"])
    assert plan.task.name == "default"
    assert plan.models == ("cheap",)
    assert set(skipped(plan)) == {"pricey", "twin-a", "twin-b", "batch"}


def test_a_rules_fallback_widens_the_confinement_by_exactly_its_models() -> None:
    plan = plan_for(spec_of(CONFINED), "main", tags=["widened"])
    assert plan.models == ("cheap", "twin-a")
    assert plan.confined == frozenset({"cheap", "twin-a"})
    assert [c.role for c in plan.chain] == ["candidate", "fallback"]
    # The rule's fallback replaces the task's: main's fallbacks are not walked at all.
    assert skipped(plan) == {}


def test_a_task_entry_in_a_rules_fallback_brings_that_tasks_whole_chain() -> None:
    plan = plan_for(spec_of(CONFINED), "main", tags=["backup-chain"])
    assert plan.models == ("cheap", "twin-a", "pricey", "twin-b", "batch")
    assert plan.confined == frozenset(plan.models)
    assert "mid" not in plan.models and "free" not in plan.models


def test_an_empty_rule_fallback_removes_the_tasks_fallbacks_without_confining() -> None:
    plan = plan_for(spec_of(CONFINED), "main", tags=["no-fallback"])
    assert plan.models == ("cheap", "mid")
    assert plan.confined is None


def test_only_keeps_the_tasks_candidates_and_fallbacks_that_are_inside_it() -> None:
    plan = plan_for(spec_of(CONFINED), "main", tags=["twins"])
    assert plan.models == ("mid", "twin-a", "twin-b")
    reason = "outside rule 'twins-only' (its only list confines the request)"
    assert skipped(plan) == dict.fromkeys(["cheap", "free", "pricey", "batch"], reason)


def test_route_to_with_candidates_stays_inside_the_rules_confinement() -> None:
    plan = plan_for(spec_of(CONFINED), "main", tags=["rerouted"])
    assert plan.task.name == "backup"
    assert plan.models == ("twin-a",)
    assert set(skipped(plan)) == {"twin-b", "batch"}


def test_route_to_with_only_keeps_the_routed_tasks_chain_inside_the_set() -> None:
    plan = plan_for(spec_of(CONFINED), "main", tags=["rerouted-twins"])
    assert plan.task.name == "backup"
    assert plan.models == ("twin-b", "batch")
    assert set(skipped(plan)) == {"pricey", "twin-a"}


def test_exclude_removes_models_from_task_fallback_chains_too() -> None:
    plan = plan_for(spec_of(CONFINED), "main", tags=["no-pricey"])
    assert plan.models == ("cheap", "mid", "free", "twin-a", "twin-b")
    assert skipped(plan) == dict.fromkeys(["pricey", "batch"], "excluded by rule 'no-pricey'")


def test_the_cheapest_model_under_a_spend_cap_is_chosen_inside_the_confinement() -> None:
    plan = plan_for(spec_of(CONFINED), "main", tags=["twins"])
    narrowed = cheapest_only(plan)
    # cheap (the cheapest model of the task) is outside the rule: twin-a is the cheapest inside.
    assert narrowed.models == ("twin-a",)
    assert set(narrowed.models) <= set(plan.models)


# --- constraints through {task: NAME} fallbacks -------------------------------------------------

THROUGH = """
tasks:
  extract:
    candidates: [mid]
    constraints: {require: [json]}
    fallback: [{task: general}]
  general:
    candidates: [cheap, batch]
    fallback: [pricey]
  roomy:
    candidates: [pricey]
    constraints: {min_context_window: 100000}
    fallback: [{task: general}]
  capped-extract:
    candidates: [batch]
    constraints: {require: [json], max_cost_per_call: 0.02}
    fallback: [{task: thrifty}]
  thrifty:
    candidates: [pricey, mid]
    constraints: {max_cost_per_call: 0.005}
"""


def test_the_requested_tasks_required_capabilities_hold_through_task_fallbacks() -> None:
    plan = plan_for(spec_of(THROUGH), "extract")
    # general itself requires nothing, but a request for extract needs json all the way.
    assert plan.models == ("mid", "batch", "pricey")
    assert skipped(plan) == {"cheap": "lacks json"}
    assert [c.role for c in plan.chain] == ["candidate"] + ["fallback via task 'general'"] * 2


def test_min_context_window_holds_through_task_fallbacks() -> None:
    plan = plan_for(spec_of(THROUGH), "roomy")
    assert plan.models == ("pricey",)
    assert set(skipped(plan)) == {"cheap", "batch"}
    for reason in skipped(plan).values():
        assert reason is not None and "min_context_window 100,000" in reason


def test_both_tasks_cost_caps_hold_for_a_fallback_tasks_models() -> None:
    plan = plan_for(spec_of(THROUGH), "capped-extract", text="x" * 4000, max_tokens=1000)
    # pricey (~$0.04) is above both caps; mid (~$0.003) is under both.
    assert plan.models == ("batch", "mid")
    reason = skipped(plan)["pricey"]
    assert reason is not None and reason.endswith("> max_cost_per_call $0.005")
