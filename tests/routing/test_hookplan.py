"""Which hooks a request passes, and in what order (routing/hookplan.py): the spec's
``defaults.hooks``, the asked task's, a ``route_to`` task's, the matched rule's; each name
once; none for a request nothing attaches hooks to. Planned by the real loader and planner."""

from __future__ import annotations

from router.routing.call import prepare_call
from router.routing.hookplan import hook_names
from router.specmodel import Spec

from .helpers import load

TASKS = """\
  chat: {candidates: [small], fallback: [{task: other}], hooks: [mask, audit]}
  other: {candidates: [medium], hooks: [other-only]}
  bare: {candidates: [small]}
"""
EXTRA = """\
defaults:
  hooks: [audit]
rules:
  - name: long
    when: {task: chat, tags: [long]}
    route_to: other
    hooks: [strict, mask]
"""


def _spec(extra: str = EXTRA) -> Spec:
    return load(TASKS, extra=extra)


def _hooks(spec: Spec, task: str, **params: object) -> list[tuple[str, str]]:
    plan = prepare_call(spec, task, None, "Hi.", params, stream=False, unavailable=lambda m: None)
    return [(h.name, h.origin) for h in plan.plan.hooks]


def test_defaults_then_the_task_each_name_once() -> None:
    assert _hooks(_spec(), "chat") == [("audit", "defaults"), ("mask", "task 'chat'")]


def test_a_routed_request_passes_the_asked_tasks_the_routed_tasks_and_the_rules() -> None:
    assert _hooks(_spec(), "chat", tags=["long"]) == [
        ("audit", "defaults"),
        ("mask", "task 'chat'"),
        ("other-only", "task 'other'"),
        ("strict", "rule 'long'"),
    ]


def test_a_fallback_task_brings_no_hooks_and_bare_tasks_pass_only_the_defaults() -> None:
    spec = _spec()
    assert "other-only" not in [n for n, _ in _hooks(spec, "chat")]
    assert _hooks(spec, "bare") == [("audit", "defaults")]
    assert _hooks(_spec(extra=""), "bare") == []


def test_every_name_the_spec_lists_with_its_place() -> None:
    assert list(hook_names(_spec())) == [
        ("audit", ("defaults", "hooks", 0)),
        ("mask", ("tasks", "chat", "hooks", 0)),
        ("audit", ("tasks", "chat", "hooks", 1)),
        ("other-only", ("tasks", "other", "hooks", 0)),
        ("strict", ("rules", 0, "hooks", 0)),
        ("mask", ("rules", 0, "hooks", 1)),
    ]


def test_a_forced_rule_is_kept_when_the_request_no_longer_matches_it() -> None:
    spec = _spec()
    first = prepare_call(
        spec, "chat", None, "Hi.", {"tags": ["long"]}, stream=False, unavailable=lambda m: None
    )
    again = prepare_call(
        spec, "chat", None, "Hi.", {}, stream=False, unavailable=lambda m: None,
        rule=first.plan.rule,
    )  # fmt: skip
    assert again.plan.rule is first.plan.rule and again.plan.task.name == "other"
